{{/*
Autoscaling (docs/autoscaling.md). The metric names are the `name.as` of the custom rules in
k8s/observability/prometheus-adapter-values.yaml (a chart test checks they agree).
*/}}
{{- define "meshbulkheads.autoscaling.queueAgeMetric" -}}meshbulkheads_queue_age_seconds{{- end }}
{{- define "meshbulkheads.autoscaling.saturationMetric" -}}meshbulkheads_saturation_ratio{{- end }}

{{/* "hh:mm:ss[.fffffff]" (a .NET TimeSpan in configuration) → seconds, as a float. */}}
{{- define "meshbulkheads.timespanSeconds" -}}
{{- $parts := splitList ":" (toString .) }}
{{- if ne (len $parts) 3 }}
{{- fail (printf "%q is not a TimeSpan of the form hh:mm:ss[.fff]" (toString .)) }}
{{- end }}
{{- addf (mulf (float64 (index $parts 0)) 3600) (mulf (float64 (index $parts 1)) 60) (float64 (index $parts 2)) }}
{{- end }}

{{/* A number of seconds or a ratio as a Kubernetes quantity in milli-units: 0.1 → 100m. */}}
{{- define "meshbulkheads.milliQuantity" -}}
{{- printf "%dm" (int (round (mulf (float64 .) 1000) 0)) }}
{{- end }}

{{/* The HPA behaviour both providers use (values: autoscaling.behavior). */}}
{{- define "meshbulkheads.autoscaling.behavior" -}}
{{- $b := .Values.autoscaling.behavior -}}
scaleUp:
  stabilizationWindowSeconds: {{ $b.scaleUp.stabilizationWindowSeconds }}
  selectPolicy: Max
  policies:
    - type: Pods
      value: {{ $b.scaleUp.pods }}
      periodSeconds: {{ $b.scaleUp.periodSeconds }}
    - type: Percent
      value: {{ $b.scaleUp.percent }}
      periodSeconds: {{ $b.scaleUp.periodSeconds }}
scaleDown:
  stabilizationWindowSeconds: {{ $b.scaleDown.stabilizationWindowSeconds }}
  selectPolicy: Max
  policies:
    - type: Pods
      value: {{ $b.scaleDown.pods }}
      periodSeconds: {{ $b.scaleDown.periodSeconds }}
{{- end }}

{{/* The bulkheads whose queue age and saturation are a component's signal (reporting-fanout never is). */}}
{{- define "meshbulkheads.autoscaling.excludedBulkheads" -}}reporting-fanout{{- end }}

{{/*
Render-time checks of one autoscaled component (dict: root, component, c): a provider is chosen,
targets exist, and the queue-age target is below every signal bulkhead's MaxQueueTime (a bulkhead
sheds at MaxQueueTime, so a target at or above it could never be reached: the HPA would never scale).
*/}}
{{- define "meshbulkheads.autoscaling.check" -}}
{{- $v := .root.Values }}
{{- $name := .component }}
{{- if eq $v.autoscaling.provider "none" }}
{{- fail (printf "components.%s.autoscaling.enabled is true but autoscaling.provider is none: the Deployment would have no replicas field and nothing scaling it. Set autoscaling.provider to prometheus-adapter or keda, or disable autoscaling for %s." $name $name) }}
{{- end }}
{{- $t := index $v.autoscaling.targets $name | default dict }}
{{- if not (and $t.queueAgeSeconds $t.saturation) }}
{{- fail (printf "autoscaling.targets.%s needs queueAgeSeconds and saturation." $name) }}
{{- end }}
{{- if or (le (float64 $t.saturation) 0.0) (gt (float64 $t.saturation) 1.0) }}
{{- fail (printf "autoscaling.targets.%s.saturation (%v) must be in (0, 1]: permits in use ÷ permit limit never exceeds 1." $name $t.saturation) }}
{{- end }}
{{- $excluded := include "meshbulkheads.autoscaling.excludedBulkheads" . }}
{{- range $bulkhead, $options := (default dict (default dict .c.config).Bulkheads) }}
{{- if and (ne $bulkhead $excluded) (kindIs "map" $options) $options.MaxQueueTime }}
{{- $max := include "meshbulkheads.timespanSeconds" $options.MaxQueueTime | float64 }}
{{- if ge (float64 $t.queueAgeSeconds) $max }}
{{- fail (printf "autoscaling.targets.%s.queueAgeSeconds (%v s) must be below Bulkheads:%s:MaxQueueTime (%v s): the bulkhead sheds waiters at MaxQueueTime, so its queue age never reaches the target and the HPA never scales out." $name $t.queueAgeSeconds $bulkhead $max) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The label matchers selecting one component's pods in KEDA's queries (pods of the Deployment: <name>-<hash>-<id>). */}}
{{- define "meshbulkheads.autoscaling.podMatchers" -}}
{{- printf "namespace=\"%s\",pod=~\"%s-[a-z0-9]+-[a-z0-9]+\",meshbulkheads_bulkhead!=\"%s\"" .root.Release.Namespace (include "meshbulkheads.componentName" .) (include "meshbulkheads.autoscaling.excludedBulkheads" .) }}
{{- end }}
