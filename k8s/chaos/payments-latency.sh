#!/usr/bin/env bash
# Experiment: payments' database 500 ms slow, through the faults ConfigMap (k8s/chaos/README.md). k8s/faults.sh writes
# the fault and waits until every pod reports its generation (meshbulkheads_faults_generation); each payments pod must
# then show it active (meshbulkheads_faults_active{target="store"}). Under charge, read and report load the
# bulkheads shed with a reason (and pushback), nothing queues without bound, and one of reporting's circuit breakers opens
# (the payments client's or the report breaker). Negative control (--unprotected): Mesh:Pitfalls:NoBulkheads=true
# everywhere, Reporting:PaymentsBreaker:Enabled=false and Reporting:ReportBreaker:Enabled=false.
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin payments-latency "Payments' database 500 ms slow (faults ConfigMap)" \
  "A store latency fault of 500 ms on every payments pod through the faults ConfigMap; meshload in the cluster charges and reads at 20/s (2 s deadlines) and builds 20-account reports at 30/s (2 s)." \
  "A slow database is contained: bounded queues, fast shedding, an open breaker" "$@"

readonly steady_streams=('name=reads,key=gold,method=GetBalance,rate=20' 'name=reports,key=silver,method=BuildReport,rate=2,accounts=10')
readonly slack_ms=1000 queue_age_bound=1.5

if [ "$chaos_unprotected" = true ]; then
  chart_change "no bulkheads, no circuit breakers (the negative control)" "${no_bulkheads_values[@]}" \
    --set components.reporting.config.Reporting.PaymentsBreaker.Enabled=false \
    --set components.reporting.config.Reporting.ReportBreaker.Enabled=false
fi

steady_load before "reads and reports succeed" "${steady_streams[@]}"
require_steady_state

opened_before=$(component_metric reporting resilience_polly_strategy_events_total 'event_name="OnCircuitOpened"')
faults_put "store latency 500 ms on payments" '[{"kind":"latency","target":"store","latencyMs":500,"expiresInSeconds":300}]'
inactive=()
for pod in $(pods_of payments); do
  [ "$(jq -n "$(pod_metric "$pod" meshbulkheads_faults_active 'meshbulkheads_fault_target="store"') >= 1")" = true ] || inactive+=("$pod")
done
[ "${#inactive[@]}" -eq 0 ] || cannot_run "the store fault is active on every payments pod (not on: ${inactive[*]})"
fault_active "store latency 500 ms on every payments pod"

load_job during --duration "$CHAOS_DURATION" \
  --stream name=charges,key=gold,method=Charge,rate=20,deadline=2s \
  --stream name=reads,key=gold,method=GetBalance,rate=20,deadline=2s \
  --stream name=reports,key=gold,method=BuildReport,rate=30,accounts=20,deadline=2s
during=$chaos_job
# The oldest queued call of every bulkhead, sampled on every mesh pod while the load runs (every ~2 s).
oldest=0
for ((i = 0; i < ($(seconds_of "$CHAOS_DURATION") + 1) / 2; i++)); do
  for component in gateway payments reporting; do
    for pod in $(pods_of "$component"); do
      oldest=$(jq -n "[$oldest, $({ pod_metrics "$pod" 2>/dev/null || true; } | metric_max meshbulkheads_bulkhead_queue_oldest_age_seconds)] | max")
    done
  done
  sleep 1
done
result=$(load_wait "$during" 600)
calls=$(load_calls "$during")
opened=$(jq -n "$(component_metric reporting resilience_polly_strategy_events_total 'event_name="OnCircuitOpened"') - $opened_before")

charges=$(calls_summary "$calls" charges "$chaos_fault_ms")
reads=$(calls_summary "$calls" reads "$chaos_fault_ms")
reports=$(calls_summary "$calls" reports "$chaos_fault_ms")
# An outcome with a reason is a rejection (the mesh's one mapping to the wire: reason + grpc-retry-pushback-ms);
# DEADLINE_EXCEEDED without one is the caller's deadline; anything else is an error.
shed='[.outcomes | to_entries[] | select(.key | contains("/")) | .value] | add // 0'
errors='[.outcomes | to_entries[] | select(.key != "OK" and (.key | contains("/") | not) and .key != "DEADLINE_EXCEEDED") | .value] | add // 0'
max_ms=$(jq -s 'map(.maxMs // 0) | max' <<<"$charges$reads$reports")

probe after "no call outlived its deadline" "every call ended within its deadline (2 s) + 1 s" "$(jq -n "$max_ms <= 2000 + $slack_ms")" "$max_ms"
probe after "payments shed with a reason" "charges + reads: rejected > 0, every failure a rejection or the caller's deadline" \
  "$(jq -n --argjson c "$charges" --argjson r "$reads" "(\$c | $shed) + (\$r | $shed) > 0 and (\$c | $errors) + (\$r | $errors) == 0")" \
  "$(jq -cn --argjson c "$charges" --argjson r "$reads" '{charges: $c.outcomes, reads: $r.outcomes}')"
# Per call (meshload's call log carries each final answer's pushbackMs): every shed charge or read told its caller
# when to retry (grpc-retry-pushback-ms: a positive delay, or -1 for "do not retry").
shed_calls=$(jq -sc --argjson from "$chaos_fault_ms" '[.[] | select((.stream == "charges" or .stream == "reads") and .runStartUnixMs + .dueMs >= $from
  and (.status == "UNAVAILABLE" or .status == "RESOURCE_EXHAUSTED") and .reason != null)]
  | {shed: length, withoutPushback: map(select(.pushbackMs == null or .pushbackMs == 0)) | length}' <<<"$calls")
probe after "every shed payments call carried pushback" "charges + reads shed with a reason: each has grpc-retry-pushback-ms" \
  "$(jq '.shed > 0 and .withoutPushback == 0' <<<"$shed_calls")" "$shed_calls"
probe after "reporting shed by deadline or its open circuit" "reports: no errors without a reason; some not OK" \
  "$(jq "($errors) == 0 and .offered > .ok" <<<"$reports")" "$(jq -c .outcomes <<<"$reports")"
probe after "nothing queued without bound" "every bulkhead's oldest queued call <= ${queue_age_bound} s (sampled)" "$(jq -n "$oldest <= $queue_age_bound")" "$oldest"
probe after "the circuit breaker opened" "reporting: resilience_polly_strategy_events_total{event_name=OnCircuitOpened} grew (either breaker)" "$(jq -n "$opened > 0")" "$opened"
for stream in charges reads reports; do
  summary=${!stream}
  measure "$stream OK / offered" calls null "$(jq .ok <<<"$summary")" "$(jq .offered <<<"$summary")"
  measure "$stream rejected with a reason" calls null "$(jq "$shed" <<<"$summary")" null
done
measure "oldest queued call (any bulkhead)" s null "$oldest" null
measure "circuit opened" times null "$opened" null
[ "$result" != "" ] || log "the load Job left no result"

action "clear the faults (k8s/faults.sh clear)" env KUBECTL="$KUBECTL" NAMESPACE="$NAMESPACE" RELEASE="$FULLNAME" "$chaos_root/k8s/faults.sh" clear
# A trial report started just before the clear can still fail (its 2 s deadline) and open the report breaker for one more
# 3 s break, and a trial that meets the payments breaker still open for one more after that.
action "wait out a trial report and the breakers' breaks (2 s + 3 s + 3 s + 1 s)" sleep 9
steady_load after "reads and reports succeed" "${steady_streams[@]}"
