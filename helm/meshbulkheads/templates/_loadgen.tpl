{{/*
meshload (tools/MeshBulkheads.LoadGen) in a pod: the `helm test` load check and the load Job.
*/}}

{{/* The gateway Service's gRPC address, as meshload's --target: https:// when the gateway's public port serves TLS. */}}
{{- define "meshbulkheads.loadgen.target" -}}
{{- printf "%s://%s:%v" (ternary "https" "http" .Values.tls.gateway.enabled) (include "meshbulkheads.gatewayHost" .) .Values.components.gateway.ports.grpc }}
{{- end }}

{{/* The gateway Service's name in the cluster's DNS: the name its TLS certificate must carry for in-cluster clients. */}}
{{- define "meshbulkheads.gatewayHost" -}}
{{- printf "%s.%s.svc.cluster.local" (include "meshbulkheads.componentName" (dict "root" . "component" "gateway")) .Release.Namespace }}
{{- end }}

{{/* Where in-cluster clients (meshload, the helm test pods) find the CA that signed the gateway's certificate. */}}
{{- define "meshbulkheads.gatewayCaFile" -}}/etc/meshbulkheads/gateway-ca/ca.crt{{- end }}

{{/* meshload's target options as a JSON list: --target, and --ca-file with TLS (never "accept any"). */}}
{{- define "meshbulkheads.loadgen.targetArgs" -}}
{{- $args := list "--target" (include "meshbulkheads.loadgen.target" .) }}
{{- if .Values.tls.gateway.enabled }}
{{- $args = concat $args (list "--ca-file" (include "meshbulkheads.gatewayCaFile" .)) }}
{{- end }}
{{- toJson $args }}
{{- end }}

{{/* The volume with the gateway's CA for in-cluster clients (only with tls.gateway.enabled). */}}
{{- define "meshbulkheads.gatewayCaVolume" -}}
{{- if .Values.tls.gateway.enabled }}
- name: gateway-ca
  secret:
    secretName: {{ default .Values.tls.gateway.existingSecret .Values.tls.gateway.caSecret }}
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}

{{- define "meshbulkheads.gatewayCaMount" -}}
{{- if .Values.tls.gateway.enabled }}
- name: gateway-ca
  mountPath: {{ dir (include "meshbulkheads.gatewayCaFile" .) }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
The shell that reads the tenants' keys from the API-keys Secret into MESHLOAD_GOLD_KEY/…_SILVER_KEY/
…_BRONZE_KEY (the scenarios name tenants by tier) and then execs meshload with the container's args.
A tier without a tenant uses the first tenant. A missing key is bad input (meshload's exit 3).
*/}}
{{- define "meshbulkheads.loadgen.script" -}}
{{- $first := (index .Values.tenants 0).id -}}
keys=/etc/meshbulkheads/secrets/api-keys.json
key() { sed -n 's/.*"'"$1"'"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$keys"; }
{{- range $tier := list "gold" "silver" "bronze" }}
{{- $tenant := $first }}
{{- range $t := reverse $.Values.tenants }}{{ if eq $t.tier $tier }}{{ $tenant = $t.id }}{{ end }}{{ end }}
MESHLOAD_{{ upper $tier }}_KEY="$(key {{ $tenant }})"
test -n "$MESHLOAD_{{ upper $tier }}_KEY" || { echo "meshload: no API key for tenant {{ $tenant }} in $keys" >&2; exit 3; }
export MESHLOAD_{{ upper $tier }}_KEY
{{- end }}
exec dotnet /app/MeshBulkheads.LoadGen.dll "$@"
{{- end }}

{{/* The meshload container; .args is the meshload command line. */}}
{{- define "meshbulkheads.loadgen.container" -}}
- name: meshload
  image: {{ include "meshbulkheads.image" (dict "root" .root "imageName" .root.Values.loadgen.imageName) }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command:
    - /bin/sh
    - -ec
    - |
      {{- include "meshbulkheads.loadgen.script" .root | nindent 6 }}
    - meshload
  args:
    {{- toYaml .args | nindent 4 }}
  resources:
    {{- toYaml .root.Values.loadgen.resources | nindent 4 }}
  securityContext:
    {{- include "meshbulkheads.containerSecurityContext" (dict "uid" 1654) | nindent 4 }}
  volumeMounts:
    - name: api-keys
      mountPath: /etc/meshbulkheads/secrets
      readOnly: true
    - name: tmp
      mountPath: /tmp
    {{- include "meshbulkheads.gatewayCaMount" .root | nindent 4 }}
{{- end }}

{{- define "meshbulkheads.loadgen.volumes" -}}
- name: api-keys
  secret:
    secretName: {{ include "meshbulkheads.apiKeysSecretName" . }}
    items:
      - key: api-keys.json
        path: api-keys.json
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- include "meshbulkheads.gatewayCaVolume" . }}
{{- end }}
