{{/*
Every generated secret value, computed once per render and memoised on the root context, so the
Secrets and the pods' checksum/secret annotations agree. A value already in the cluster is kept
(`lookup`), so upgrades keep the keys; under `helm template` there is no cluster and every render
generates new ones.
Returns JSON: {"apiKeys": {tenant: key}, "tenantsFile": {"tenants": {tenant: {"tier": …, "keys": ["sha256:…"]}}}, "redisPassword": "...", "postgresPassword": "...", "pageTokenKey": "...",
"identityKeys": {service: key}, "adminToken": "..."}.
*/}}
{{- define "meshbulkheads.secretData" -}}
{{- if not (hasKey . "_meshSecretData") }}
{{- $fullname := include "meshbulkheads.fullname" . }}
{{- $data := dict }}
{{- if not .Values.apiKeys.existingSecret }}
{{- $kept := dict }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-api-keys" $fullname) }}
{{- if and $existing $existing.data (hasKey $existing.data "api-keys.json") }}
{{- $kept = index $existing.data "api-keys.json" | b64dec | fromJson }}
{{- end }}
{{- $keys := dict }}
{{- $tenants := dict }}
{{- range .Values.tenants }}
{{- $key := default (randAlphaNum 32) (get $kept .id) }}
{{- $_ := set $keys .id $key }}
{{- /* The stored form Gateway:ApiKeysFile's `tenants` format reads (ApiKeyHash: "sha256:" + lower-case hex of the key's UTF-8). */}}
{{- $_ := set $tenants .id (dict "tier" .tier "keys" (list (printf "sha256:%s" (sha256sum $key)))) }}
{{- end }}
{{- $_ := set $data "apiKeys" $keys }}
{{- $_ := set $data "tenantsFile" (dict "tenants" $tenants) }}
{{- end }}
{{- if and .Values.redis.enabled (not .Values.redis.existingSecret) }}
{{- $_ := set $data "redisPassword" (include "meshbulkheads.keptRandom" (dict "root" . "secret" (printf "%s-redis" $fullname) "key" "redis-password")) }}
{{- end }}
{{- if and .Values.postgresql.enabled (not .Values.postgresql.existingSecret) }}
{{- $_ := set $data "postgresPassword" (include "meshbulkheads.keptRandom" (dict "root" . "secret" (printf "%s-postgresql" $fullname) "key" "postgres-password")) }}
{{- end }}
{{- if and .Values.components.payments.enabled (not .Values.pageTokens.existingSecret) }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-page-tokens" $fullname) }}
{{- if and $existing $existing.data (hasKey $existing.data "page-token-key") }}
{{- $_ := set $data "pageTokenKey" (index $existing.data "page-token-key" | b64dec) }}
{{- else }}
{{- /* 32 random alphanumerics, base64-encoded: the base64 of 32 bytes that Payments:PageTokens:Keys expects. */}}
{{- $_ := set $data "pageTokenKey" (randAlphaNum 32 | b64enc) }}
{{- end }}
{{- end }}
{{- if not .Values.identity.existingSecret }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-identity" $fullname) }}
{{- $keys := dict }}
{{- range list "payments" "reporting" "render" }}
{{- if and $existing $existing.data (hasKey $existing.data .) }}
{{- $_ := set $keys . (index $existing.data . | b64dec) }}
{{- else }}
{{- /* The base64 of 32 random bytes (Mesh:Identity:Keys / Gateway:Identity:Keys expect at least 32). */}}
{{- $_ := set $keys . (randAlphaNum 32 | b64enc) }}
{{- end }}
{{- end }}
{{- $_ := set $data "identityKeys" $keys }}
{{- end }}
{{- if not .Values.admin.existingSecret }}
{{- $_ := set $data "adminToken" (include "meshbulkheads.keptRandom" (dict "root" . "secret" (printf "%s-admin" $fullname) "key" "admin-token")) }}
{{- end }}
{{- $_ := set . "_meshSecretData" $data }}
{{- end }}
{{- toJson (get . "_meshSecretData") }}
{{- end }}

{{/* checksum/secret of a component: a hash of the generated values it reads (names when external). */}}
{{- define "meshbulkheads.secretChecksum" -}}
{{- $root := .root }}
{{- $data := include "meshbulkheads.secretData" $root | fromJson }}
{{- $parts := list .component }}
{{- if eq .component "gateway" }}
{{- $parts = append $parts (toJson (get $data "apiKeys")) }}
{{- $parts = append $parts $root.Values.apiKeys.existingSecret }}
{{- $parts = append $parts (get $data "redisPassword") }}
{{- $parts = append $parts $root.Values.redis.existingSecret }}
{{- $parts = append $parts (toJson (get $data "identityKeys")) }}
{{- else if eq .component "payments" }}
{{- $parts = append $parts (get $data "postgresPassword") }}
{{- $parts = append $parts (get $data "pageTokenKey") }}
{{- $parts = append $parts $root.Values.pageTokens.existingSecret }}
{{- $parts = append $parts $root.Values.pageTokens.keyId }}
{{- $parts = append $parts $root.Values.postgresql.existingSecret }}
{{- $parts = append $parts $root.Values.externalPostgresql.existingSecret }}
{{- end }}
{{- if ne .component "gateway" }}
{{- $parts = append $parts (get (default dict (get $data "identityKeys")) .component | default "") }}
{{- end }}
{{- $parts = append $parts $root.Values.identity.existingSecret }}
{{- $parts = append $parts (get $data "adminToken" | default "") }}
{{- $parts = append $parts $root.Values.admin.existingSecret }}
{{- $parts = append $parts $root.Values.identity.keyId }}
{{- join "/" $parts | sha256sum }}
{{- end }}
