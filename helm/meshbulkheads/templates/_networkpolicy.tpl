{{/* NetworkPolicy building blocks; the table in docs/kubernetes.md lists every allow. */}}
{{- define "meshbulkheads.np.peer" -}}
- podSelector:
    matchLabels:
      {{- include "meshbulkheads.selectorLabels" . | nindent 6 }}
{{- end }}
{{- define "meshbulkheads.np.prometheus" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ .Values.networkPolicy.prometheus.namespace }}
  podSelector:
    matchLabels:
      {{ .Values.networkPolicy.prometheus.podLabelKey }}: {{ .Values.networkPolicy.prometheus.podLabelValue | quote }}
{{- end }}
{{- define "meshbulkheads.np.egressCommon" -}}
# DNS: the headless Services are resolved every few seconds.
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.dnsNamespace }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if .Values.jaeger.enabled }}
# OTLP to Jaeger.
- to:
    {{- include "meshbulkheads.np.peer" (dict "root" . "component" "jaeger") | nindent 4 }}
  ports:
    - port: 4317
      protocol: TCP
{{- end }}
{{- end }}
{{- define "meshbulkheads.np.nodeCidr" -}}
{{- if .Values.networkPolicy.nodeCidr }}
# Opt-in: kubelet probes come from the node's address on CNIs that do not exempt them.
- from:
    - ipBlock:
        cidr: {{ .Values.networkPolicy.nodeCidr }}
{{- end }}
{{- end }}
