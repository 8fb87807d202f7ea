{{/* Render-time guards: configurations that would run but be wrong fail here, with the reason. */}}
{{- define "meshbulkheads.guards" -}}
{{- $v := .Values }}
{{- $payments := $v.components.payments }}
{{- $gateway := $v.components.gateway }}
{{- $store := include "meshbulkheads.paymentsStore" . }}
{{- if and $payments.enabled (eq $store "sqlite") }}
{{- if or (gt (int $payments.replicas) 1) $payments.autoscaling.enabled }}
{{- fail "payments on SQLite cannot run more than one replica or autoscale: each pod would keep its own ledger. Set components.payments.replicas=1 and autoscaling.enabled=false, or enable postgresql (postgresql.enabled=true) or an external one (externalPostgresql.existingSecret)." }}
{{- end }}
{{- end }}
{{- if and $payments.enabled (ne $store "sqlite") }}
{{- $pg := ternary $v.postgresql $v.externalPostgresql (eq $store "postgresql") }}
{{- $perPod := add (int $payments.config.Payments.Database.ChargePoolSize) (int $payments.config.Payments.Database.ReadPoolSize) }}
{{- $maxPods := int (include "meshbulkheads.maxReplicas" $payments) }}
{{- $needed := add (mul $maxPods $perPod) (int $pg.reservedConnections) }}
{{- if gt (int $needed) (int $pg.maxConnections) }}
{{- fail (printf "payments needs %d PostgreSQL connections (%d replicas × (ChargePoolSize + ReadPoolSize = %d) + %d reserved) but max_connections is %d: scaling out cannot fix a database-bound service. Lower components.payments.autoscaling.maxReplicas/replicas or the pool sizes, or raise maxConnections on the server." $needed $maxPods $perPod (int $pg.reservedConnections) (int $pg.maxConnections)) }}
{{- end }}
{{- end }}
{{- if and $gateway.enabled (gt (int (include "meshbulkheads.maxReplicas" $gateway)) 1) (not $v.redis.enabled) }}
{{- fail "the gateway runs more than one replica but redis.enabled is false: each gateway would keep its own token buckets and give every tenant N times its tier. Enable redis or set components.gateway.replicas=1." }}
{{- end }}
{{- if and $v.redis.enabled $v.redis.tls.enabled (not $v.redis.tls.existingSecret) }}
{{- fail "redis.tls.enabled needs redis.tls.existingSecret: a Secret with tls.crt, tls.key and ca.crt (e.g. from cert-manager) whose certificate names <fullname>-redis.<namespace>.svc.cluster.local." }}
{{- end }}
{{- if and $v.tls.gateway.enabled (not $v.tls.gateway.existingSecret) }}
{{- fail "tls.gateway.enabled needs tls.gateway.existingSecret: a kubernetes.io/tls Secret with tls.crt and tls.key for the names the gateway's clients use." }}
{{- end }}
{{- if and $v.tls.backends.enabled (not $v.tls.backends.existingSecret) }}
{{- fail "tls.backends.enabled needs tls.backends.existingSecret: a Secret with tls.crt, tls.key and ca.crt (e.g. from cert-manager) whose certificate names <fullname>-payments, -reporting and -render.<namespace>.svc.cluster.local." }}
{{- end }}
{{- $s := $v.shutdown }}
{{- $floor := add (int $s.preStopSleepSeconds) (int $s.hostShutdownTimeoutSeconds) 5 }}
{{- if le (int $s.terminationGracePeriodSeconds) (int $floor) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + hostShutdownTimeoutSeconds + 5 s = %d, or the kubelet kills pods mid-drain." (int $s.terminationGracePeriodSeconds) (int $floor)) }}
{{- end }}
{{- $tiers := $gateway.config.Gateway.Tiers }}
{{- range $v.tenants }}
{{- if not (hasKey $tiers .tier) }}
{{- fail (printf "tenant %q has tier %q, which is not a key of components.gateway.config.Gateway.Tiers." .id .tier) }}
{{- end }}
{{- end }}
{{- end }}
