{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "meshbulkheads.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-and-chart prefix of every object name. */}}
{{- define "meshbulkheads.fullname" -}}
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

{{- define "meshbulkheads.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels; `component` (a dict with .root and .component) adds app.kubernetes.io/component. */}}
{{- define "meshbulkheads.labels" -}}
helm.sh/chart: {{ include "meshbulkheads.chart" .root }}
{{ include "meshbulkheads.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: meshbulkheads
{{- end }}

{{/* The stable subset used by selectors: never add a label here that changes on upgrade. */}}
{{- define "meshbulkheads.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshbulkheads.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/* <fullname>-<component> */}}
{{- define "meshbulkheads.componentName" -}}
{{- printf "%s-%s" (include "meshbulkheads.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A component's values: `default` merged under `components.<name>` (the component wins). */}}
{{- define "meshbulkheads.component" -}}
{{- $c := index .root.Values.components .component }}
{{- $merged := mergeOverwrite (deepCopy .root.Values.default) (deepCopy $c) }}
{{- $_ := set $merged "extraEnv" (concat .root.Values.default.extraEnv $c.extraEnv) }}
{{- $_ := set $merged "podAnnotations" (merge (deepCopy $c.podAnnotations) .root.Values.default.podAnnotations) }}
{{- toJson $merged }}
{{- end }}

{{- define "meshbulkheads.image" -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s/%s:%s" .root.Values.image.registry .root.Values.image.repository .imageName $tag }}
{{- else }}
{{- printf "%s/%s:%s" .root.Values.image.repository .imageName $tag }}
{{- end }}
{{- end }}

{{/* Replicas the component may reach: maxReplicas when autoscaling, else replicas. */}}
{{- define "meshbulkheads.maxReplicas" -}}
{{- if .autoscaling.enabled }}{{ .autoscaling.maxReplicas }}{{ else }}{{ .replicas }}{{ end }}
{{- end }}

{{/* Whether the gateway uses the shared Redis store: whenever it can run more than one replica. */}}
{{- define "meshbulkheads.gatewayUsesRedis" -}}
{{- $gw := .Values.components.gateway }}
{{- if and .Values.redis.enabled (gt (int (include "meshbulkheads.maxReplicas" $gw)) 1) }}true{{ end }}
{{- end }}

{{/* payments' ledger: postgresql (in-chart), external or sqlite. */}}
{{- define "meshbulkheads.paymentsStore" -}}
{{- if .Values.postgresql.enabled }}postgresql{{ else if .Values.externalPostgresql.existingSecret }}external{{ else }}sqlite{{ end }}
{{- end }}

{{- define "meshbulkheads.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "meshbulkheads.fullname" .)) .Values.apiKeys.existingSecret }}
{{- end }}

{{/*
The file of the API keys Secret the gateway mounts as Gateway:ApiKeysFile: `tenants.json` (the `tenants` format:
tiers and SHA-256 hashes only; the tenants come from it) unless an existing Secret is in the older `keys` format
(`api-keys.json`, {"<tenant>": "<key>"}: raw keys, the tenants from `tenants` in the values).
*/}}
{{- define "meshbulkheads.gatewayKeysFile" -}}
{{- if and .Values.apiKeys.existingSecret (eq .Values.apiKeys.existingSecretFormat "keys") }}api-keys.json{{ else }}tenants.json{{ end }}
{{- end }}

{{- define "meshbulkheads.redisSecretName" -}}
{{- default (printf "%s-redis" (include "meshbulkheads.fullname" .)) .Values.redis.existingSecret }}
{{- end }}

{{- define "meshbulkheads.postgresqlSecretName" -}}
{{- default (printf "%s-postgresql" (include "meshbulkheads.fullname" .)) .Values.postgresql.existingSecret }}
{{- end }}

{{/* The Secret holding payments' page-token key (`page-token-key`). */}}
{{- define "meshbulkheads.pageTokensSecretName" -}}
{{- default (printf "%s-page-tokens" (include "meshbulkheads.fullname" .)) .Values.pageTokens.existingSecret }}
{{- end }}

{{/* The OTLP endpoint every component exports to (empty: none). */}}
{{- define "meshbulkheads.otlpEndpoint" -}}
{{- if .Values.jaeger.enabled }}
{{- printf "http://%s-jaeger:4317" (include "meshbulkheads.fullname" .) }}
{{- else }}
{{- .Values.otlpEndpoint }}
{{- end }}
{{- end }}

{{/*
A random secret value that survives upgrades: the existing Secret's value when there is one
(`lookup` returns nothing under `helm template`, so renders there are random each time).
Arguments: root, secret (name), key.
*/}}
{{- define "meshbulkheads.keptRandom" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing (hasKey (default dict $existing.data) .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}

{{/* Pod and container security contexts of the restricted Pod Security Standard. */}}
{{- define "meshbulkheads.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "meshbulkheads.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The Secret holding the identity keys (keys payments, reporting, render). */}}
{{- define "meshbulkheads.identitySecretName" -}}
{{- default (printf "%s-identity" (include "meshbulkheads.fullname" .)) .Values.identity.existingSecret }}
{{- end }}

{{/* The Secret holding the admin token (key admin-token). */}}
{{- define "meshbulkheads.adminSecretName" -}}
{{- default (printf "%s-admin" (include "meshbulkheads.fullname" .)) .Values.admin.existingSecret }}
{{- end }}

{{/*
"true" when the gRPC port of a component (dict: root, component) serves TLS: the gateway's with tls.gateway.enabled,
the services' with tls.backends.enabled.
*/}}
{{- define "meshbulkheads.grpcTls" -}}
{{- $tls := .root.Values.tls }}
{{- if eq .component "gateway" }}{{ $tls.gateway.enabled }}{{ else }}{{ $tls.backends.enabled }}{{ end }}
{{- end }}
