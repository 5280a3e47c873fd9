{{/* Names */}}
{{- define "tributary.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tributary.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tributary.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels. Call with (dict "root" $ "component" "ingest"). */}}
{{- define "tributary.labels" -}}
helm.sh/chart: {{ include "tributary.chart" .root }}
{{ include "tributary.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tributary
{{- end }}

{{- define "tributary.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tributary.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/* Every pod of the release (NetworkPolicy default deny, PodMonitor). */}}
{{- define "tributary.podsSelector" -}}
app.kubernetes.io/name: {{ include "tributary.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Image of a service: (dict "root" $ "service" "ingest") */}}
{{- define "tributary.image" -}}
{{- $img := .root.Values.image }}
{{- $repo := printf "%s/%s" $img.repository .service }}
{{- if $img.registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $img.registry) $repo }}{{ end }}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) }}
{{- end }}

{{- define "tributary.serviceAccountName" -}}
{{- $sa := .values.serviceAccount }}
{{- if $sa.create }}{{ default (printf "%s-%s" (include "tributary.fullname" .root) .service) $sa.name }}{{ else }}{{ default "default" $sa.name }}{{ end }}
{{- end }}

{{/* Topic/group name under TOPIC_PREFIX, exactly as topicName() in libs/contracts: (list prefix base) */}}
{{- define "tributary.topicName" -}}
{{- $prefix := index . 0 }}{{- $base := index . 1 }}
{{- if $prefix }}{{ printf "%s.%s" (trimSuffix "." $prefix) $base }}{{ else }}{{ $base }}{{ end }}
{{- end }}

{{/* Group id as the code builds it: (list prefix group) where group is an entry of files/kafka-access.json */}}
{{- define "tributary.groupName" -}}
{{- $prefix := index . 0 }}{{- $group := index . 1 }}
{{- if $group.underTopicPrefix }}{{ include "tributary.topicName" (list $prefix $group.name) }}{{ else }}{{ $group.name }}{{ end }}
{{- end }}

{{- define "tributary.kafkaAccess" -}}
{{- .Files.Get "files/kafka-access.json" }}
{{- end }}

{{/* Kafka */}}
{{- define "tributary.kafkaCluster" -}}
{{- default (printf "%s-kafka" (include "tributary.fullname" .)) .Values.kafka.clusterName | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "tributary.kafkaUser" -}}
{{- printf "%s-%s" (include "tributary.fullname" .root) .service | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tributary.kafkaBootstrap" -}}
{{- if .Values.kafka.create }}
{{- printf "%s-kafka-bootstrap.%s.svc:9093" (include "tributary.kafkaCluster" .) .Release.Namespace }}
{{- else }}
{{- required "kafka.existing.bootstrapServers is required when kafka.create is false" .Values.kafka.existing.bootstrapServers }}
{{- end }}
{{- end }}

{{/* CRD guards: fail with a clear message when a feature is on but its API is not served. */}}
{{- define "tributary.requireApi" -}}
{{- $root := index . 0 }}{{- $api := index . 1 }}{{- $what := index . 2 }}
{{- if not ($root.Capabilities.APIVersions.Has $api) }}
{{- fail (printf "%s needs the %s API, which this cluster does not serve. Install it first (see k8s/README.md) or turn the feature off. (helm template: pass --api-versions %s)" $what $api $api) }}
{{- end }}
{{- end }}

{{- define "tributary.kafkaApi" -}}
{{- if .Values.kafka.create }}{{ include "tributary.requireApi" (list . "kafka.strimzi.io/v1" "kafka.create=true (Strimzi Kafka, KafkaNodePool, KafkaTopic, KafkaUser)") }}true{{ end }}
{{- end }}

{{- define "tributary.kedaApi" -}}
{{- if .Values.keda.enabled }}{{ include "tributary.requireApi" (list . "keda.sh/v1alpha1" "keda.enabled=true (ScaledObject, TriggerAuthentication)") }}true{{ end }}
{{- end }}

{{/* Container env shared by every service: (dict "root" $ "service" "ingest") */}}
{{- define "tributary.commonEnv" -}}
{{- $v := .root.Values }}
- name: KAFKA_BROKERS
  value: {{ include "tributary.kafkaBootstrap" .root | quote }}
- name: TOPIC_PREFIX
  value: {{ $v.topicPrefix | quote }}
- name: KAFKA_EVENT_PARTITIONS
  value: {{ $v.kafka.topics.eventPartitions | quote }}
- name: KAFKA_VIDEO_PARTITIONS
  value: {{ $v.kafka.topics.videoPartitions | quote }}
- name: KAFKA_COMPRESSION
  value: {{ $v.kafka.compression | quote }}
{{- if $v.kafka.create }}
- name: KAFKA_REPLICATION_FACTOR
  value: {{ $v.kafka.replicationFactor | quote }}
- name: KAFKA_ENSURE_TOPICS
  value: "false"
- name: KAFKA_SSL
  value: "true"
- name: KAFKA_SSL_CA_FILE
  value: /etc/tributary/kafka-ca/ca.crt
- name: KAFKA_SASL_MECHANISM
  value: scram-sha-512
- name: KAFKA_SASL_USERNAME
  value: {{ include "tributary.kafkaUser" . | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tributary.kafkaUser" . }}
      key: password
{{- else }}
- name: KAFKA_ENSURE_TOPICS
  value: {{ $v.kafka.existing.ensureTopics | quote }}
- name: KAFKA_SSL
  value: {{ $v.kafka.existing.tls.enabled | quote }}
{{- if and $v.kafka.existing.tls.enabled $v.kafka.existing.tls.caSecret }}
- name: KAFKA_SSL_CA_FILE
  value: /etc/tributary/kafka-ca/{{ $v.kafka.existing.tls.caKey }}
{{- end }}
- name: KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.existing.sasl.mechanism | quote }}
{{- if ne $v.kafka.existing.sasl.mechanism "none" }}
- name: KAFKA_SASL_USERNAME
  value: {{ required "kafka.existing.sasl.username is required when a SASL mechanism is set" $v.kafka.existing.sasl.username | quote }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.existing.sasl.passwordSecret is required when a SASL mechanism is set" $v.kafka.existing.sasl.passwordSecret }}
      key: {{ $v.kafka.existing.sasl.passwordKey }}
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ $v.log.level | quote }}
- name: LOG_FORMAT
  value: {{ $v.log.format | quote }}
- name: METRICS_KAFKA_LAG_INTERVAL_MS
  value: {{ $v.metrics.kafkaLagIntervalMs | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .service | quote }}
- name: K8S_POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: K8S_NAMESPACE_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: K8S_NODE_NAME
  valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | quote }}
{{- end }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $v.otel.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $v.otel.samplerArg | quote }}
{{- /* k8s.pod.name, k8s.namespace.name and k8s.node.name come from K8S_* above (libs/telemetry). */}}
{{- if $v.otel.resourceAttributes }}
{{- $attrs := list }}
{{- range $k, $val := $v.otel.resourceAttributes }}{{ $attrs = append $attrs (printf "%s=%s" $k $val) }}{{ end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- end }}
{{- end }}

{{/* Volumes every pod needs: writable /tmp (read-only root FS) and the Kafka CA. */}}
{{- define "tributary.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .tmpSize | default "256Mi" }}
{{- $v := .root.Values }}
{{- if $v.kafka.create }}
- name: kafka-ca
  secret:
    secretName: {{ include "tributary.kafkaCluster" .root }}-cluster-ca-cert
    items:
      - key: ca.crt
        path: ca.crt
{{- else if and $v.kafka.existing.tls.enabled $v.kafka.existing.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $v.kafka.existing.tls.caSecret }}
    items:
      - key: {{ $v.kafka.existing.tls.caKey }}
        path: {{ $v.kafka.existing.tls.caKey }}
{{- end }}
{{- end }}

{{- define "tributary.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- $v := .Values }}
{{- if or $v.kafka.create (and $v.kafka.existing.tls.enabled $v.kafka.existing.tls.caSecret) }}
- name: kafka-ca
  mountPath: /etc/tributary/kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Probes: (dict "root" $ "startup" <startup probe values>) */}}
{{- define "tributary.probes" -}}
{{- $p := .root.Values.probes }}
{{- $startup := default $p.startup .startup }}
startupProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: {{ $startup.periodSeconds }}
  failureThreshold: {{ $startup.failureThreshold }}
livenessProbe:
  httpGet: { path: /healthz, port: http }
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
{{- end }}

{{/* Default topology spread: zones and nodes, best effort. (dict "root" $ "component" "x" "values" .Values.x) */}}
{{- define "tributary.topologySpread" -}}
{{- if .values.topologySpreadConstraints }}
{{- toYaml .values.topologySpreadConstraints }}
{{- else }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "tributary.selectorLabels" (dict "root" .root "component" .component) | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "tributary.selectorLabels" (dict "root" .root "component" .component) | nindent 6 }}
{{- end }}
{{- end }}

{{- define "tributary.publicUrl" -}}
{{- $root := index . 0 }}{{- $which := index . 1 }}
{{- $explicit := index $root.Values.publicUrls $which }}
{{- if $explicit }}{{ $explicit }}
{{- else if $root.Values.ingress.enabled }}
{{- $host := index $root.Values.ingress $which }}
{{- if $host.tlsSecret }}https{{ else }}http{{ end }}://{{ $host.host }}
{{- else if eq $which "ingest" }}http://{{ include "tributary.fullname" $root }}-ingest:{{ $root.Values.ingest.service.port }}
{{- else }}http://{{ include "tributary.fullname" $root }}-viewer-api:{{ $root.Values.viewerApi.service.port }}
{{- end }}
{{- end }}

{{/*
ingest's RTMP/RTMPS ports, env, volume and mount (ingest.rtmp). Ports: a list of ContainerPort dicts.
*/}}
{{- define "tributary.rtmpPorts" -}}
{{- $r := .Values.ingest.rtmp }}
{{- $ports := list }}
{{- if $r.enabled }}
{{- $ports = append $ports (dict "name" "rtmp" "containerPort" (int $r.port) "protocol" "TCP") }}
{{- if $r.rtmps.enabled }}
{{- $ports = append $ports (dict "name" "rtmps" "containerPort" (int $r.rtmps.port) "protocol" "TCP") }}
{{- end }}
{{- end }}
{{- toYaml $ports }}
{{- end }}

{{/* The ingest Service's port for RTMP ("rtmp") or RTMPS ("rtmps"): servicePort, else the container port. */}}
{{- define "tributary.rtmpServicePort" -}}
{{- $r := .root.Values.ingest.rtmp }}
{{- if eq .name "rtmps" }}{{ default $r.rtmps.port $r.rtmps.servicePort | int }}{{ else }}{{ default $r.port $r.servicePort | int }}{{ end }}
{{- end }}

{{/* The RTMP server URL for OBS: ingest.rtmp.publicUrl, else rtmp://<ingest public host>:<port>/live. */}}
{{- define "tributary.rtmpPublicUrl" -}}
{{- $r := .Values.ingest.rtmp }}
{{- $host := regexReplaceAll "^[a-z]+://([^/:]+).*$" (include "tributary.publicUrl" (list . "ingest")) "${1}" }}
{{- default (printf "rtmp://%s:%v/live" $host (include "tributary.rtmpServicePort" (dict "root" . "name" "rtmp"))) $r.publicUrl }}
{{- end }}

{{- define "tributary.rtmpEnv" -}}
{{- $r := .Values.ingest.rtmp }}
{{- $env := list (dict "name" "INGEST_RTMP_ENABLED" "value" (ternary "true" "false" $r.enabled)) }}
{{- if $r.enabled }}
{{- $env = append $env (dict "name" "INGEST_RTMP_PORT" "value" (toString $r.port)) }}
{{- $env = append $env (dict "name" "INGEST_RTMP_PUBLIC_URL" "value" (include "tributary.rtmpPublicUrl" .)) }}
{{- if $r.rtmps.enabled }}
{{- if not $r.rtmps.certSecret }}{{ fail "ingest.rtmp.rtmps.certSecret is required when ingest.rtmp.rtmps.enabled: a kubernetes.io/tls Secret with tls.crt and tls.key" }}{{ end }}
{{- $env = append $env (dict "name" "INGEST_RTMPS_PORT" "value" (toString $r.rtmps.port)) }}
{{- $env = append $env (dict "name" "INGEST_RTMPS_CERT_FILE" "value" "/etc/tributary/rtmps/tls.crt") }}
{{- $env = append $env (dict "name" "INGEST_RTMPS_KEY_FILE" "value" "/etc/tributary/rtmps/tls.key") }}
{{- end }}
{{- end }}
{{- toYaml $env }}
{{- end }}
