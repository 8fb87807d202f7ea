#!/usr/bin/env bash
# Faults in the cluster (docs/faults.md): one writer, the ConfigMap <release>-faults that every pod reads.
#   k8s/faults.sh put FILE.json   replace the faults with FILE's array ({"faults": [...]}), then wait for every pod
#   k8s/faults.sh clear           remove every fault, then wait
#   k8s/faults.sh get             the ConfigMap's document and each pod's meshbulkheads_faults_generation
# Waiting: until every pod's meshbulkheads_faults_generation (read through the API server's pod proxy, pods/NAME:PORT,
# on its admin port) equals the new generation, at most FAULTS_TIMEOUT seconds (default 150: a ConfigMap update reaches the
# mounted file in about 60-90 s), polling every FAULTS_POLL seconds (5). Expiry: each fault's expiresAt is written here (now + expiresInSeconds, default
# 300 s), so the pods switch it off by themselves even if this script is killed.
set -euo pipefail

readonly kubectl=${KUBECTL:-kubectl}
readonly namespace=${NAMESPACE:-meshbulkheads}
readonly release=${RELEASE:-meshbulkheads}
readonly timeout=${FAULTS_TIMEOUT:-150} poll=${FAULTS_POLL:-5}
readonly configmap=$release-faults

current_generation() {
  "$kubectl" -n "$namespace" get configmap "$configmap" -o jsonpath='{.data.faults\.json}' | jq -r '.generation // 0'
}

write() {
  local faults=$1 generation document
  generation=$(($(current_generation) + 1))
  document=$(jq -c --argjson generation "$generation" --arg now "$(date -u +%s)" \
    '{generation: $generation, faults: [.[] | . + {expiresAt: ((($now | tonumber) + (.expiresInSeconds // 300)) | todate)}]}' <<<"$faults")
  "$kubectl" -n "$namespace" create configmap "$configmap" --from-literal=faults.json="$document" --dry-run=client -o yaml \
    | "$kubectl" -n "$namespace" apply -f - >/dev/null
  echo "faults: generation $generation written to configmap/$configmap; waiting for every pod (≤ ${timeout} s)"
  wait_for "$generation"
}

# Every running mesh pod as NAME:ADMIN_PORT (the container port named admin).
pods() {
  "$kubectl" -n "$namespace" get pods -l "app.kubernetes.io/instance=$release" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{":"}{.spec.containers[0].ports[?(@.name=="admin")].containerPort}{"\n"}{end}' \
    | grep -E ':[0-9]+$' || true
}

pod_generation() {
  "$kubectl" -n "$namespace" get --raw "/api/v1/namespaces/$namespace/pods/$1/proxy/metrics" 2>/dev/null \
    | sed -n 's/^meshbulkheads_faults_generation{[^}]*} \([0-9]*\).*/\1/p' | head -n 1
}

wait_for() {
  local want=$1 started=$SECONDS pod behind
  while :; do
    behind=()
    for pod in $(pods); do
      [ "$(pod_generation "$pod")" = "$want" ] || behind+=("$pod")
    done
    if [ "${#behind[@]}" -eq 0 ]; then
      echo "faults: every pod at generation $want after $((SECONDS - started)) s"
      return 0
    fi
    if ((SECONDS - started >= timeout)); then
      echo "faults: after ${timeout} s still behind generation $want: ${behind[*]}" >&2
      return 1
    fi
    sleep "$poll"
  done
}

case ${1:-} in
  put)
    [ -f "${2:-}" ] || { echo "usage: $0 put FILE.json" >&2; exit 3; }
    write "$(jq -c '.faults // error("no faults array")' "$2")"
    ;;
  clear) write '[]' ;;
  get)
    "$kubectl" -n "$namespace" get configmap "$configmap" -o jsonpath='{.data.faults\.json}'
    echo
    for pod in $(pods); do echo "$pod generation $(pod_generation "$pod")"; done
    ;;
  *)
    echo "usage: $0 put FILE.json | clear | get" >&2
    exit 3
    ;;
esac
