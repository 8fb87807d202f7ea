#!/usr/bin/env bash
# Experiment: drain a node hosting payments under charge load (k8s/chaos/README.md). The node is cordoned and its
# payments pods drained (kubectl drain --pod-selector: evictions, which the PodDisruptionBudget may refuse and drain
# retries); the other replica and the client's retries carry the load, the Deployment's replacement lands on another
# node, and every acknowledged charge is in PostgreSQL exactly once. The node is uncordoned in the rollback.
# Needs: ≥ 2 schedulable nodes, payments ≥ 2 replicas (then the chart renders its PDB).
# Negative control (--unprotected): payments scaled to one replica (a PDB cannot keep a single pod).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin drain-node "Drain a node hosting payments under charge load" \
  "meshload in the cluster charges at 50/s (3 attempts, one idempotency key per charge); the node of a payments pod is cordoned and its payments pods drained." \
  "The PodDisruptionBudget is respected, charges succeed, and every acknowledged charge is recorded exactly once" "$@"

readonly payments=$FULLNAME-payments
pods_selector=$(selector payments)
readonly pods_selector

steady_load before "charges succeed" 'name=charges,key=gold,method=Charge,rate=20'
require_steady_state

replicas=$(k get deployment "$payments" -o jsonpath='{.spec.replicas}')
if [ "$chaos_unprotected" = true ]; then
  scale_to_one_replica "$payments"
  replicas=1
fi
# The budget the chart renders for more than one replica (absent: nothing limits the drain).
max_unavailable=$(k get pdb "$payments" -o jsonpath='{.spec.maxUnavailable}' 2>/dev/null || true)

load_job during --stream "name=charges,key=gold,method=Charge,rate=50,deadline=5s" --duration "$CHAOS_DURATION" --attempts 3
during=$chaos_job
sleep "${CHAOS_FAULT_AFTER:-10}"
node=$(k get pods -l "$pods_selector" -o jsonpath='{.items[0].spec.nodeName}')
[ -n "$node" ] || cannot_run "find the node of a payments pod ($pods_selector)"

# Ready payments replicas, sampled every second while the drain runs (bounded; stopped below or by the exit).
samples=$(mktemp)
# A read that fails is no sample (an API server hiccup is not zero ready replicas); an empty one is 0 (the field is
# absent when none is ready).
(for ((i = 0; i < 600; i++)); do
  if n=$(k get deployment "$payments" -o jsonpath='{.status.readyReplicas}' 2>/dev/null); then printf '%s\n' "${n:-0}" >>"$samples"; fi
  sleep 1
done) >/dev/null 2>&1 &
sampler=$!
rollback "stop sampling the ready replicas" bash -c "kill $sampler 2>/dev/null || true"
rollback "uncordon $node" "$KUBECTL" uncordon "$node"
action "cordon $node" "$KUBECTL" cordon "$node"
action "drain the payments pods off $node" "$KUBECTL" drain "$node" --pod-selector="$pods_selector" --ignore-daemonsets --delete-emptydir-data --timeout=300s
fault_active "$node cordoned and drained of payments"
action "payments back to $replicas ready replicas" k rollout status "deployment/$payments" --timeout=300s
kill "$sampler" 2>/dev/null || true
sleep 0.2
# The samples in order (the last line may be cut by the kill), and the lowest; no sample at all is not a pass.
ready_series=$(grep -E '^[0-9]+$' "$samples" | jq -sc . || echo '[]')
min_ready=$(jq 'min // -1' <<<"$ready_series")
rm -f "$samples"

result=$(load_wait "$during" 600)
calls=$(load_calls "$during")
[ -n "$result" ] || log "the load Job left no result"
charges=$(calls_summary "$calls" charges 1)
audit=$(ledger_audit "$calls")

probe after "the PodDisruptionBudget was respected" "a PDB covers payments; ready replicas never below replicas − maxUnavailable" \
  "$([ -n "$max_unavailable" ] && [ "$min_ready" -ge $((replicas - max_unavailable)) ] && [ "$min_ready" -ge 1 ] && echo true || echo false)" \
  "$(jq -cn --arg pdb "$max_unavailable" --argjson r "$replicas" --argjson m "$min_ready" --argjson s "$ready_series" '{maxUnavailable: (if $pdb == "" then null else $pdb end), replicas: $r, minReady: (if $m < 0 then null else $m end), readySamples: $s}')"
probe after "charges succeed during the drain (with retries)" "ok >= 99 % of offered" "$(jq '.offered > 0 and .ok >= 0.99 * .offered' <<<"$charges")" "$charges"
probe after "no call hung" "every call ended within its deadline (5 s) + 1 s" "$(jq '.maxMs != null and .maxMs <= 6000' <<<"$charges")" "$(jq .maxMs <<<"$charges")"
audit_probe "$audit"
measure "charges OK / offered" calls null "$(jq .ok <<<"$charges")" "$(jq .offered <<<"$charges")"
measure "ready payments replicas (lowest during the drain)" pods "$replicas" "$([ "$min_ready" -ge 0 ] && echo "$min_ready" || echo null)" null
steady_load after "charges succeed" 'name=charges,key=gold,method=Charge,rate=20'
