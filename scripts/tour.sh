#!/usr/bin/env bash
# `make tour STEP=n` (docs/tour.md): one step of the guided tour of the seed's rows. Each step starts the
# hosts it needs from the built output on 127.0.0.1 (OS-chosen ports), runs its load with the step's
# switch off and on, prints the numbers of the metric the step names (scraped from /metrics before and
# after, or meshload's --json), and stops every host it started (on exit, Ctrl-C included).
# Usage: scripts/tour.sh STEP [--short]     scripts/tour.sh all --short   (what `make tour-check` runs)
#        scripts/tour.sh list
# Environment: CONFIGURATION (Release by default: Debug renders are several times slower and the
# numbers would describe the JIT's unoptimised code), TOUR_SHORT=1, TOUR_NO_BUILD=1 (use the built output).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root"

configuration=${CONFIGURATION:-Release}
config_dir=$(echo "$configuration" | tr '[:upper:]' '[:lower:]')
readonly configuration config_dir
short=${TOUR_SHORT:-0}
readonly steps=19
readonly ready_timeout=120
readonly loadgen_dll=artifacts/bin/MeshBulkheads.LoadGen/$config_dir/MeshBulkheads.LoadGen.dll
# A destination nothing listens on, for the gateway clusters a step does not start.
readonly nowhere=http://127.0.0.1:9

work=$(mktemp -d "${TMPDIR:-/tmp}/meshbulkheads-tour-XXXXXX")
readonly work
# shellcheck source=scripts/identity.sh
. scripts/identity.sh
identity_init "$work/identity.env"
# Where a step keeps its scrapes from before and after its load.
readonly b=$work/b a=$work/a
declare -A GRPC=() ADMIN=() PIDS=()
SAMPLER_PID=
PROBE_PID=

# --- hosts ----------------------------------------------------------------------------------------

stop_hosts() {
  local name pid t0
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=; fi
  if [ -n "$PROBE_PID" ]; then kill "$PROBE_PID" 2>/dev/null || true; PROBE_PID=; fi
  for name in "${!PIDS[@]}"; do kill -TERM "${PIDS[$name]}" 2>/dev/null || true; done
  t0=$SECONDS
  for name in "${!PIDS[@]}"; do
    pid=${PIDS[$name]}
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 15)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=() GRPC=() ADMIN=()
}

cleanup() {
  stop_hosts
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_host NAME PROJECT [KEY=VALUE ...]: the built host on OS-chosen 127.0.0.1 ports, waits for /readyz.
start_host() {
  local name=$1 project=$2 dll log ports t0
  shift 2
  dll=artifacts/bin/MeshBulkheads.$project/$config_dir/MeshBulkheads.$project.dll
  [ -f "$dll" ] || { echo "tour: $dll is missing: run \`make build\` (CONFIGURATION=$configuration) first" >&2; exit 1; }
  log=$work/$name.log
  : >"$log"
  local identity
  mapfile -t identity < <(identity_env "$project")
  env -u OTEL_EXPORTER_OTLP_ENDPOINT DOTNET_ENVIRONMENT=Development "${identity[@]}" \
    Mesh__GrpcPort=0 Mesh__AdminPort=0 Mesh__BindAddress=127.0.0.1 \
    Logging__LogLevel__Default=Warning 'Logging__LogLevel__Microsoft.Hosting.Lifetime=Information' \
    Logging__Console__FormatterName=simple Logging__Console__FormatterOptions__ColorBehavior=Disabled \
    "$@" dotnet exec "$dll" >"$log" 2>&1 </dev/null &
  PIDS[$name]=$!
  t0=$SECONDS
  while :; do
    # Kestrel logs gRPC first, then admin (ServiceDefaults binds them in that order).
    mapfile -t ports < <(sed -n 's|.*Now listening on: http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
    if [ "${#ports[@]}" -ge 2 ] && curl -sf -o /dev/null "http://127.0.0.1:${ports[1]}/readyz"; then break; fi
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null || ((SECONDS - t0 > ready_timeout)); then
      echo "tour: $name did not become ready; its output:" >&2
      tail -n 30 "$log" >&2
      exit 1
    fi
    sleep 0.3
  done
  GRPC[$name]=http://127.0.0.1:${ports[0]}
  ADMIN[$name]=http://127.0.0.1:${ports[1]}
}

# start_gateway [KEY=VALUE ...]: the gateway in front of whichever services are running.
start_gateway() {
  start_host gateway Gateway \
    ReverseProxy__Clusters__payments__Destinations__d1__Address="${GRPC[payments]:-$nowhere}" \
    ReverseProxy__Clusters__reporting__Destinations__d1__Address="${GRPC[reporting]:-$nowhere}" \
    ReverseProxy__Clusters__render__Destinations__d1__Address="${GRPC[render]:-$nowhere}" "$@"
}

# The demo accounts are seeded once per tour into $work/seeded (seeding replays every charge through the
# ledger, so with a pitfall's extra query latency it would take minutes); each run gets a copy.
seed_ledger() {
  [ -d "$work/seeded" ] && return 0
  mkdir -p "$work/seeded"
  start_host payments Payments Payments__DataDirectory="$work/seeded"
  stop_hosts
}

# start_payments RUN [KEY=VALUE ...]: payments on a fresh copy of the seeded ledger.
start_payments() {
  local others=("${!PIDS[@]}")
  if [ ! -d "$work/seeded" ]; then
    [ "${#others[@]}" -eq 0 ] || { echo "tour: start payments before the other hosts" >&2; exit 1; }
    seed_ledger
  fi
  cp -r "$work/seeded" "$work/data-$1"
  start_host payments Payments Payments__DataDirectory="$work/data-$1" Payments__Seed=false "${@:2}"
}

start_reporting() {
  start_host reporting Reporting Reporting__PaymentsAddress="${GRPC[payments]}" "$@"
}

# Render with the tenant work budget and share lifted: only its workers and queue limit it.
start_render() {
  start_host render Render Render__TenantWorkBudget__Enabled=false Bulkheads__render__TenantMaxShare=1 "$@"
}

# --- metrics --------------------------------------------------------------------------------------

# scrape HOST FILE: the host's /metrics (the exporter caches 300 ms: wait that long after load).
scrape() {
  curl -sf "${ADMIN[$1]}/metrics" >"$2" || : >"$2"
}

# _series FILE NAME FILTER...: the values of series NAME whose labels contain every FILTER fragment.
_series() {
  local file=$1 name=$2
  shift 2
  awk -v name="$name" -v filters="$*" '
    BEGIN { n = split(filters, f, " ") }
    /^#/ { next }
    { split($0, head, /[{ ]/); if (head[1] != name) next
      for (i = 1; i <= n; i++) if (index($0, f[i]) == 0) next
      print $NF }' "$file"
}

# sum FILE NAME FILTER... / max FILE NAME FILTER...
sum() { _series "$@" | awk '{ s += $1 } END { printf "%.6g\n", s + 0 }'; }
max() { _series "$@" | awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { printf "%.6g\n", m }'; }

# delta BEFORE AFTER NAME FILTER...: how much a counter (or a histogram's _count/_sum) grew.
delta() {
  local before=$1 after=$2
  shift 2
  awk -v a="$(sum "$after" "$@")" -v b="$(sum "$before" "$@")" 'BEGIN { printf "%.6g\n", a - b }'
}

# hmean_ms BEFORE AFTER HISTOGRAM FILTER...: mean of the samples recorded between the scrapes, in ms.
hmean_ms() {
  local before=$1 after=$2 name=$3
  shift 3
  awk -v s="$(delta "$before" "$after" "${name}_sum" "$@")" -v c="$(delta "$before" "$after" "${name}_count" "$@")" \
    'BEGIN { if (c > 0) printf "%.1f\n", 1000 * s / c; else print "n/a" }'
}

# habove BEFORE AFTER HISTOGRAM LE FILTER...: samples recorded between the scrapes above bucket LE.
habove() {
  local before=$1 after=$2 name=$3 le=$4
  shift 4
  awk -v c="$(delta "$before" "$after" "${name}_count" "$@")" -v b="$(delta "$before" "$after" "${name}_bucket" "le=\"$le\"" "$@")" \
    'BEGIN { printf "%d\n", c - b }'
}

# sampler_start HOST NAME FILTER...: the highest value of gauge NAME every 250 ms into $work/sampled.
# sampler_stop prints that maximum.
sampler_start() {
  local host=$1
  shift
  : >"$work/sampled"
  (
    while :; do
      curl -sf "${ADMIN[$host]}/metrics" >"$work/sample.prom" 2>/dev/null || true
      max "$work/sample.prom" "$@" >>"$work/sampled"
      sleep 0.25
    done
  ) &
  SAMPLER_PID=$!
}

sampler_stop() {
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
PROBE_PID=
  awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { printf "%.6g\n", m }' "$work/sampled"
}

# --- load -----------------------------------------------------------------------------------------

duration() { if [ "$short" = 1 ]; then echo "${1:-4}s"; else echo "${2:-12}s"; fi; }

# meshload OUT ARGS...: meshload through the running gateway, its --json into OUT. A failed threshold
# (exit 1) or a slipped schedule (exit 2, the shared cores) is reported, not fatal: the tour reads numbers.
meshload() {
  local out=$1 rc=0
  shift
  [ -f "$loadgen_dll" ] || { echo "tour: $loadgen_dll is missing: run \`make build\` first" >&2; exit 1; }
  dotnet exec "$loadgen_dll" "$@" --target "${GRPC[gateway]}" --json --no-live --max-lag 10s >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -ge 3 ]; then echo "tour: meshload failed (exit $rc):" >&2; cat "$out.err" >&2; exit 1; fi
  if [ "$rc" -ne 0 ]; then echo "    (meshload exit $rc: $(grep -m1 -E 'threshold FAILED|invalid' "$out.err" || echo 'see meshload --help'))"; fi
}

# stream OUT NAME: one stream's results from meshload's JSON (a multi-phase scenario: the last phase).
stream() { jq -c --arg n "$2" '(if type == "array" then .[-1] else . end) | .streams[] | select(.name == $n)' "$1"; }

# calls OUT NAME: "ok/offered ok, p99 X ms, outcomes" for one stream.
calls() {
  stream "$1" "$2" | jq -r '"\(.ok)/\(.offered) ok, p50 \(.latencyMs.p50 | floor) ms, p99 \(.latencyMs.p99 | floor) ms, not ok: \(.outcomes | to_entries | map(select(.key != "OK")) | map("\(.key) \(.value)") | join(", ") | if . == "" then "none" else . end)"'
}

# measure HOST COMMAND...: scrapes HOST into $b, runs COMMAND, lets the last samples land (the exporter
# caches /metrics for 300 ms; the lag probe records late), scrapes HOST into $a.
measure() {
  local host=$1
  shift
  scrape "$host" "$b"
  "$@"
  sleep 1.5
  scrape "$host" "$a"
}

# lag_rows: the thread-pool lag probe between the two scrapes.
lag_rows() {
  row "lag samples > 100 ms" "$(habove "$b" "$a" meshbulkheads_threadpool_lag_seconds 0.1) of $(delta "$b" "$a" meshbulkheads_threadpool_lag_seconds_count) (meshbulkheads_threadpool_lag_seconds)"
  row "mean thread-pool lag" "$(hmean_ms "$b" "$a" meshbulkheads_threadpool_lag_seconds) ms"
}

row() { printf '    %-28s %s\n' "$1" "$2"; }

header() {
  echo
  echo "== tour step $1: $2"
  echo "   (docs/tour.md#step-$1; CONFIGURATION=$configuration, $(if [ "$short" = 1 ]; then echo short; else echo full; fi) mode;" \
    "load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores: other work on the machine moves every number)"
}

variant() { echo "  -- $*"; }

# --- the steps (docs/tour.md has the explanation, the interview answer and the code pointer) ------

# Payments with a 200 ms (awaited) query; SyncOverAsync blocks a pool thread for each.
slow_payments() {
  start_payments "$1" Payments__Pitfalls__SyncOverAsync="$2" Payments__Pitfalls__ExtraQueryLatency=00:00:00.200 \
    Bulkheads__payments-read__PermitLimit=64 Bulkheads__payments-read__QueueLimit=64 Bulkheads__payments-read__MaxQueueTime=00:00:01 \
    Bulkheads__payments-read__TenantMaxShare=1
  open_gateway
}

# The gateway with its payments route bulkhead lifted, for steps about what happens inside payments.
open_gateway() {
  start_gateway Gateway__RouteBulkheads__payments__PermitsPerDestination=256 Bulkheads__gateway-payments__TenantMaxShare=1
}

step_1() {
  header 1 "Thread-per-request: pool exhaustion under load — .NET's form, sync-over-async thread-pool starvation"
  local sync
  for sync in false true; do
    variant "Payments__Pitfalls__SyncOverAsync=$sync (GetBalance 150/s, each query waits 200 ms)"
    slow_payments "s1-$sync" "$sync"
    measure payments meshload "$work/run.json" run --stream name=reads,key=gold,method=GetBalance,rate=150,deadline=2s --duration "$(duration 5 15)"
    lag_rows
    row "thread-pool threads" "$(sum "$b" dotnet_thread_pool_thread_count_total) -> $(sum "$a" dotnet_thread_pool_thread_count_total) (dotnet_thread_pool_thread_count_total)"
    row "GetBalance (meshload)" "$(calls "$work/run.json" reads)"
    stop_hosts
  done
}

inline_render() {
  start_render Render__Pitfalls__Inline="$1" Render__WorkerCount=2
  start_gateway
}

# healthz_probe HOST: times GET /healthz every 200 ms into $work/healthz until killed.
healthz_probe() {
  : >"$work/healthz"
  while :; do
    curl -s -o /dev/null -m 10 -w '%{time_total}\n' "${ADMIN[$1]}/healthz" >>"$work/healthz" || true
    sleep 0.2
  done
}

healthz_max_ms() { awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { printf "%.0f ms over %d probes\n", 1000 * m, NR }' "$work/healthz"; }

# Renders sized for a shared 2-core machine: ~0.1-0.5 s each, a little above what two workers deliver.
heavy_renders() { meshload "$1" run --stream name=renders,key=gold,method=Render,rate=6,size=128,iterations=3000 --duration "$(duration 5 15)"; }

step_2() {
  header 2 "Event loop / async I/O: cheap waits, until an accidental CPU block stalls everyone"
  local inline
  for inline in false true; do
    variant "Render__Pitfalls__Inline=$inline (6 renders/s of 128x128x3000 on 2 workers vs on the request threads)"
    inline_render "$inline"
    measure render heavy_renders "$work/run.json"
    lag_rows
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

# Payments alone; node sends N charges to one fresh account (clients/node/hot-account.mjs).
hot_account() {
  local out=$1 count=$2
  [ -d clients/node/node_modules ] || { echo "tour: clients/node has no node_modules: scripts/ensure-deps.sh node" >&2; exit 1; }
  node clients/node/hot-account.mjs "${GRPC[payments]#http://}" "$count" 2 acme >"$out"
}

step_3() {
  header 3 "Actor / mailbox: ordered per entity; the backlog is unbounded without backpressure"
  local capacity queued
  for capacity in 16 100000; do
    variant "Payments__Partitions__MailboxCapacity=$capacity (40 charges to one account, one every 2 ms, each commit 20 ms)"
    start_payments "s3-$capacity" Payments__Partitions__MailboxCapacity="$capacity" Payments__Pitfalls__ExtraQueryLatency=00:00:00.020
    scrape payments "$b"
    sampler_start payments meshbulkheads_payments_partition_queued_requests
    hot_account "$work/hot.json" 40
    queued=$(sampler_stop)
    sleep 0.5
    scrape payments "$a"
    row "mailbox depth (max sampled)" "$queued (meshbulkheads_payments_partition_queued_requests)"
    row "executed / partition-full" "$(delta "$b" "$a" meshbulkheads_payments_partition_requests_total 'meshbulkheads_result="executed"') / $(delta "$b" "$a" meshbulkheads_payments_partition_requests_total 'meshbulkheads_result="partition_full"') (meshbulkheads_payments_partition_requests_total)"
    row "mean wait in the mailbox" "$(hmean_ms "$b" "$a" meshbulkheads_payments_partition_request_time_in_queue_seconds) ms"
    row "charges (node client)" "$(jq -r '"\(.outcomes | to_entries | map("\(.key) \(.value)") | join(", ")), \(.wallMs) ms"' "$work/hot.json")"
    stop_hosts
  done
}

render_burst() { meshload "$1" run --stream name=renders,key=gold,method=Render,rate="$2",size=128,iterations=2000,deadline=10s --duration "$3"; }

step_4() {
  header 4 "Worker pools + queues: a bounded queue smooths bursts; it grows when consumers are slower"
  local queue
  for queue in 0 16; do
    variant "Bulkheads__render__QueueLimit=$queue (one render worker, a burst of 6 renders/s)"
    start_render Render__WorkerCount=1 Bulkheads__render__QueueLimit="$queue"
    start_gateway
    measure render render_burst "$work/run.json" 6 "$(duration 4 10)"
    row "admitted / shed queue_full" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="acquired"') / $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_full"') (meshbulkheads_bulkhead_requests_total)"
    row "mean time in queue" "$(hmean_ms "$b" "$a" meshbulkheads_bulkhead_request_time_in_queue_seconds 'meshbulkheads_bulkhead="render"') ms (meshbulkheads_bulkhead_request_time_in_queue_seconds)"
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

step_5() {
  header 5 "Diagnosis: fast DB query, slow API — pool wait, not the query"
  local pool
  for pool in 8 1; do
    variant "Payments__Database__ReadPoolSize=$pool (ListPayments 100/s)"
    start_payments "s5-$pool" Payments__Database__ReadPoolSize="$pool"
    open_gateway
    measure payments meshload "$work/run.json" run --stream name=lists,key=gold,method=ListPayments,rate=100 --duration "$(duration 4 12)"
    row "mean pool wait (read)" "$(hmean_ms "$b" "$a" meshbulkheads_db_pool_request_time_in_queue_seconds 'meshbulkheads_pool="read"') ms (meshbulkheads_db_pool_request_time_in_queue_seconds)"
    row "mean query (read)" "$(hmean_ms "$b" "$a" meshbulkheads_db_query_duration_seconds 'meshbulkheads_pool="read"') ms (meshbulkheads_db_query_duration_seconds)"
    row "mean server time" "$(hmean_ms "$b" "$a" meshbulkheads_rpc_server_duration_seconds 'rpc_method="ListPayments"') ms (meshbulkheads_rpc_server_duration_seconds)"
    row "ListPayments (meshload)" "$(calls "$work/run.json" lists)"
    stop_hosts
  done
}

step_6() {
  header 6 "Diagnosis: CPU high, I/O low — synchronous computation on the request threads"
  local inline wall
  for inline in false true; do
    variant "Render__Pitfalls__Inline=$inline"
    inline_render "$inline"
    scrape render "$b"
    wall=$SECONDS
    heavy_renders "$work/run.json"
    wall=$((SECONDS - wall))
    scrape render "$a"
    row "CPU used" "$(awk -v c="$(delta "$b" "$a" dotnet_process_cpu_time_seconds_total)" -v w="$wall" 'BEGIN { printf "%.1f s in %d s = %.2f cores", c, w, c / w }') of $(nproc) (dotnet_process_cpu_time_seconds_total)"
    row "thread-pool threads" "$(sum "$b" dotnet_thread_pool_thread_count_total) -> $(sum "$a" dotnet_thread_pool_thread_count_total) (dotnet_thread_pool_thread_count_total: renders holding pool threads)"
    row "lag samples > 100 ms" "$(habove "$b" "$a" meshbulkheads_threadpool_lag_seconds 0.1) (meshbulkheads_threadpool_lag_seconds)"
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
  echo "    Profile it: start render with Render__Pitfalls__Inline=true, load it, make profile SERVICE=render SECONDS=10"
}

step_7() {
  header 7 "Diagnosis: queue grows during spikes — consumers slower than producers"
  local unbounded age after
  for unbounded in false true; do
    variant "Bulkheads__render__Pitfalls__UnboundedQueue=$unbounded (one worker, MaxQueueTime 5 s, 10 renders/s)"
    start_render Render__WorkerCount=1 Bulkheads__render__MaxQueueTime=00:00:05 Bulkheads__render__Pitfalls__UnboundedQueue="$unbounded"
    start_gateway
    scrape render "$b"
    sampler_start render meshbulkheads_bulkhead_queue_oldest_age_seconds 'meshbulkheads_bulkhead="render"'
    render_burst "$work/run.json" 10 "$(duration 4 10)"
    age=$(sampler_stop)
    sleep 1
    scrape render "$a"
    after=$(max "$a" meshbulkheads_bulkhead_queue_oldest_age_seconds 'meshbulkheads_bulkhead="render"')
    row "oldest queued (max sampled)" "$age s, after the spike $after s (meshbulkheads_bulkhead_queue_oldest_age_seconds)"
    row "shed queue_full / timeout" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_full"') / $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_timeout"') (meshbulkheads_bulkhead_requests_total)"
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

# Gateway, payments and reporting: the noisy-neighbor scenario's hosts.
mesh_for_reports() {
  start_payments "$1" "${@:2}"
  start_reporting "${@:2}"
  start_gateway "${@:2}"
}

tenant_rejected() {
  delta "$1" "$2" meshbulkheads_gateway_rate_limit_requests_total "meshbulkheads_tenant=\"$3\"" 'meshbulkheads_result="rejected"'
}

step_8() {
  header 8 "Diagnosis: one tenant hurts others — per-tenant rate, queue and latency"
  local flood
  for flood in off on; do
    variant "globex's report flood $flood (acme charges 20/s throughout)"
    mesh_for_reports "s8-$flood"
    scrape gateway "$b"
    if [ "$flood" = on ]; then
      meshload "$work/run.json" scenario noisy-neighbor --duration "$(duration 5 15)"
    else
      meshload "$work/run.json" run --stream name=payments,key=gold,method=Charge,rate=20,criticality=critical --duration "$(duration 5 15)"
    fi
    sleep 1
    scrape gateway "$a"
    row "rate-limited acme / globex" "$(tenant_rejected "$b" "$a" acme) / $(tenant_rejected "$b" "$a" globex) (meshbulkheads_gateway_rate_limit_requests_total)"
    row "acme charges (meshload)" "$(calls "$work/run.json" payments)"
    if [ "$flood" = on ]; then row "globex reports (meshload)" "$(calls "$work/run.json" reporting)"; fi
    stop_hosts
  done
}

step_9() {
  header 9 "Decision: waiting on network/database — async I/O with bounded pools, not a thread per waiting call"
  local sync inflight
  for sync in false true; do
    variant "Payments__Pitfalls__SyncOverAsync=$sync (GetBalance 150/s, each waits 200 ms: ~30 waits at once)"
    slow_payments "s9-$sync" "$sync"
    scrape payments "$b"
    sampler_start payments meshbulkheads_bulkhead_active_requests 'meshbulkheads_bulkhead="payments-read"'
    meshload "$work/run.json" run --stream name=reads,key=gold,method=GetBalance,rate=150,deadline=2s --duration "$(duration 5 15)"
    inflight=$(sampler_stop)
    sleep 1
    scrape payments "$a"
    row "reads in flight (max)" "$inflight of $(max "$a" meshbulkheads_bulkhead_permit_limit 'meshbulkheads_bulkhead="payments-read"') permits (meshbulkheads_bulkhead_active_requests)"
    row "thread-pool threads" "$(sum "$b" dotnet_thread_pool_thread_count_total) -> $(sum "$a" dotnet_thread_pool_thread_count_total) (dotnet_thread_pool_thread_count_total)"
    row "GetBalance (meshload)" "$(calls "$work/run.json" reads)"
    stop_hosts
  done
}

step_10() {
  header 10 "Decision: CPU-heavy image work — a worker pool, never the blocking request handler"
  local inline
  for inline in false true; do
    variant "Render__Pitfalls__Inline=$inline (GET /healthz every 200 ms during the renders)"
    inline_render "$inline"
    scrape render "$b"
    healthz_probe render &
    PROBE_PID=$!
    heavy_renders "$work/run.json"
    kill "$PROBE_PID" 2>/dev/null || true
    wait "$PROBE_PID" 2>/dev/null || true
    PROBE_PID=
    sleep 0.5
    scrape render "$a"
    row "mean /healthz (server)" "$(hmean_ms "$b" "$a" http_server_request_duration_seconds 'http_route="/healthz"') ms (http_server_request_duration_seconds)"
    row "slowest /healthz (client)" "$(healthz_max_ms)"
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

step_11() {
  header 11 "Decision: per-account ordered work — keyed mailboxes, not a global queue"
  local global
  for global in false true; do
    variant "Payments__Pitfalls__GlobalQueue=$global (40 charges to one account, one every 2 ms, each commit 20 ms)"
    start_payments "s11-$global" Payments__Pitfalls__GlobalQueue="$global" Payments__Partitions__MailboxCapacity=64 \
      Payments__Pitfalls__ExtraQueryLatency=00:00:00.020
    scrape payments "$b"
    hot_account "$work/hot.json" 40
    sleep 0.5
    scrape payments "$a"
    row "mean wait in the mailbox" "$(hmean_ms "$b" "$a" meshbulkheads_payments_partition_request_time_in_queue_seconds) ms (meshbulkheads_payments_partition_request_time_in_queue_seconds)"
    row "charges executed" "$(delta "$b" "$a" meshbulkheads_payments_partition_requests_total 'meshbulkheads_result="executed"') (meshbulkheads_payments_partition_requests_total)"
    row "committed out of order" "$(jq -r '"\(.outOfOrder) of \(.committed) (node client, from balance_minor), all done in \(.wallMs) ms"' "$work/hot.json")"
    stop_hosts
  done
}

step_12() {
  header 12 "Decision: burst absorption — a bounded queue with backpressure, not an unbounded queue that hides overload"
  local unbounded age
  for unbounded in false true; do
    variant "Bulkheads__render__Pitfalls__UnboundedQueue=$unbounded (a burst of 8/s, then a steady 0.5/s)"
    start_render Render__WorkerCount=1 Bulkheads__render__MaxQueueTime=00:00:05 Bulkheads__render__Pitfalls__UnboundedQueue="$unbounded"
    start_gateway
    scrape render "$b"
    render_burst "$work/burst.json" 8 "$(duration 3 6)"
    scrape render "$work/mid"
    age=$(max "$work/mid" meshbulkheads_bulkhead_queue_oldest_age_seconds 'meshbulkheads_bulkhead="render"')
    render_burst "$work/run.json" 0.5 "$(duration 4 10)"
    sleep 1
    scrape render "$a"
    row "oldest queued after burst" "$age s (meshbulkheads_bulkhead_queue_oldest_age_seconds)"
    row "shed during the burst" "$(delta "$b" "$work/mid" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_full"') queue_full (meshbulkheads_bulkhead_requests_total)"
    row "burst renders (meshload)" "$(calls "$work/burst.json" renders)"
    row "steady renders after it" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

step_13() {
  header 13 "Backpressure 1: a bounded queue that sheds load (UNAVAILABLE queue-full, fast)"
  local unbounded
  for unbounded in true false; do
    variant "Bulkheads__render__Pitfalls__UnboundedQueue=$unbounded (scenario overload: render at ~3x capacity)"
    start_render Render__WorkerCount=1 Bulkheads__render__Pitfalls__UnboundedQueue="$unbounded"
    start_payments "s13-$unbounded"
    start_gateway
    measure render meshload "$work/run.json" scenario overload --duration "$(duration 4 15)"
    row "shed queue_full" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_full"') (meshbulkheads_bulkhead_requests_total)"
    row "rejected-call latency p99" "$(stream "$work/run.json" render | jq -r '"\(.rejectedLatencyMs.p99) ms over \(.rejectedLatencyMs.count) rejections (meshload)"')"
    row "renders (meshload)" "$(calls "$work/run.json" render)"
    row "payments reads (meshload)" "$(calls "$work/run.json" payments)"
    stop_hosts
  done
}

step_14() {
  header 14 "Backpressure 2: 429/503 with Retry-After — pushback that clients honour"
  local pushback
  for pushback in ignore honour; do
    variant "--attempts 4 --pushback $pushback (render 6/s on one worker, queue 2)"
    start_render Render__WorkerCount=1 Bulkheads__render__QueueLimit=2
    start_gateway
    scrape render "$b"
    meshload "$work/run.json" run --stream name=renders,key=gold,method=Render,rate=6,size=128,iterations=2000 \
      --attempts 4 --pushback "$pushback" --duration "$(duration 4 10)"
    sleep 1
    scrape render "$a"
    row "offered to render's bulkhead" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"') of which queue_full $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="render"' 'meshbulkheads_result="queue_full"') (meshbulkheads_bulkhead_requests_total)"
    row "attempts per call" "$(stream "$work/run.json" renders | jq -r '"\(.attempts) attempts for \(.offered) calls, \(.pushbackWaits) pushback waits, \(.rejectedWithPushback) final rejections with grpc-retry-pushback-ms (meshload)"')"
    row "renders (meshload)" "$(calls "$work/run.json" renders)"
    stop_hosts
  done
}

# The streaming RPC (RenderService/RenderRows, `meshload stream`) arrives from another branch.
# Rows per RenderRows stream: at a 20 ms read delay 256 rows take ≈ 5 s (short mode: 64 rows, ≈ 1.3 s).
rows_per_stream() { if [ "$short" = 1 ]; then echo 64; else echo 256; fi; }

# meshload_stream OUT ARGS...: `meshload stream` (its own options: no duration, no live view, no lag check) through
# the running gateway, render's write wait scraped by meshload itself from render's admin port; --json into OUT.
meshload_stream() {
  local out=$1 rc=0
  shift
  dotnet exec "$loadgen_dll" stream "$@" --target "${GRPC[gateway]}" --admin "${ADMIN[render]}" --json >"$out" 2>"$out.err" || rc=$?
  if [ "$rc" -ge 3 ]; then echo "tour: meshload stream failed (exit $rc):" >&2; cat "$out.err" >&2; exit 1; fi
  if [ "$rc" -ne 0 ]; then echo "    (meshload stream exit $rc: a stream did not end OK; see $out)"; fi
}

has_render_stream() { dotnet exec "$loadgen_dll" --help 2>&1 | grep -q 'meshload stream'; }

step_15() {
  header 15 "Backpressure 3: slowing producers — HTTP/2 flow control on a streaming RPC"
  if ! has_render_stream; then
    echo "    PENDING: this build has no \`meshload stream\` (RenderService/RenderRows); the step runs once the streaming RPC lands."
    return 0
  fi
  local delay
  for delay in 0ms 20ms; do
    variant "meshload stream --count 1 --read-delay $delay --height $(rows_per_stream)"
    start_render
    start_gateway
    # One stream: render has one worker, so a second stream would wait for the first one's permit (and be shed at
    # the bulkhead's 2 s MaxQueueTime while a slow reader holds it) — a lesson of its own, not this step's.
    measure render meshload_stream "$work/run.json" --count 1 --read-delay "$delay" --height "$(rows_per_stream)"
    row "rows per second (client)" "$(jq -r '[.. | objects | select(has("rowsPerSecond")) | .rowsPerSecond][0] // "n/a" | if type == "number" then (. * 10 | floor / 10) else . end' "$work/run.json")"
    row "mean producer write wait" "$(hmean_ms "$b" "$a" meshbulkheads_render_stream_write_wait_seconds) ms over $(delta "$b" "$a" meshbulkheads_render_stream_write_wait_seconds_count) writes (meshbulkheads_render_stream_write_wait_seconds)"
    stop_hosts
  done
}

step_16() {
  header 16 "Follow-up: how do you detect event-loop starvation? — the lag probe and the pool's queue"
  local inline queued
  for inline in false true; do
    variant "Render__Pitfalls__Inline=$inline"
    inline_render "$inline"
    scrape render "$b"
    sampler_start render dotnet_thread_pool_queue_length_total
    heavy_renders "$work/run.json"
    queued=$(sampler_stop)
    sleep 1
    scrape render "$a"
    row "thread-pool queue (max)" "$queued work items (dotnet_thread_pool_queue_length_total)"
    row "lag probe samples" "$(delta "$b" "$a" meshbulkheads_threadpool_lag_seconds_count) ran (one due every 100 ms), $(habove "$b" "$a" meshbulkheads_threadpool_lag_seconds 0.1) over 100 ms (meshbulkheads_threadpool_lag_seconds)"
    row "mean lag" "$(hmean_ms "$b" "$a" meshbulkheads_threadpool_lag_seconds) ms"
    stop_hosts
  done
}

step_17() {
  header 17 "Follow-up: what if every request starts ten parallel downstream calls?"
  local uncapped fanout queued
  for uncapped in false true; do
    variant "Reporting__Pitfalls__UncappedFanOut=$uncapped (6 reports/s of 10 accounts; payments reads take 50 ms)"
    start_payments "s17-$uncapped" Payments__Pitfalls__ExtraQueryLatency=00:00:00.050
    start_reporting Reporting__Pitfalls__UncappedFanOut="$uncapped"
    start_gateway
    scrape payments "$b"
    sampler_start reporting meshbulkheads_reporting_fanout_active_requests
    meshload "$work/run.json" run --stream name=reports,key=silver,method=BuildReport,rate=6,accounts=10 --duration "$(duration 4 12)"
    fanout=$(sampler_stop)
    scrape payments "$a"
    queued=$(max "$a" meshbulkheads_bulkhead_queued_requests 'meshbulkheads_bulkhead="payments-read"')
    row "downstream calls in flight" "$fanout max (meshbulkheads_reporting_fanout_active_requests)"
    row "payments-read admitted" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="payments-read"' 'meshbulkheads_result="acquired"'), shed $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="payments-read"' 'meshbulkheads_result="queue_full"') queue_full, $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="payments-read"' 'meshbulkheads_result="tenant_share"') tenant_share (meshbulkheads_bulkhead_requests_total)"
    row "mean payments-read queue wait" "$(hmean_ms "$b" "$a" meshbulkheads_bulkhead_request_time_in_queue_seconds 'meshbulkheads_bulkhead="payments-read"') ms, queued at the end $queued"
    row "reports (meshload)" "$(calls "$work/run.json" reports)"
    stop_hosts
  done
}

# Mesh:Pitfalls:NoBulkheads (the demo's switch) arrives from another branch.
has_no_bulkheads() { grep -qa NoBulkheads artifacts/bin/MeshBulkheads.Gateway/"$config_dir"/MeshBulkheads.*.dll 2>/dev/null; }

step_18() {
  header 18 "Follow-up: how do you isolate reporting jobs from payment traffic? — bulkheads on vs off (make demo)"
  local switch
  local variants=(false true)
  if ! has_no_bulkheads; then
    echo "    PENDING: this build has no Mesh:Pitfalls:NoBulkheads; running the bulkheads-on half only (make demo shows both)."
    variants=(false)
  fi
  for switch in "${variants[@]}"; do
    variant "Mesh__Pitfalls__NoBulkheads=$switch (scenario noisy-neighbor)"
    mesh_for_reports "s18-$switch" Mesh__Pitfalls__NoBulkheads="$switch"
    measure payments meshload "$work/run.json" scenario noisy-neighbor --duration "$(duration 5 15)"
    row "payments-read shed (fan-out)" "$(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="payments-read"') offered, $(delta "$b" "$a" meshbulkheads_bulkhead_requests_total 'meshbulkheads_bulkhead="payments-read"' 'meshbulkheads_result="acquired"') admitted (meshbulkheads_bulkhead_requests_total)"
    row "mean Charge server time" "$(hmean_ms "$b" "$a" meshbulkheads_rpc_server_duration_seconds 'rpc_method="Charge"') ms (meshbulkheads_rpc_server_duration_seconds)"
    row "acme charges (meshload)" "$(calls "$work/run.json" payments)"
    row "globex reports (meshload)" "$(calls "$work/run.json" reporting)"
    stop_hosts
  done
}

step_19() {
  header 19 "Follow-up: when would you choose workers over a separate service?"
  local storm rb ra
  for storm in off on; do
    variant "render's CPU storm $storm (payments GetBalance 50/s throughout; render is a separate process with 2 workers)"
    start_payments "s19-$storm"
    start_render Render__WorkerCount=2
    start_gateway
    scrape payments "$b"
    scrape render "$work/rb"
    if [ "$storm" = on ]; then
      meshload "$work/run.json" run --stream name=reads,key=gold,method=GetBalance,rate=50 \
        --stream name=renders,key=gold,method=Render,rate=6,size=128,iterations=3000 --duration "$(duration 5 15)"
    else
      meshload "$work/run.json" run --stream name=reads,key=gold,method=GetBalance,rate=50 --duration "$(duration 5 15)"
    fi
    sleep 1
    scrape payments "$a"
    scrape render "$work/ra"
    rb=$work/rb ra=$work/ra
    row "payments thread-pool lag" "mean $(hmean_ms "$b" "$a" meshbulkheads_threadpool_lag_seconds) ms, $(habove "$b" "$a" meshbulkheads_threadpool_lag_seconds 0.1) samples > 100 ms (meshbulkheads_threadpool_lag_seconds)"
    row "render CPU" "$(delta "$rb" "$ra" dotnet_process_cpu_time_seconds_total) s (dotnet_process_cpu_time_seconds_total)"
    row "payments reads (meshload)" "$(calls "$work/run.json" reads)"
    stop_hosts
  done
}

# --- main -----------------------------------------------------------------------------------------

# The four hosts and meshload in one build (eng/mesh.slnf; incremental); its time is printed apart
# from the steps' times.
build() {
  [ "${TOUR_NO_BUILD:-0}" = 1 ] && return 0
  local t0=$SECONDS
  dotnet build eng/mesh.slnf -c "$configuration" --nologo -v quiet -clp:NoSummary >"$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; echo "tour: the build failed" >&2; exit 1; }
  echo "tour: build ($configuration) took $((SECONDS - t0)) s"
}

run_step() {
  local n=$1 t0=$SECONDS
  "step_$n"
  echo "   step $n took $((SECONDS - t0)) s"
}

arg=${1:-}
[ "${2:-}" = --short ] && short=1
case "$arg" in
  list)
    grep -o '^  header [0-9]* "[^"]*"' "${BASH_SOURCE[0]}" | sed 's/^  header \([0-9]*\) "\(.*\)"/\1. \2/'
    ;;
  all)
    build
    for ((n = 1; n <= steps; n++)); do run_step "$n"; done
    ;;
  '' | *[!0-9]*)
    echo "usage: make tour STEP=1..$steps [SHORT=1]   (make tour STEP=list; make tour-check runs all, short)" >&2
    exit 3
    ;;
  *)
    if [ "$arg" -lt 1 ] || [ "$arg" -gt "$steps" ]; then echo "tour: STEP must be 1..$steps" >&2; exit 3; fi
    build
    run_step "$arg"
    ;;
esac
