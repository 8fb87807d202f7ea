{{/*
The appsettings.json of one component (dict: root, component): the typed `config` values merged
over what the chart derives (ports, deadlines, destinations, stores, telemetry). Secrets never
appear here: they come from Secrets as files or environment variables.
*/}}
{{- define "meshbulkheads.componentConfig" -}}
{{- $root := .root }}
{{- $name := .component }}
{{- $c := include "meshbulkheads.component" . | fromJson }}
{{- $fullname := include "meshbulkheads.fullname" $root }}
{{- $methods := dict }}
{{- range $c.deadlines }}
{{- $_ := set $methods .prefix (dict "Default" .default "Max" .max) }}
{{- end }}
{{- $cfg := dict
  "Logging" (dict "LogLevel" (dict "Default" $c.logLevel "Microsoft.AspNetCore" "Warning"))
  "Mesh" (dict "GrpcPort" $c.ports.grpc "AdminPort" $c.ports.admin "BindAddress" "0.0.0.0" "ShutdownDelay" "00:00:00")
  "Deadlines" (dict "AllMethods" (dict "Default" $root.Values.deadlinesAllMethods.default "Max" $root.Values.deadlinesAllMethods.max) "Methods" $methods)
}}
{{- if eq $name "gateway" }}
{{- $keysFile := include "meshbulkheads.gatewayKeysFile" $root }}
{{- $tenants := list }}
{{- /* The tenants format defines the tenants itself (and refuses one also in Gateway:Tenants); only the older keys format needs them here. */}}
{{- if eq $keysFile "api-keys.json" }}
{{- range $root.Values.tenants }}
{{- $tenants = append $tenants (dict "Id" .id "Tier" .tier) }}
{{- end }}
{{- end }}
{{- $clusters := dict }}
{{- range $backend := list "payments" "reporting" "render" }}
{{- $b := index $root.Values.components $backend }}
{{- /* https:// with tls.backends.enabled: the name in the address is the one the certificate must carry (the DNS destinations keep it as Host). */}}
{{- $scheme := ternary "https" "http" (eq (include "meshbulkheads.grpcTls" (dict "root" $root "component" $backend)) "true") }}
{{- $_ := set $clusters $backend (dict "Destinations" (dict "d1" (dict "Address" (printf "%s://%s-%s.%s.svc.cluster.local:%v" $scheme $fullname $backend $root.Release.Namespace $b.ports.grpc)))) }}
{{- end }}
{{- $store := ternary "Redis" "InProcess" (eq (include "meshbulkheads.gatewayUsesRedis" $root) "true") }}
{{- $gateway := dict
  "Tenants" $tenants
  "ApiKeysFile" (printf "/etc/meshbulkheads/secrets/%s" $keysFile)
  "Destinations" (dict "Dns" (dict "Enabled" true))
  "RateLimiting" (dict "Store" $store)
}}
{{- $_ := set $cfg "Gateway" $gateway }}
{{- $_ := set $cfg "ReverseProxy" (dict "Clusters" $clusters) }}
{{- else if eq $name "payments" }}
{{- $ids := list }}
{{- range $root.Values.tenants }}{{ $ids = append $ids .id }}{{ end }}
{{- $_ := set $cfg "Payments" (dict "Seed" $root.Values.demo.enabled "SeedTenants" (join "," $ids) "DataDirectory" "/data") }}
{{- else if eq $name "reporting" }}
{{- /* dns:/// + round_robin over the headless Service's pod addresses, re-resolved every 5 s (docs/autoscaling.md): an http:// address would pin reporting to one payments pod. */}}
{{- $_ := set $cfg "Reporting" (dict "PaymentsAddress" (printf "dns:///%s-payments.%s.svc.cluster.local:%v" $fullname $root.Release.Namespace $root.Values.components.payments.ports.grpc) "PaymentsDnsRefreshInterval" "00:00:05") }}
{{- end }}
{{- $merged := mergeOverwrite $cfg (deepCopy $c.config) }}
{{- toPrettyJson $merged }}
{{- end }}
