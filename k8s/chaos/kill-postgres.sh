#!/usr/bin/env bash
# Experiment: delete the PostgreSQL pod under charge and read load (k8s/chaos/README.md). The StatefulSet brings it back
# on the same volume. While it is down charges fail fast with UNAVAILABLE (within payments' pool wait, never at the
# caller's deadline); nothing is half-written; once it is back charges succeed and reads on connections that sat idle
# through the outage succeed at once — without restarting payments (same pods, same restart counts).
# Needs: the chart's PostgreSQL StatefulSet (not externalPostgresql, not single-replica SQLite).
# Negative control (--unprotected): payments' idle-connection validation off (Payments:Database:ValidateIdleAfter = 1 h).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin kill-postgres "PostgreSQL pod deleted under load" \
  "meshload in the cluster charges at 30/s throughout and reads at 30/s until the deletion (one attempt each); the PostgreSQL pod is deleted and its StatefulSet recreates it on the same volume; then reads resume on the read pool's idle connections." \
  "Database outages fail fast, leave nothing half-written, and heal without a payments restart" "$@"

readonly postgres=$FULLNAME-postgresql
readonly pod=$postgres-0
readonly fail_fast_ms=3000 recovery_ms=3000
readonly streams=('name=charges,key=gold,method=Charge,rate=20' 'name=reads,key=gold,method=GetBalance,rate=20')
pods_selector=$(selector payments)
readonly pods_selector

k get statefulset "$postgres" -o jsonpath='{.spec.replicas}' >/dev/null 2>&1 || cannot_run "find the PostgreSQL StatefulSet $postgres"
if [ "$chaos_unprotected" = true ]; then
  chart_change "no idle-connection validation (the negative control)" --set components.payments.config.Payments.Database.ValidateIdleAfter=01:00:00
fi

steady_load before "charges and reads succeed" "${streams[@]}"
require_steady_state

payments_pods() { k get pods -l "$pods_selector" -o jsonpath='{range .items[*]}{.metadata.name}={.status.containerStatuses[0].restartCount}{" "}{end}'; }
payments_before=$(payments_pods)
uid_before=$(k get pod "$pod" -o jsonpath='{.metadata.uid}')

load_job during --stream "name=charges,key=gold,method=Charge,rate=30,deadline=5s" --duration "$CHAOS_DURATION"
during=$chaos_job
load_job reads-before --stream "name=reads,key=gold,method=GetBalance,rate=30,deadline=5s" --duration "${CHAOS_FAULT_AFTER:-10}s"
load_wait "$chaos_job" 120 >/dev/null
# The StatefulSet recreates the pod with the same name; the rollback only waits for it.
rollback "PostgreSQL Ready again" "$KUBECTL" -n "$NAMESPACE" wait --for=condition=Ready "pod/$pod" --timeout=300s
killed_ms=$(date +%s%3N)
action "delete pod $pod" k delete pod "$pod" --wait=false
waited=0
until [ "$(k get pod "$pod" -o jsonpath='{.metadata.uid}{"/"}{.metadata.deletionTimestamp}' 2>/dev/null || echo gone)" != "$uid_before/" ]; do
  ((waited++ < 100)) || cannot_run "the PostgreSQL pod is going (still $uid_before after 10 s)"
  sleep 0.1
done
fault_active "$pod deleted"
# The old pod stays Ready while it terminates: first wait for the StatefulSet's new pod (a new uid), then for it to be Ready.
waited=0
until uid=$(k get pod "$pod" -o jsonpath='{.metadata.uid}' 2>/dev/null) && [ -n "$uid" ] && [ "$uid" != "$uid_before" ]; do
  ((waited++ < 300)) || cannot_run "the StatefulSet recreated $pod (no new pod within 300 s)"
  sleep 1
done
action "PostgreSQL Ready again" k wait --for=condition=Ready "pod/$pod" --timeout=300s
back_ms=$(date +%s%3N)
load_job reads-after --stream "name=reads-after,key=gold,method=GetBalance,rate=30,deadline=5s" --duration 4s
reads_after=$(calls_summary "$(load_wait "$chaos_job" 120 >/dev/null; load_calls "$chaos_job")" reads-after 1)

result=$(load_wait "$during" 600)
calls=$(load_calls "$during")
[ -n "$result" ] || log "the load Job left no result"
failed=$(jq -sc '[.[] | select(.stream == "charges" and .status != "OK")]
  | {failed: length, maxMs: (map(.endMs - .dueMs) | max | if . == null then null else (. * 10 | round / 10) end), statuses: (map(.status) | group_by(.) | map({key: .[0], value: length}) | from_entries)}' <<<"$calls")
late=$(calls_summary "$calls" charges $((back_ms + recovery_ms)))
audit=$(ledger_audit "$calls")
half=$(sql "SELECT count(*) FROM accounts a WHERE a.payment_count <> (SELECT count(*) FROM payments p WHERE p.tenant_id = a.tenant_id AND p.account_id = a.account_id)
  OR a.balance_minor <> COALESCE((SELECT p.balance_after_minor FROM payments p WHERE p.tenant_id = a.tenant_id AND p.account_id = a.account_id ORDER BY p.seq DESC LIMIT 1), a.balance_minor)" || echo null)
payments_after=$(payments_pods)

probe after "charges failed fast with UNAVAILABLE while the database was down" "every failed charge: UNAVAILABLE, within $((fail_fast_ms / 1000)) s" \
  "$(jq '.failed > 0 and (.statuses | keys == ["UNAVAILABLE"]) and .maxMs <= '"$fail_fast_ms" <<<"$failed")" "$failed"
audit_probe "$audit"
probe after "nothing half-written" "no account whose payment count or balance disagrees with its payments" "$([ "$half" = 0 ] && echo true || echo false)" "$(jq -cn --arg h "$half" '{accountsDisagreeing: $h}')"
probe after "every charge succeeded once the database was back" "charges due from $((recovery_ms / 1000)) s after PostgreSQL was back: some, all OK" \
  "$(jq '.offered > 0 and .ok == .offered' <<<"$late")" "$late"
probe after "reads resumed cleanly on the idle pool" "every read after the database was back: OK" "$(jq '.offered > 0 and .ok == .offered' <<<"$reads_after")" "$reads_after"
probe after "payments was not restarted" "the same pods with the same restart counts" "$([ "$payments_before" = "$payments_after" ] && echo true || echo false)" \
  "$(jq -cn --arg b "$payments_before" --arg a "$payments_after" '{before: $b, after: $a}')"
measure "charges failed" calls null "$(jq .failed <<<"$failed")" "$(jq '.offered - .ok' <<<"$late")"
measure "slowest failed charge" ms null "$(jq '.maxMs // null' <<<"$failed")" null
measure "PostgreSQL down" s null "$(jq -n "($back_ms - $killed_ms) / 1000")" null
measure "reads failed after the database was back" calls null null "$(jq '.offered - .ok' <<<"$reads_after")"
steady_load after "charges and reads succeed" "${streams[@]}"
