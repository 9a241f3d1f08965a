{{/* Names: <release>-alerts-sync unless the release name already says it; 63 characters at most (DNS labels). */}}
{{- define "alerts-sync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "alerts-sync.fullname" -}}
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

{{/* A component's resource name: <fullname>-worker, -router, -codec-server. Arguments: (list $ "worker"). */}}
{{- define "alerts-sync.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "alerts-sync.fullname" $root | trunc 50 | trimSuffix "-") (index . 1) }}
{{- end }}

{{/* Selector labels never change after install (a Deployment's selector is immutable). Arguments: (list $ "worker"). */}}
{{- define "alerts-sync.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "alerts-sync.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
{{- with index . 1 }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{- define "alerts-sync.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "alerts-sync.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: alerts-sync
{{- end }}

{{- define "alerts-sync.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "alerts-sync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "alerts-sync.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "alerts-sync.secretName" -}}
{{- default (include "alerts-sync.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Environment variables taken one by one from the Secret, so each process gets only the credentials it uses.
Arguments: (list $ "DATABASE_URL" "API_CLIENT_SECRET" ...).
*/}}
{{- define "alerts-sync.secretEnv" -}}
{{- $root := index . 0 }}
{{- range rest . }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ include "alerts-sync.secretName" $root }}
      key: {{ . }}
{{- end }}
{{- end }}

{{/* TEMPORAL_TLS_* file settings pointing into the temporal-tls volume, for processes that connect to Temporal. */}}
{{- define "alerts-sync.temporalTlsEnv" -}}
{{- $tls := .Values.temporal.tls }}
{{- if and $tls.enabled $tls.secretName }}
{{- if $tls.caKey }}
- name: TEMPORAL_TLS_CA
  value: /etc/alerts-sync/temporal-tls/{{ $tls.caKey }}
{{- end }}
{{- if and $tls.certKey $tls.keyKey }}
- name: TEMPORAL_TLS_CERT
  value: /etc/alerts-sync/temporal-tls/{{ $tls.certKey }}
- name: TEMPORAL_TLS_KEY
  value: /etc/alerts-sync/temporal-tls/{{ $tls.keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{- define "alerts-sync.kafkaTlsEnv" -}}
{{- $ssl := .Values.kafka.ssl }}
{{- if and $ssl.enabled $ssl.secretName }}
{{- if $ssl.caKey }}
- name: KAFKA_SSL_CA
  value: /etc/alerts-sync/kafka-tls/{{ $ssl.caKey }}
{{- end }}
{{- if and $ssl.certKey $ssl.keyKey }}
- name: KAFKA_SSL_CERT
  value: /etc/alerts-sync/kafka-tls/{{ $ssl.certKey }}
- name: KAFKA_SSL_KEY
  value: /etc/alerts-sync/kafka-tls/{{ $ssl.keyKey }}
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes and mounts: /tmp is the only writable path (readOnlyRootFilesystem); TLS files are read-only. */}}
{{- define "alerts-sync.volumes" -}}
{{- $root := index . 0 }}
{{- $uses := rest . -}}
- name: tmp
  emptyDir: {}
{{- if and (has "temporal" $uses) $root.Values.temporal.tls.enabled $root.Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ $root.Values.temporal.tls.secretName }}
    # 0440: the owner and the pod's fsGroup may read, nobody else.
    defaultMode: 288
{{- end }}
{{- if and (has "kafka" $uses) $root.Values.kafka.ssl.enabled $root.Values.kafka.ssl.secretName }}
- name: kafka-tls
  secret:
    secretName: {{ $root.Values.kafka.ssl.secretName }}
    defaultMode: 288
{{- end }}
{{- end }}

{{- define "alerts-sync.volumeMounts" -}}
{{- $root := index . 0 }}
{{- $uses := rest . -}}
- name: tmp
  mountPath: /tmp
{{- if and (has "temporal" $uses) $root.Values.temporal.tls.enabled $root.Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: /etc/alerts-sync/temporal-tls
  readOnly: true
{{- end }}
{{- if and (has "kafka" $uses) $root.Values.kafka.ssl.enabled $root.Values.kafka.ssl.secretName }}
- name: kafka-tls
  mountPath: /etc/alerts-sync/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
Pod template metadata: a checksum of the configuration, so `helm upgrade` with new settings rolls the pods
(processes read their environment once, at start). Arguments: (list $ "worker" .Values.worker).
*/}}
{{- define "alerts-sync.podMetadata" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $values := index . 2 -}}
labels:
  {{- include "alerts-sync.selectorLabels" (list $root $component) | nindent 2 }}
  {{- with $root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
  {{- if not $root.Values.secrets.existingSecret }}
  checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
  {{- end }}
  {{- if and $root.Values.metrics.scrapeAnnotations $values.healthPort }}
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ $values.healthPort | quote }}
  prometheus.io/path: /metrics
  {{- end }}
  {{- with merge (deepCopy (default (dict) $values.podAnnotations)) $root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* What every pod shares: identity, security context, scheduling. Arguments: (list $ "worker" .Values.worker). */}}
{{- define "alerts-sync.podCommon" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $values := index . 2 -}}
serviceAccountName: {{ include "alerts-sync.serviceAccountName" $root }}
# None of the processes calls the Kubernetes API.
automountServiceAccountToken: false
# Kubernetes would otherwise set <SERVICE>_PORT=tcp://... for every Service in the namespace, and a Service named
# temporal, kafka or postgres would then override TEMPORAL_PORT / KAFKA_PORT / POSTGRES_PORT, which
# common/config.ts reads as port numbers.
enableServiceLinks: false
terminationGracePeriodSeconds: {{ $values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $root.Values.spreadOverNodes }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "alerts-sync.selectorLabels" (list $root $component) | nindent 8 }}
{{- end }}
{{- end }}

{{/* The container fields every process shares. Arguments: (list $ .Values.worker). */}}
{{- define "alerts-sync.containerCommon" -}}
{{- $root := index . 0 }}
{{- $values := index . 1 -}}
image: {{ include "alerts-sync.image" $root }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
# The image's entrypoint is `node`; the arguments pick the process.
args:
  {{- toYaml $values.args | nindent 2 }}
envFrom:
  - configMapRef:
      name: {{ include "alerts-sync.fullname" $root }}
securityContext:
  {{- toYaml $root.Values.securityContext | nindent 2 }}
resources:
  {{- toYaml $values.resources | nindent 2 }}
{{- end }}

{{/* A component's own extra environment variables (values: <component>.env). */}}
{{- define "alerts-sync.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Liveness, readiness and start-up probes on a named port. Arguments: (list "health" "/health/readiness"). */}}
{{- define "alerts-sync.probes" -}}
{{- $port := index . 0 }}
{{- $readiness := index . 1 -}}
# A slow start (connecting, migrating the database) is not a hang: liveness counts only once this passed.
startupProbe:
  httpGet: { path: /health/liveness, port: {{ $port }} }
  periodSeconds: 5
  failureThreshold: 24
livenessProbe:
  httpGet: { path: /health/liveness, port: {{ $port }} }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet: { path: {{ $readiness }}, port: {{ $port }} }
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{- define "alerts-sync.pdb" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- $values := index . 2 -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "alerts-sync.componentName" (list $root $component) }}
  labels:
    {{- include "alerts-sync.labels" (list $root $component) | nindent 4 }}
spec:
  minAvailable: {{ $values.podDisruptionBudget.minAvailable }}
  selector:
    matchLabels:
      {{- include "alerts-sync.selectorLabels" (list $root $component) | nindent 6 }}
{{- end }}
