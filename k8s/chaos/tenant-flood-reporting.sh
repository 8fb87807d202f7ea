#!/usr/bin/env bash
# Experiment: one tenant floods reporting (k8s/chaos/README.md). globex (silver) sends 50-account reports far over its
# tier while acme charges and reads and initech reads, all from one in-cluster meshload Job; the gateway's tenant rate
# limits and the bulkheads shed the flood with reasons, and the quiet tenants stay within slo.yaml.
# Negative control (--unprotected): Mesh:Pitfalls:NoBulkheads=true in every pod (default.extraEnv, a helm upgrade;
# rolled back with helm rollback).
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin tenant-flood-reporting "One tenant floods reporting" \
  "globex (silver) sends BuildReport with 50 accounts at 60/s — far over its tier — while acme charges and reads at 20/s each and initech reads at 2/s, from an in-cluster meshload Job." \
  "A flooding tenant is shed; the other tenants keep their SLOs" "$@"

readonly quiet=('name=acme-charges,key=gold,method=Charge,rate=20' 'name=acme-reads,key=gold,method=GetBalance,rate=20' 'name=initech-reads,key=bronze,method=GetBalance,rate=2')

if [ "$chaos_unprotected" = true ]; then
  chart_change "no bulkheads anywhere (the negative control)" "${no_bulkheads_values[@]}"
fi

steady_load before "quiet tenants succeed without the flood" "${quiet[@]}"
require_steady_state

args=(--duration "$CHAOS_DURATION" --stream "name=globex-flood,key=silver,method=BuildReport,rate=60,accounts=50,start=${CHAOS_FAULT_AFTER:-10}s")
for stream in "${quiet[@]}"; do args+=(--stream "$stream"); done
load_job during "${args[@]}"
during=$chaos_job

# The fault is active when the gateway has seen the flood: globex's request count there grows by ≥ 20.
reports_at_start=$(component_metric gateway meshbulkheads_gateway_request_duration_seconds_count 'meshbulkheads_tenant="globex"')
waited=0
until [ "$(jq -n "$(component_metric gateway meshbulkheads_gateway_request_duration_seconds_count 'meshbulkheads_tenant="globex"') - $reports_at_start >= 20")" = true ]; do
  ((waited++ < 60)) || cannot_run "the flood reached the gateway (globex's requests there did not grow within 60 s)"
  sleep 1
done
fault_active "globex's flood reaches the gateway"

result=$(load_wait "$during" 600)
calls=$(load_calls "$during")
[ -n "$result" ] || result=null
flood=$(calls_summary "$calls" globex-flood "$chaos_fault_ms")

for stream in acme-charges acme-reads initech-reads; do
  objective=$([ "$stream" = acme-charges ] && echo payments-charge || echo payments-getbalance)
  slo_probe "$calls" "$stream" "$objective" "$chaos_fault_ms"
  measure "$stream p99 during the flood" ms null "$(calls_summary "$calls" "$stream" "$chaos_fault_ms" | jq .p99Ms)" null
done
rejected=$(jq '[.outcomes | to_entries[] | select(.key | contains("/")) | .value] | add // 0' <<<"$flood")
probe after "the flood was shed with reasons" "globex: calls rejected with a reason > 0" "$(jq -n "$rejected > 0")" "$flood"
measure "globex flood OK" calls null "$(jq .ok <<<"$flood")" null
measure "globex flood rejected with a reason" calls null "$rejected" null
steady_load after "quiet tenants succeed after the flood" "${quiet[@]}"
