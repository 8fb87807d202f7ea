#!/usr/bin/env bash
# What the autoscalers see, per autoscaled component: each custom metric as the HPA reads it from
# prometheus-adapter (`kubectl get --raw /apis/custom.metrics.k8s.io/v1beta1/namespaces/<ns>/pods/*/<metric>`,
# one value per pod), the CPU from metrics-server, and the HPA's status (targets, current/desired
# replicas, conditions). With KEDA the HPA is KEDA's (keda-hpa-<name>) and the custom-metrics API is
# not used. `make check-hpa`; docs/autoscaling.md shows the output before and after a scaling event.
# Environment: NAMESPACE (meshbulkheads), RELEASE (mesh).
set -euo pipefail

NAMESPACE=${NAMESPACE:-meshbulkheads}
RELEASE=${RELEASE:-mesh}
readonly metrics=(meshbulkheads_queue_age_seconds meshbulkheads_saturation_ratio)

if ! command -v jq >/dev/null 2>&1; then
  echo "check-hpa: jq not found; printing raw JSON" >&2
fi

raw() {
  local path=$1
  if command -v jq >/dev/null 2>&1; then
    kubectl get --raw "$path" | jq -r '.items[] | "  \(.describedObject.name)\t\(.value)"'
  else
    kubectl get --raw "$path"
    echo
  fi
}

if kubectl get apiservice v1beta1.custom.metrics.k8s.io >/dev/null 2>&1; then
  for metric in "${metrics[@]}"; do
    path="/apis/custom.metrics.k8s.io/v1beta1/namespaces/$NAMESPACE/pods/*/$metric"
    echo "== kubectl get --raw $path"
    # A pod's series appears at its first scrape; an error here means the adapter has no such metric.
    raw "$path" || echo "  (not served: check the adapter's rules and its relist, kubectl -n monitoring logs deploy/prometheus-adapter)"
  done
else
  echo "== custom.metrics.k8s.io is not registered (prometheus-adapter not installed; KEDA serves external metrics instead)"
fi

echo "== kubectl top pods -n $NAMESPACE (metrics-server)"
kubectl top pods -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE" || echo "  (metrics-server not ready: scripts/install-metrics-server.sh)"

echo "== kubectl get hpa -n $NAMESPACE"
kubectl get hpa -n "$NAMESPACE"
if kubectl api-resources --api-group=keda.sh 2>/dev/null | grep -q scaledobjects; then
  echo "== kubectl get scaledobject -n $NAMESPACE"
  kubectl get scaledobject -n "$NAMESPACE"
fi

for hpa in $(kubectl get hpa -n "$NAMESPACE" -o name); do
  echo "== kubectl describe -n $NAMESPACE $hpa (metrics, conditions, events)"
  kubectl describe -n "$NAMESPACE" "$hpa" | sed -n '/^Metrics:/,$p'
done
