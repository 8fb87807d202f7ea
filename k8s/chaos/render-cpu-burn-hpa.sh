#!/usr/bin/env bash
# Experiment: render burns its CPU while the HPA scales it out (k8s/chaos/README.md). acme and globex send heavy
# renders (within their rate limits) far over render's capacity while acme charges and reads; render's CPU limit and
# its workers sized from it keep payments within slo.yaml, the HPA (CPU target) adds render pods, and the new pods
# receive traffic — each pod's share from its own /metrics (meshbulkheads_rpc_server_duration_seconds_count{rpc_method="Render"}).
# Needs: the chart's render HPA (autoscaling.provider + components.render.autoscaling.enabled, ci/autoscaling-*-values.yaml)
# and metrics-server. Negative control (--unprotected): every bound on render's CPU off, as the local experiment's
# (tools/MeshBulkheads.Chaos, RenderCpuBurnExperiment): no CPU limit, Render:WorkerCount=32 at normal priority, no
# work budget, and Mesh:Pitfalls:NoBulkheads in render and the gateway (extraEnv), so the gateway's render route
# admits every render too. (Inline rendering behind the gateway's bounded route held the SLOs locally.)
set -euo pipefail
# shellcheck source=k8s/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chaos_begin render-cpu-burn-hpa "Render burns its CPU while the HPA scales it out" \
  "acme and globex send heavy renders (512×512, 2000 iterations, 19/s in all, within their rate limits) far over render's capacity while acme charges and reads at 20/s each; the HPA scales render on CPU." \
  "A CPU-bound service burning its cores does not take the other routes out of their SLOs, and the pods the HPA adds take their share" "$@"

readonly render=$FULLNAME-render
readonly quiet=('name=acme-charges,key=gold,method=Charge,rate=20' 'name=acme-reads,key=gold,method=GetBalance,rate=20')
readonly burn_duration=${CHAOS_BURN_DURATION:-180s} render_calls='rpc_method="Render"'

# The HPA that scales render: the chart's own (prometheus-adapter) or the one KEDA's ScaledObject owns.
max_replicas=$(k get hpa -o jsonpath="{range .items[?(@.spec.scaleTargetRef.name==\"$render\")]}{.spec.maxReplicas}{end}" 2>/dev/null || true)
[ -n "$max_replicas" ] || cannot_run "find an HPA scaling $render (autoscaling.provider and components.render.autoscaling.enabled)"
min_replicas=$(k get hpa -o jsonpath="{range .items[?(@.spec.scaleTargetRef.name==\"$render\")]}{.spec.minReplicas}{end}" 2>/dev/null || true)
min_replicas=${min_replicas:-1}

if [ "$chaos_unprotected" = true ]; then
  chart_change "render without its CPU bound (the negative control)" --set components.render.resources.limits.cpu=null \
    --set-json 'components.render.extraEnv=[{"name":"Mesh__Pitfalls__NoBulkheads","value":"true"}]' \
    --set-json 'components.gateway.extraEnv=[{"name":"Mesh__Pitfalls__NoBulkheads","value":"true"}]' \
    --set components.render.config.Render.WorkerCount=32 --set components.render.config.Render.BelowNormalPriority=false \
    --set components.render.config.Render.TenantWorkBudget.Enabled=false
fi

steady_load before "acme succeeds without the burn" "${quiet[@]}"
require_steady_state

# A scale-out needs room: render back at its HPA's minimum first (a run before may have left it scaled out; the HPA's
# scale-down stabilization is 5 min by default), at most CHAOS_SCALE_IN_WAIT seconds (360).
waited=0
until [ "$(pods_of render | grep -c .)" -le "$min_replicas" ]; do
  ((waited++ < ${CHAOS_SCALE_IN_WAIT:-360})) || cannot_run "render back at its HPA minimum ($min_replicas pods) before the burn"
  sleep 1
done
mapfile -t pods_before < <(pods_of render)
replicas_before=${#pods_before[@]}
args=(--duration "$burn_duration"
  --stream "name=burn-acme,key=gold,method=Render,rate=15,size=512,iterations=2000,start=${CHAOS_FAULT_AFTER:-10}s"
  --stream "name=burn-globex,key=silver,method=Render,rate=4,size=512,iterations=2000,start=${CHAOS_FAULT_AFTER:-10}s")
for stream in "${quiet[@]}"; do args+=(--stream "$stream"); done
renders_at_start=$(component_metric render meshbulkheads_rpc_server_duration_seconds_count "$render_calls")
load_job during "${args[@]}"
during=$chaos_job

waited=0
until [ "$(jq -n "$(component_metric render meshbulkheads_rpc_server_duration_seconds_count "$render_calls") - $renders_at_start >= 10")" = true ]; do
  ((waited++ < 60)) || cannot_run "the burn reached render (its Render count did not grow within 60 s)"
  sleep 1
done
fault_active "renders burning on ${replicas_before} render pod(s)"

# Scale-out: new render pods running, at most 150 s after the burn began.
new_pods=()
for ((i = 0; i < 75; i++)); do
  new_pods=()
  for pod in $(pods_of render); do
    [[ " ${pods_before[*]} " == *" $pod "* ]] || new_pods+=("$pod")
  done
  [ "${#new_pods[@]}" -eq 0 ] || break
  sleep 2
done
scaled_at=$(now)
declare -A at_scale
for pod in $(pods_of render); do at_scale[$pod]=$(pod_metric "$pod" meshbulkheads_rpc_server_duration_seconds_count "$render_calls"); done
log "render pods after the scale-out: ${!at_scale[*]} (new: ${new_pods[*]:-none}) at $scaled_at"

result=$(load_wait "$during" 900)
calls=$(load_calls "$during")
[ -n "$result" ] || log "the load Job left no result"
# Each pod's calls since the scale-out, from its own /metrics.
shares='{}'
for pod in $(pods_of render); do
  delta=$(jq -n "$(pod_metric "$pod" meshbulkheads_rpc_server_duration_seconds_count "$render_calls") - ${at_scale[$pod]:-0}")
  shares=$(jq -c --arg p "$pod" --argjson d "$delta" --argjson new "$([[ " ${new_pods[*]} " == *" $pod "* ]] && echo true || echo false)" '. + {($p): {calls: $d, new: $new}}' <<<"$shares")
done
shares=$(jq -c '([.[].calls] | add // 0) as $t | map_values(. + {share: (if $t > 0 then (.calls / $t * 1000 | round / 1000) else 0 end)})' <<<"$shares")

for stream in acme-charges acme-reads; do
  objective=$([ "$stream" = acme-charges ] && echo payments-charge || echo payments-getbalance)
  slo_probe "$calls" "$stream" "$objective" "$chaos_fault_ms"
  measure "$stream p99 during the burn" ms null "$(calls_summary "$calls" "$stream" "$chaos_fault_ms" | jq .p99Ms)" null
done
probe after "the HPA scaled render out" "new render pods within 150 s of the burn (max $max_replicas)" "$([ "${#new_pods[@]}" -gt 0 ] && echo true || echo false)" \
  "$(jq -cn --argjson b "$replicas_before" --argjson n "${#new_pods[@]}" '{before: $b, added: $n}')"
probe after "the new render pods receive traffic" "every new pod: Render calls since the scale-out > 0 (its own /metrics)" \
  "$(jq '[.[] | select(.new)] | length > 0 and all(.calls > 0)' <<<"$shares")" "$shares"
measure "render pods" pods "$replicas_before" "$((replicas_before + ${#new_pods[@]}))" null
measure "share of the new render pods after the scale-out" ratio null "$(jq '[.[] | select(.new) | .share] | add // 0' <<<"$shares")" null
burn=$(calls_summary "$calls" burn-acme "$chaos_fault_ms")
measure "renders OK (acme)" calls null "$(jq .ok <<<"$burn")" "$(jq .offered <<<"$burn")"
steady_load after "acme succeeds after the burn" "${quiet[@]}"
