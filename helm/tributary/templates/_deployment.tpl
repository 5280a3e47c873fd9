{{/*
One Deployment. Parameters (dict):
  root       the chart root ($)
  component  label/resource suffix (ingest, transcoder, viewer-api, event-gateway-fanout, event-gateway-stats)
  service    the service (image name, KafkaUser, ServiceAccount, ConfigMap): ingest, transcoder, viewer-api, event-gateway
  values     the service's values (.Values.ingest …)
  replicas   a replica count, or nil when an autoscaler owns it
  resources  container resources
  port       container port; portEnv the variable the service reads it from
  extraPorts more container ports (list of ContainerPort dicts)
  env        extra env entries (list of EnvVar dicts)
  volumes / volumeMounts   extra
  startup    start-up probe values (nil = probes.startup)
  pdb        PodDisruptionBudget values
*/}}
{{- define "tributary.deployment" -}}
{{- $root := .root }}
{{- $v := .values }}
{{- $labels := dict "root" $root "component" .component }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "tributary.fullname" $root }}-{{ .component }}
  labels:
    {{- include "tributary.labels" $labels | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .replicas) }}
  replicas: {{ .replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "tributary.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tributary.labels" $labels | nindent 8 }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmaps.yaml") $root | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "tributary.serviceAccountName" (dict "root" $root "service" .service "values" $v) }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      topologySpreadConstraints:
        {{- include "tributary.topologySpread" (dict "root" $root "component" .component "values" $v) | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .service }}
          image: {{ include "tributary.image" (dict "root" $root "service" .service) | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
            {{- with include "tributary.metricsPort" $root | int }}
            - name: metrics
              containerPort: {{ . }}
              protocol: TCP
            {{- end }}
            {{- with .extraPorts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ include "tributary.fullname" $root }}-{{ .service }}
          env:
            - name: {{ .portEnv }}
              value: {{ .port | quote }}
            {{- with include "tributary.metricsPort" $root | int }}
            - name: METRICS_PORT
              value: {{ . | quote }}
            {{- end }}
            {{- include "tributary.commonEnv" (dict "root" $root "service" .service) | nindent 12 }}
            {{- with .env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- include "tributary.probes" (dict "root" $root "startup" .startup) | nindent 10 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            {{- include "tributary.commonVolumeMounts" $root | nindent 12 }}
            {{- with .volumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "tributary.commonVolumes" (dict "root" $root "tmpSize" .tmpSize) | nindent 8 }}
        {{- with .volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- if .pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "tributary.fullname" $root }}-{{ .component }}
  labels:
    {{- include "tributary.labels" $labels | nindent 4 }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "tributary.selectorLabels" $labels | nindent 6 }}
{{- end }}
{{- end }}
