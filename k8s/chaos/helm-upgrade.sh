#!/usr/bin/env bash
# Experiment: `helm upgrade` under charge load (k8s/chaos/README.md). The upgrade changes a pod annotation, so every
# Deployment rolls; readiness, preStop and the hosts' drain keep calls flowing, the client retries (same idempotency
# key), and the audit against PostgreSQL finds every acknowledged charge exactly once. Rolled back with helm rollback.
# Negative control (--unprotected): a first upgrade without the graceful shutdown (preStop 0 s, host drain 1 s), then
# the measured upgrade, with one attempt per charge (no retries).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin helm-upgrade "helm upgrade under charge load" \
  "meshload in the cluster charges at 50/s (3 attempts, one idempotency key per charge) while helm upgrade rolls every Deployment (a pod annotation)." \
  "Charges succeed through the rollout, none hangs, and every acknowledged charge is recorded exactly once" "$@"

readonly duration=${CHAOS_UPGRADE_DURATION:-180s}
attempts=3
"$HELM" status "$RELEASE" -n "$NAMESPACE" >/dev/null 2>&1 || cannot_run "find helm release $RELEASE in $NAMESPACE"

if [ "$chaos_unprotected" = true ]; then
  chart_change "no graceful shutdown (the negative control)" --set shutdown.preStopSleepSeconds=0 --set shutdown.hostShutdownTimeoutSeconds=1
  attempts=1
fi

steady_load before "charges succeed" 'name=charges,key=gold,method=Charge,rate=20'
require_steady_state

load_job during --stream "name=charges,key=gold,method=Charge,rate=50,deadline=5s" --duration "$duration" --attempts "$attempts"
during=$chaos_job
sleep "${CHAOS_FAULT_AFTER:-10}"
mapfile -t deployments < <(k get deployments -l "app.kubernetes.io/instance=$RELEASE" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
declare -A generation
for deployment in "${deployments[@]}"; do generation[$deployment]=$(k get deployment "$deployment" -o jsonpath='{.metadata.generation}'); done
chart_change --no-wait "upgrade: every pod rolls" --set-string "default.podAnnotations.meshbulkheads\.io/chaos-upgrade=$(date -u +%Y%m%dT%H%M%SZ)"
unchanged=()
for deployment in "${deployments[@]}"; do
  [ "$(k get deployment "$deployment" -o jsonpath='{.metadata.generation}')" != "${generation[$deployment]}" ] || unchanged+=("$deployment")
done
if [ "${#deployments[@]}" -eq 0 ] || [ "${#unchanged[@]}" -gt 0 ]; then
  cannot_run "the upgrade changed every Deployment (unchanged: ${unchanged[*]:-no Deployments found})"
fi
fault_active "the rollout of ${#deployments[@]} Deployments has begun"
for deployment in "${deployments[@]}"; do
  action "rollout of $deployment complete" k rollout status "deployment/$deployment" --timeout=600s
done

result=$(load_wait "$during" 900)
calls=$(load_calls "$during")
[ -n "$result" ] || log "the load Job left no result"
charges=$(calls_summary "$calls" charges 1)
audit=$(ledger_audit "$calls")

probe after "charges succeed through the rollout" "ok >= 99 % of offered" "$(jq '.offered > 0 and .ok >= 0.99 * .offered' <<<"$charges")" "$charges"
probe after "no call hung" "every call ended within its deadline (5 s) + 1 s" "$(jq '.maxMs != null and .maxMs <= 6000' <<<"$charges")" "$(jq .maxMs <<<"$charges")"
audit_probe "$audit"
measure "charges OK / offered" calls null "$(jq .ok <<<"$charges")" "$(jq .offered <<<"$charges")"
measure "slowest call" ms null "$(jq .maxMs <<<"$charges")" null
steady_load after "charges succeed" 'name=charges,key=gold,method=Charge,rate=20'
