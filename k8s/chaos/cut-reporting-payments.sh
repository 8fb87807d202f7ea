#!/usr/bin/env bash
# Experiment: a NetworkPolicy cuts reporting → payments (k8s/chaos/README.md): the payments egress rule is removed from
# the chart's <fullname>-reporting NetworkPolicy, so reporting's packets to payments are dropped (not refused). Reports
# must end within the mesh's deadline for them (the gateway's and reporting's Max, 30 s as shipped) although the client
# asks for 60 s — no call hangs — and payments reads on the same gateway are unaffected.
# Needs: networkPolicy.enabled (the chart's default) and a CNI that enforces NetworkPolicies, established connections
# included (the cut is verified before measuring; without it the experiment cannot run, exit 2).
# Negative control (--unprotected): deadline enforcement off for reporting (gateway and reporting Default = Max = 1 h).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin cut-reporting-payments "A NetworkPolicy cuts reporting from payments" \
  "The payments egress rule of the reporting NetworkPolicy is removed under load: meshload in the cluster builds 10-account reports at 2/s asking a 60 s deadline, and reads balances at 20/s on the same gateway." \
  "Calls across a cut hop end at the mesh's deadline, and other routes are unaffected" "$@"

readonly policy=$FULLNAME-reporting
readonly steady_streams=('name=reports,key=gold,method=BuildReport,rate=2,accounts=10' 'name=reads,key=gold,method=GetBalance,rate=20')
readonly prefix=/meshbulkheads.reporting.v1.ReportingService/
readonly cap_ms=30000 slack_ms=1000

original=$(k get networkpolicy "$policy" -o json 2>/dev/null || true)
[ -n "$original" ] || cannot_run "find the NetworkPolicy $policy (networkPolicy.enabled)"
index=$(jq '.spec.egress | map(any(.to[]?; .podSelector.matchLabels["app.kubernetes.io/component"] == "payments")) | index(true) // empty' <<<"$original")
[ -n "$index" ] || cannot_run "find the payments egress rule in $policy"
rule=$(jq -c ".spec.egress[$index]" <<<"$original")

if [ "$chaos_unprotected" = true ]; then
  # Every gateway deadline as shipped except reporting's, which is lifted to 1 h there and in reporting itself.
  gateway_deadlines=$("$HELM" get values "$RELEASE" -n "$NAMESPACE" --all -o json | jq -c --arg p "$prefix" \
    '.components.gateway.deadlines | map(if .prefix == $p then .default = "01:00:00" | .max = "01:00:00" else . end)')
  chart_change "reporting's deadline not enforced (the negative control)" --set-json "components.gateway.deadlines=$gateway_deadlines" \
    --set-json "components.reporting.deadlines=[{\"prefix\":\"$prefix\",\"default\":\"01:00:00\",\"max\":\"01:00:00\"}]"
  # The promise stays the shipped one (30 s): the control must break it, not move it.
fi

steady_load before "reports and reads succeed" "${steady_streams[@]}"
require_steady_state

# Idempotent: puts the rule back only when it is missing (the method heals the cut itself before the after-state).
restore="$(printf '%q ' "$KUBECTL" -n "$NAMESPACE") get networkpolicy $policy -o json | jq -e --argjson r $(printf '%q' "$rule") '.spec.egress | index([\$r]) != null' >/dev/null \
  || $(printf '%q ' "$KUBECTL" -n "$NAMESPACE" patch networkpolicy "$policy" --type=json -p "[{\"op\":\"add\",\"path\":\"/spec/egress/$index\",\"value\":$rule}]")"
rollback "restore reporting's egress to payments ($policy)" bash -c "$restore"
action "cut reporting → payments (remove egress rule $index of $policy)" k patch networkpolicy "$policy" --type=json -p "[{\"op\":\"remove\",\"path\":\"/spec/egress/$index\"}]"

# Verified: short reports fail across the cut (a CNI that does not enforce the policy, or keeps established
# connections, lets them through: then the experiment cannot run).
cut=false
for attempt in 1 2 3; do
  load_job "cut-check-$attempt" --stream name=check,key=gold,method=BuildReport,rate=5,accounts=2,deadline=3s --duration 3s
  check=$(load_wait "$chaos_job" 60)
  if [ -n "$check" ] && [ "$(stream_field "$check" check offered)" -gt 0 ] && [ "$(stream_field "$check" check ok)" = 0 ]; then cut=true; break; fi
  sleep 10
done
[ "$cut" = true ] || cannot_run "the cut is enforced (reports still succeeded: does the CNI enforce NetworkPolicies on established connections?)"
fault_active "reporting → payments cut"

load_job during --duration "$CHAOS_DURATION" --stream name=reports,key=gold,method=BuildReport,rate=2,accounts=10,deadline=60s \
  --stream name=reads,key=gold,method=GetBalance,rate=20
during=$chaos_job
result=$(load_wait "$during" 900)
calls=$(load_calls "$during")
[ -n "$result" ] || log "the load Job left no result"
reports=$(calls_summary "$calls" reports "$chaos_fault_ms")
reads=$(calls_summary "$calls" reads "$chaos_fault_ms")

probe after "every report across the cut ended by the mesh's deadline" "max latency <= $((cap_ms / 1000)) s + 1 s (the client asked 60 s), none OK" \
  "$(jq "(.offered > 0) and (.maxMs <= $cap_ms + $slack_ms) and (.ok == 0)" <<<"$reports")" "$reports"
probe after "payments on the same gateway unaffected" "reads: ok == 100 %, p99 < their 2 s deadline" "$(jq '.offered > 0 and .ok == .offered and .p99Ms < 2000' <<<"$reads")" "$reads"
measure "slowest report across the cut" ms null "$(jq .maxMs <<<"$reports")" null
measure "reads OK / offered" calls null "$(jq .ok <<<"$reads")" "$(jq .offered <<<"$reads")"

action "heal the cut (restore the egress rule)" bash -c "$restore"
# Recovery: reporting's circuit breakers opened across the cut and let a trial call through after their break
# (3 s as shipped); short reports until one succeeds, at most 60 s, before the after-state is judged.
healed_ms=$(date +%s%3N)
recovered=false
for attempt in $(seq 1 20); do
  load_job "heal-check-$attempt" --stream name=check,key=gold,method=BuildReport,rate=2,accounts=2,deadline=3s --duration 1s
  check=$(load_wait "$chaos_job" 60)
  if [ -n "$check" ] && [ "$(stream_field "$check" check ok)" -gt 0 ]; then recovered=true; break; fi
  sleep 2
done
recovery_ms=$(($(date +%s%3N) - healed_ms))
probe after "reports succeed again after the cut heals" "a report succeeds within 60 s of the rule's return" "$recovered" \
  "$(jq -cn --argjson r "$recovered" --argjson ms "$recovery_ms" '{recovered: $r, afterMs: $ms}')"
measure "reports succeed again after the heal" ms null null "$([ "$recovered" = true ] && echo "$recovery_ms" || echo null)"
steady_load after "reports and reads succeed" "${steady_streams[@]}"
