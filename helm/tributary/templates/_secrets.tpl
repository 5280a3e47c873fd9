{{/*
An env entry read from a Secret the chart creates (`<fullname>-<suffix>`, key = the default key) or
from `existingSecret`/`existingSecretKey`; empty (no entry) when neither is set.
Parameters (dict): root, name (the variable), ref (values with value/existingSecret/existingSecretKey), suffix, key.
*/}}
{{- define "tributary.secretEnv" -}}
{{- if .ref.existingSecret }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .ref.existingSecret }}
      key: {{ .ref.existingSecretKey }}
{{- else if .ref.value }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "tributary.fullname" .root }}-{{ .suffix }}
      key: {{ .key }}
{{- end }}
{{- end }}

{{/* Env of ingest, viewer-api and the event-gateway fan-out for signed playback (PLAYBACK_SIGNING_KEY). */}}
{{- define "tributary.playbackEnv" -}}
{{- include "tributary.secretEnv" (dict "root" . "name" "PLAYBACK_SIGNING_KEY" "ref" .Values.playback.signingKey "suffix" "playback-signing-key" "key" "playback-signing-key") }}
{{- end }}

{{/* METRICS_PORT when `metrics.port` is set; fails when it collides with a service's HTTP port. */}}
{{- define "tributary.metricsPort" -}}
{{- $port := int .Values.metrics.port }}
{{- if $port }}
{{- range $service, $http := dict "ingest" .Values.ingest.service.port "transcoder" .Values.transcoder.service.port "viewerApi" .Values.viewerApi.service.port "eventGateway" .Values.eventGateway.service.port }}
{{- if eq (int $http) $port }}
{{- fail (printf "metrics.port (%d) is the HTTP port of %s: choose another port (or 0 to serve /metrics on the HTTP port)" $port $service) }}
{{- end }}
{{- end }}
{{- end }}
{{- $port -}}
{{- end }}
