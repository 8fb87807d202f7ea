#!/usr/bin/env bash
# Installs metrics-server (pinned) into the current kubectl context with --kubelet-insecure-tls: kind's
# kubelets serve self-signed certificates, and without the flag metrics-server cannot scrape them, so
# `kubectl top` fails and every HPA CPU target (render's) stays <unknown>. Idempotent; called by
# `make kind-up`. docs/autoscaling.md.
# Environment: METRICS_SERVER_VERSION (default below).
set -euo pipefail

readonly version=${METRICS_SERVER_VERSION:-v0.7.2}
readonly manifest="https://github.com/kubernetes-sigs/metrics-server/releases/download/$version/components.yaml"

echo "install-metrics-server: metrics-server $version"
kubectl apply -f "$manifest"

args=$(kubectl -n kube-system get deployment metrics-server -o jsonpath='{.spec.template.spec.containers[0].args}')
if [[ "$args" != *--kubelet-insecure-tls* ]]; then
  kubectl -n kube-system patch deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'
fi

kubectl -n kube-system rollout status deployment/metrics-server --timeout=180s
# The aggregated API answers a little after the pod is ready.
for _ in $(seq 1 30); do
  if kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes >/dev/null 2>&1; then
    echo "install-metrics-server: metrics.k8s.io answers"
    exit 0
  fi
  sleep 2
done
echo "install-metrics-server: metrics.k8s.io did not answer within 60 s (kubectl -n kube-system logs deploy/metrics-server)" >&2
exit 1
