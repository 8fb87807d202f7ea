#!/usr/bin/env bash
# Experiment: delete a payments pod under charge load (k8s/chaos/README.md). The Deployment replaces it; readiness
# keeps the new pod out of the Service until it serves; the client's retries (same idempotency key) and the other
# replica carry the load; every acknowledged charge is in PostgreSQL exactly once.
# Negative control (--unprotected): payments scaled to one replica for the run (no other pod to carry the load).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin delete-payments-pod "Delete a payments pod under charge load" \
  "meshload in the cluster charges at 50/s (3 attempts, one idempotency key per charge); one payments pod is deleted; the Deployment replaces it." \
  "Charges succeed and every acknowledged charge is recorded exactly once" "$@"

readonly payments=$FULLNAME-payments selector=app.kubernetes.io/component=payments,app.kubernetes.io/instance=$RELEASE

# Steady state: charges through the gateway succeed.
steady() {
  load_job "steady-$1" --stream name=charges,key=gold,method=Charge,rate=20 --duration "${CHAOS_STEADY:-10s}" --threshold 'charges:ok>=99%'
  local result
  result=$(load_wait "$chaos_job" 120)
  local offered ok
  offered=$(stream_field "$result" charges offered)
  ok=$(stream_field "$result" charges ok)
  probe "$1" "charges succeed" "ok >= 99 % of offered" "$(jq -n --argjson ok "$ok" --argjson offered "$offered" '$offered > 0 and $ok >= 0.99 * $offered')" "$(stream_summary "$result" charges)"
}
steady before
require_steady_state

if [ "$chaos_unprotected" = true ]; then
  scale_to_one_replica "$payments"
fi

load_job during --stream "name=charges,key=gold,method=Charge,rate=50,deadline=5s" --duration "$CHAOS_DURATION" --attempts 3
during=$chaos_job
sleep "${CHAOS_FAULT_AFTER:-10}"
victim=$(k get pods -l "$selector" -o jsonpath='{.items[0].metadata.name}')
[ -n "$victim" ] || { log "no payments pod found ($selector)"; chaos_status=failed; exit 2; }
action "delete pod $victim" k delete pod "$victim" --wait=false
action "the pod is gone and a replacement is Ready" k wait --for=condition=Ready pod -l "$selector" --timeout=120s
result=$(load_wait "$during" 600)
calls=$(load_calls "$during")

offered=$(stream_field "$result" charges offered)
ok=$(stream_field "$result" charges ok)
acked_keys=$(jq -r 'select(.status == "OK") | .idempotencyKey' <<<"$calls" | sort -u)
acked=$(grep -c . <<<"$acked_keys" || true)
max_ms=$(jq -s 'map(.endMs - .dueMs) | max // 0' <<<"$calls")
# The audit: every acknowledged key has exactly one row (the unique index makes more impossible; count them anyway).
in_list=$(jq -Rr "\"'\" + . + \"'\"" <<<"$acked_keys" | paste -sd, -)
stored=$( [ "$acked" -gt 0 ] && sql "SELECT count(DISTINCT idempotency_key) FROM payments WHERE idempotency_key IN ($in_list)" || echo 0)
rows=$( [ "$acked" -gt 0 ] && sql "SELECT count(*) FROM payments WHERE idempotency_key IN ($in_list)" || echo 0)
missing=$((acked - stored))
duplicated=$((rows - stored))

measure "charges OK / offered" calls null "$ok" "$offered"
measure "slowest call" ms null "$max_ms" null
measure "acknowledged charges missing from the ledger" charges null null "$missing"
measure "acknowledged charges duplicated in the ledger" charges null null "$duplicated"

probe after "charges succeed during the deletion (with retries)" "ok >= 99 % of offered" \
  "$(jq -n --argjson ok "$ok" --argjson offered "$offered" '$offered > 0 and $ok >= 0.99 * $offered')" "$(stream_summary "$result" charges)"
probe after "no call hung" "every call ended within its deadline (5 s) + 1 s" "$(jq -n --argjson m "$max_ms" '$m <= 6000')" "$max_ms"
probe after "every acknowledged charge is in the ledger exactly once" "missing == 0, duplicated == 0" \
  "$([ "$missing" = 0 ] && [ "$duplicated" = 0 ] && [ "$acked" -gt 0 ] && echo true || echo false)" \
  "$(jq -cn --argjson a "$acked" --argjson m "$missing" --argjson d "$duplicated" '{acknowledged: $a, missing: $m, duplicated: $d}')"
steady after
