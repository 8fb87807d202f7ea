#!/usr/bin/env bash
# `make bench [ONLY=gateway|isolation|overload|deadlines|memory|bulkhead]`: the benchmarks of issue 13,
# measured in one run on Release hosts started from the built output on 127.0.0.1 (no AppHost, no
# dashboard). Each part writes its figures (with their aims) and raw numbers as JSON; the parts are
# merged into docs/benchmarks.json (a part run alone replaces only itself) and docs/benchmarks.md is
# rendered from it by tools/MeshBulkheads.Bench. Not part of `make test`.
#
# Usage: scripts/bench.sh [all|gateway|isolation|overload|deadlines|memory|bulkhead]   (default: all)
# Environment:
#   BENCH_SHORT=1        durations and call counts scaled down: checks that every part works end to
#                        end; the document then says it is a short run, not a measurement
#   BENCH_LABEL=text     replaces the automatic label of the run (shown above each part's figures)
#   BENCH_JOB=short      BenchmarkDotNet job of the bulkhead part (short|medium|long)
#   BENCH_PORT_BASE=27100  first of the loopback ports used (gateway +80, payments +81, …)
#   BENCH_NO_BUILD=1     use the Release build already in artifacts/bin
#   BENCH_RERENDER=1     (ONLY=gateway) rebuild that part of the documents from the last run's raw numbers
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root"
# shellcheck source=scripts/identity.sh
. scripts/identity.sh

only=${1:-all}
case "$only" in
  all | gateway | isolation | overload | deadlines | memory | bulkhead) ;;
  *) echo "usage: $0 [all|gateway|isolation|overload|deadlines|memory|bulkhead]" >&2; exit 2 ;;
esac
readonly only
readonly short=${BENCH_SHORT:-0}
readonly job=${BENCH_JOB:-short}
readonly base=${BENCH_PORT_BASE:-27100}
readonly work=$root/artifacts/bench
readonly doc_json=$root/docs/benchmarks.json
readonly doc_md=$root/docs/benchmarks.md
readonly bin=$root/artifacts/bin

# Loopback ports: gRPC (h2c) and admin (HTTP/1.1) of each host, nginx and the OTLP sink.
readonly gateway_port=$((base + 80)) gateway_admin=$((base + 90))
readonly payments_port=$((base + 81)) payments_admin=$((base + 91))
readonly reporting_port=$((base + 82)) reporting_admin=$((base + 92))
readonly render_port=$((base + 83)) render_admin=$((base + 93))
readonly yarp_port=$((base + 84)) yarp_admin=$((base + 94))
readonly nginx_port=$((base + 85))
readonly sink_port=$((base + 86))
readonly variant_port=$((base + 87)) variant_admin=$((base + 97))

readonly payments_service=/meshbulkheads.payments.v1.PaymentsService
readonly gold_key=acme-dev-key bronze_key=initech-dev-key

# pick FULL SHORT: the full-run value, or the short-mode one.
pick() { if [ "$short" = 1 ]; then echo "$2"; else echo "$1"; fi; }

log() { echo "bench: $*" >&2; }

now() { date +%s.%N; }

# ---------------------------------------------------------------------------------------------------
# Processes: every process this script starts is recorded by pid and stopped by that pid.
pids=()
names=()

stop_all() {
  local i pid
  for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in "${!pids[@]}"; do
    pid=${pids[$i]}
    local waited=0
    while kill -0 "$pid" 2>/dev/null && ((waited < 150)); do sleep 0.1; waited=$((waited + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      log "${names[$i]} (pid $pid) did not stop in 15 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  pids=()
  names=()
}
trap stop_all EXIT

# start NAME CPUS ENV... -- COMMAND...: starts COMMAND (with ENV, pinned to CPUS unless "all") in the
# background, its output in $work/logs/NAME.log.
start() {
  local name=$1 cpus=$2
  shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local pin=()
  [ "$cpus" = all ] || pin=(taskset -c "$cpus")
  env "${envs[@]}" "${pin[@]}" "$@" >"$work/logs/$name.log" 2>&1 </dev/null &
  pids+=("$!")
  names+=("$name")
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_tcp() {
  local name=$1 port=$2 t0=$SECONDS
  until listening "$port"; do
    ((SECONDS - t0 < 60)) || { log "$name did not listen on $port within 60 s (log: $work/logs/$name.log)"; tail -n 20 "$work/logs/$name.log" >&2; return 1; }
    sleep 0.2
  done
}

wait_ready() {
  local name=$1 admin=$2 t0=$SECONDS
  until curl -sf -o /dev/null "http://127.0.0.1:$admin/readyz"; do
    ((SECONDS - t0 < 90)) || { log "$name not ready on admin port $admin within 90 s (log: $work/logs/$name.log)"; tail -n 20 "$work/logs/$name.log" >&2; return 1; }
    sleep 0.3
  done
}

dll() { echo "$bin/$1/release/$1.dll"; }

# Every host: loopback, Development (demo tenants and keys, payments' demo ledger), warnings only in the log.
host_env() {
  echo DOTNET_ENVIRONMENT=Development
  echo Mesh__BindAddress=127.0.0.1
  echo Mesh__GrpcPort="$1"
  echo Mesh__AdminPort="$2"
  echo Logging__LogLevel__Default=Warning
}

# start_service NAME PROJECT GRPC ADMIN CPUS ENV...: a service host on its ports, waited for until ready.
start_service() {
  local name=$1 project=$2 grpc=$3 admin=$4 cpus=$5
  shift 5
  local envs
  mapfile -t envs < <(host_env "$grpc" "$admin"; identity_env "$project")
  start "$name" "$cpus" "${envs[@]}" "$@" -- dotnet exec "$(dll "$project")"
  wait_ready "$name" "$admin"
}

start_reporting() {
  local cpus=$1
  shift
  start_service reporting MeshBulkheads.Reporting "$reporting_port" "$reporting_admin" "$cpus" Reporting__PaymentsAddress="http://127.0.0.1:$payments_port" "$@"
}

start_render() {
  local cpus=$1
  shift
  start_service render MeshBulkheads.Render "$render_port" "$render_admin" "$cpus" "$@"
}

start_payments() {
  local cpus=$1
  shift
  rm -rf "$work/data"
  mkdir -p "$work/data/payments"
  start_service payments MeshBulkheads.Payments "$payments_port" "$payments_admin" "$cpus" Payments__DataDirectory="$work/data/payments" "$@"
}

start_gateway() {
  local cpus=$1
  shift
  start_service gateway MeshBulkheads.Gateway "$gateway_port" "$gateway_admin" "$cpus" \
    ReverseProxy__Clusters__payments__Destinations__d1__Address="http://127.0.0.1:$payments_port" \
    ReverseProxy__Clusters__reporting__Destinations__d1__Address="http://127.0.0.1:$reporting_port" \
    ReverseProxy__Clusters__render__Destinations__d1__Address="http://127.0.0.1:$render_port" \
    "$@"
}

# start_gateway_variant NAME ENV...: a second gateway beside the first one (its own ports), for paired runs.
start_gateway_variant() {
  local name=$1
  shift
  start_service "$name" MeshBulkheads.Gateway "$variant_port" "$variant_admin" all \
    ReverseProxy__Clusters__payments__Destinations__d1__Address="http://127.0.0.1:$payments_port" \
    ReverseProxy__Clusters__reporting__Destinations__d1__Address="http://127.0.0.1:$reporting_port" \
    ReverseProxy__Clusters__render__Destinations__d1__Address="http://127.0.0.1:$render_port" \
    "$@"
}

start_sink() {
  start otlp-sink all Bench__Port="$sink_port" -- dotnet exec "$(dll MeshBulkheads.Bench)" otlp-sink
  wait_tcp otlp-sink "$sink_port"
}

start_bare_yarp() {
  local envs
  mapfile -t envs < <(host_env "$yarp_port" "$yarp_admin")
  start bare-yarp all "${envs[@]}" Bench__Destination="http://127.0.0.1:$payments_port" "$@" -- dotnet exec "$(dll MeshBulkheads.Bench)" bare-yarp
  wait_ready bare-yarp "$yarp_admin"
}

# nginx 1.22 as a gRPC proxy in front of payments: upstream keepalive above the concurrency (grpc_pass
# holds one upstream connection per request in flight) and keepalive_requests high (the default 1000
# sends GOAWAY and h2load does not reconnect).
start_nginx() {
  local dir=$work/nginx
  rm -rf "$dir"
  mkdir -p "$dir/tmp"
  local user_line=""
  [ "$(id -u)" -ne 0 ] || user_line="user root;"
  cat >"$dir/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream payments {
    server 127.0.0.1:$payments_port;
    keepalive 512;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$nginx_port http2;
    keepalive_requests 1000000;
    location / { grpc_pass grpc://payments; }
  }
}
EOF
  start nginx all -- nginx -c "$dir/nginx.conf" -p "$dir" -g 'daemon off;'
  wait_tcp nginx "$nginx_port"
}

# ---------------------------------------------------------------------------------------------------
# Metrics: the admin /metrics text (the exporter caches a scrape for 300 ms: wait a second first).
scrape() {
  sleep 1
  curl -sf "http://127.0.0.1:$1/metrics" >"$2"
}

# msum FILE NAME [REGEX...]: the sum of the samples of NAME whose line matches every REGEX.
msum() {
  local file=$1 name=$2
  shift 2
  awk -v name="$name" -v pats="$*" '
    BEGIN { n = split(pats, p, " ") }
    index($0, name "{") == 1 || index($0, name " ") == 1 {
      for (i = 1; i <= n; i++) if ($0 !~ p[i]) next
      sum += $NF
    }
    END { printf "%.0f\n", sum + 0 }' "$file"
}

# quantile BEFORE AFTER NAME Q [REGEX...]: the Q quantile (seconds) of histogram NAME over the interval
# between two scrapes, summed over the matching series, interpolated inside the bucket as
# histogram_quantile does. Prints "null" with no observations.
quantile() {
  local before=$1 after=$2 name=$3 q=$4
  shift 4
  awk -v name="${name}_bucket{" -v q="$q" -v pats="$*" '
    BEGIN { n = split(pats, p, " ") }
    index($0, name) == 1 {
      for (i = 1; i <= n; i++) if ($0 !~ p[i]) next
      le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
      v = $NF + 0
      if (FILENAME == ARGV[1]) base[le] += v; else cur[le] += v
    }
    END {
      m = 0
      for (le in cur) { bounds[++m] = (le == "+Inf") ? 1e308 : le + 0; label[bounds[m]] = le }
      # insertion sort of the bounds
      for (i = 2; i <= m; i++) { x = bounds[i]; j = i - 1; while (j > 0 && bounds[j] > x) { bounds[j + 1] = bounds[j]; j-- } bounds[j + 1] = x }
      total = cur[label[bounds[m]]] - base[label[bounds[m]]]
      if (m == 0 || total <= 0) { print "null"; exit }
      rank = q * total; prev_b = 0; prev_c = 0
      for (i = 1; i <= m; i++) {
        c = cur[label[bounds[i]]] - base[label[bounds[i]]]
        if (c >= rank) {
          if (bounds[i] == 1e308) { printf "%.6f\n", prev_b; exit }
          printf "%.6f\n", prev_b + (bounds[i] - prev_b) * ((rank - prev_c) / (c - prev_c)); exit
        }
        prev_b = bounds[i]; prev_c = c
      }
      print "null"
    }' "$before" "$after"
}

# ---------------------------------------------------------------------------------------------------
# JSON of one part: $work/parts/PART.json, merged into docs/benchmarks.json at the end.
machine_json() {
  local cpu os
  cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
  os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
  jq -n --argjson cores "$(nproc)" --arg cpu "${cpu:-unknown}" --arg os "$os" --arg dotnet "$(dotnet --version)" \
    --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
    '{cores: $cores, cpu: $cpu, os: $os, dotnet: $dotnet, loadAverage: $load}'
}

run_label() {
  if [ -n "${BENCH_LABEL:-}" ]; then echo "$BENCH_LABEL"; return; fi
  local load cores label=""
  load=$(cut -d' ' -f1 /proc/loadavg)
  cores=$(nproc)
  [ "$short" != 1 ] || label="SHORT mode (BENCH_SHORT=1: durations and call counts scaled down): this checks that the part works end to end; its numbers are not a measurement."
  if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c) }'; then
    label="${label:+$label }Machine busy at the start (load average $load on $cores cores): other work shared the cores, so the numbers are noisy."
  fi
  echo "$label"
}

# part_header PART: the common fields (date, command, label, machine) as a JSON object.
part_header() {
  local command="make bench ONLY=$1"
  [ "$only" != all ] || command="make bench"
  [ "$short" != 1 ] || command="BENCH_SHORT=1 $command"
  jq -n --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg command "$command" --arg runlabel "$(run_label)" \
    --argjson machine "$(machine_json)" \
    '{status: "measured", date: $date, command: $command, machine: $machine} + (if $runlabel == "" then {} else {"label": $runlabel} end)'
}

# figure NAME VALUE UNIT AIM_OP AIM_VALUE HOW [WHY]: one figure as JSON (VALUE/AIM "null" allowed, AIM_OP "" = no aim).
figure() {
  jq -n --arg name "$1" --argjson value "$2" --arg unit "$3" --arg op "$4" --argjson aim "${5:-null}" --arg how "$6" --arg why "${7:-}" \
    '{name: $name, value: $value, unit: $unit, how: $how}
     + (if $op == "" then {} else {aim: {op: $op, value: $aim}} end)
     + (if $why == "" then {} else {why: $why} end)'
}

# calc EXPR: a number from awk (or null when the expression divides by zero or has a null).
calc() {
  case "$*" in *null*) echo null; return ;; esac
  local x
  x=$(awk "BEGIN { printf \"%.6g\\n\", $* }" 2>/dev/null) || x=null
  case "$x" in *inf* | *nan* | "") echo null ;; *) echo "$x" ;; esac
}

not_implemented() {
  local part=$1 why=$2
  log "ONLY=$part: not implemented yet ($why)"
  part_header "$part" | jq --arg why "$why" '. + {status: "not-implemented", summary: $why}' >"$work/parts/$part.json"
}

# ---------------------------------------------------------------------------------------------------
# h2load: gRPC unary GetBalance(acct-0001), 10 connections × 10 streams, one thread.
readonly h2_clients=10 h2_streams=10

request_body() {
  # gRPC frame: not compressed, length 11, then GetBalanceRequest { account_id (1) = "acct-0001" }.
  printf '\x00\x00\x00\x00\x0b\x0a\x09acct-0001' >"$work/getbalance.bin"
}

# h2run OUT URL_PORT HEADER_NAME HEADER_VALUE (-n N | -D SECONDS): h2load's summary in OUT.
h2run() {
  local out=$1 port=$2 header=$3
  shift 3
  h2load -c "$h2_clients" -m "$h2_streams" -t 1 "$@" -d "$work/getbalance.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H "$header" \
    "http://127.0.0.1:$port$payments_service/GetBalance" >"$out" 2>&1 || true
}

h2_rps() { sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$1" | head -n 1; }

# throughput NAME PORT HEADER [SECONDS [WARM]]: warm-up, then a timed run; success from payments' own server metric.
# Prints a JSON object with the goodput (OK per second at payments) and h2load's own figure.
throughput() {
  local name=$1 port=$2 header=$3 warm measure
  warm=${5:-$(pick 20000 3000)}
  measure=${4:-$(pick 15 3)}
  h2run "$work/h2-$name-warm.txt" "$port" "$header" -n "$warm"
  scrape "$payments_admin" "$work/m-$name-0.txt"
  local t0 t1
  t0=$(now)
  h2run "$work/h2-$name.txt" "$port" "$header" -D "$measure"
  t1=$(now)
  scrape "$payments_admin" "$work/m-$name-1.txt"
  local ok0 ok1 all0 all1
  ok0=$(msum "$work/m-$name-0.txt" meshbulkheads_rpc_server_duration_seconds_count 'rpc_method="GetBalance"' 'rpc_grpc_status_code="OK"')
  ok1=$(msum "$work/m-$name-1.txt" meshbulkheads_rpc_server_duration_seconds_count 'rpc_method="GetBalance"' 'rpc_grpc_status_code="OK"')
  all0=$(msum "$work/m-$name-0.txt" meshbulkheads_rpc_server_duration_seconds_count 'rpc_method="GetBalance"')
  all1=$(msum "$work/m-$name-1.txt" meshbulkheads_rpc_server_duration_seconds_count 'rpc_method="GetBalance"')
  local seconds goodput
  seconds=$(calc "$t1 - $t0")
  goodput=$(calc "($ok1 - $ok0) / $seconds")
  log "$name: $goodput OK/s at payments ($((ok1 - ok0)) OK of $((all1 - all0)) in ${seconds} s; h2load says $(h2_rps "$work/h2-$name.txt") req/s)"
  jq -n --arg path "$name" --argjson goodput "$goodput" --argjson ok $((ok1 - ok0)) --argjson handled $((all1 - all0)) \
    --argjson seconds "$seconds" --argjson warm "$warm" --arg h2 "$(h2_rps "$work/h2-$name.txt")" \
    '{path: $path, goodputPerSecond: $goodput, okAtPayments: $ok, handledAtPayments: $handled, seconds: $seconds,
      warmupCalls: $warm, h2loadRequestsPerSecond: ($h2 | tonumber? // null)}'
}

# meshload open loop: one GetBalance stream at a fixed rate; prints its JSON result.
meshload_latency() {
  local port=$1 stream=$2 seconds=$3
  dotnet exec "$(dll MeshBulkheads.LoadGen)" run --target "127.0.0.1:$port" --stream "$stream" \
    --duration "${seconds}s" --json --no-live 2>>"$work/logs/meshload.log" || true
}

# ---------------------------------------------------------------------------------------------------
# The gateway's "every feature on" configuration, with headroom: the gold tenant's limit (auth and
# the tenant limit still run on every call) and the payments route bulkhead sized above the load's
# 100 calls in flight, so that this measures the cost of the features, not shedding.
gateway_headroom=(
  Gateway__Tiers__gold__TokensPerSecond=1000000
  Gateway__Tiers__gold__Burst=1000000
  Gateway__RouteBulkheads__payments__PermitsPerDestination=256
  Gateway__RouteBulkheads__payments__QueuePerDestination=256
  Bulkheads__gateway-payments__TenantMaxShare=1
)
# payments' read bulkhead with room for the 100 calls in flight of one tenant, on every path alike.
payments_headroom=(
  Bulkheads__payments-read__QueueLimit=256
  Bulkheads__payments-read__TenantMaxShare=1
)

bench_gateway() {
  log "gateway: payments GetBalance direct, through bare YARP, through the gateway (every feature on), through nginx"
  request_body
  local otlp=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_EXPORTER_OTLP_PROTOCOL=grpc Mesh__Tracing__SamplingRatio=1)
  start_sink
  start_payments all "${payments_headroom[@]}"
  start_bare_yarp "${otlp[@]}"
  start_gateway all "${otlp[@]}" "${gateway_headroom[@]}"
  start_nginx

  # The paths without our gateway present what it would have minted: a payments token for acme's GetBalance
  # (it names the tenant; payments verifies it like the gateway's), valid for the whole part.
  local token
  token="x-mesh-identity: $(dotnet exec "$(dll MeshBulkheads.LoadGen)" token --method GetBalance --tenant acme --ttl 2h)"
  local direct yarp ours nginx_r
  direct=$(throughput direct "$payments_port" "$token")
  yarp=$(throughput bare-yarp "$yarp_port" "$token")
  ours=$(throughput gateway "$gateway_port" "x-api-key: $gold_key")
  nginx_r=$(throughput nginx "$nginx_port" "$token")
  # Paired rounds: bare YARP, our gateway and nginx back to back, several times; the headline ratios are the
  # medians of the per-round ratios, so a drift of the shared cores between paths (minutes apart above) cancels.
  # Odd rounds go YARP, gateway, nginx; even rounds the other way round, so a trend within a round cancels too.
  local rounds=() round ry rg rn
  for round in $(seq 1 "$(pick 5 1)"); do
    if ((round % 2 == 1)); then
      ry=$(throughput "bare-yarp-round$round" "$yarp_port" "$token" "$(pick 8 2)" "$(pick 5000 1000)")
      rg=$(throughput "gateway-round$round" "$gateway_port" "x-api-key: $gold_key" "$(pick 8 2)" "$(pick 5000 1000)")
      rn=$(throughput "nginx-round$round" "$nginx_port" "$token" "$(pick 8 2)" "$(pick 5000 1000)")
    else
      rn=$(throughput "nginx-round$round" "$nginx_port" "$token" "$(pick 8 2)" "$(pick 5000 1000)")
      rg=$(throughput "gateway-round$round" "$gateway_port" "x-api-key: $gold_key" "$(pick 8 2)" "$(pick 5000 1000)")
      ry=$(throughput "bare-yarp-round$round" "$yarp_port" "$token" "$(pick 8 2)" "$(pick 5000 1000)")
    fi
    rounds+=("$(jq -n --argjson round "$round" --argjson y "$ry" --argjson g "$rg" --argjson n "$rn" \
      '{round: $round, bareYarp: $y.goodputPerSecond, gateway: $g.goodputPerSecond, nginx: $n.goodputPerSecond}')")
  done
  # Where the gateway's time and allocations go under the same load (make profile SERVICE=gateway).
  local profile
  profile=$(profile_gateway)

  # RESOURCE_EXHAUSTED answered by the gateway: the bronze tenant (10 tokens/s) far over its limit.
  local measure t0 t1 r0 r1 rejected_rate
  measure=$(pick 10 3)
  h2run "$work/h2-rejections-warm.txt" "$gateway_port" "x-api-key: $bronze_key" -n "$(pick 20000 3000)"
  scrape "$gateway_admin" "$work/m-rej-0.txt"
  t0=$(now)
  h2run "$work/h2-rejections.txt" "$gateway_port" "x-api-key: $bronze_key" -D "$measure"
  t1=$(now)
  scrape "$gateway_admin" "$work/m-rej-1.txt"
  r0=$(msum "$work/m-rej-0.txt" meshbulkheads_gateway_rejected_requests_total 'meshbulkheads_route="payments"')
  r1=$(msum "$work/m-rej-1.txt" meshbulkheads_gateway_rejected_requests_total 'meshbulkheads_route="payments"')
  rejected_rate=$(calc "($r1 - $r0) / ($t1 - $t0)")
  log "gateway: $rejected_rate rejections/s (RESOURCE_EXHAUSTED, tenant over its limit)"

  # Added latency over direct at a fixed moderate rate (open loop, meshload, from the intended send time).
  local rate seconds lat_direct lat_yarp lat_ours lat_nginx
  rate=$(pick 500 200)
  seconds=$(pick 15 4)
  lat_direct=$(meshload_latency "$payments_port" "name=direct,method=GetBalance,rate=$rate,tenant=acme" "$seconds")
  lat_yarp=$(meshload_latency "$yarp_port" "name=bare-yarp,method=GetBalance,rate=$rate,tenant=acme" "$seconds")
  lat_ours=$(meshload_latency "$gateway_port" "name=gateway,method=GetBalance,rate=$rate,key=$gold_key" "$seconds")
  lat_nginx=$(meshload_latency "$nginx_port" "name=nginx,method=GetBalance,rate=$rate,tenant=acme" "$seconds")
  local latencies
  latencies=$(jq -s '[.[] | select(.streams) | {valid, schedulingLagP99Ms, stream: .streams[0] | {name, offered, ok, goodput, latencyMs}}]' \
    <(echo "${lat_direct:-null}") <(echo "${lat_yarp:-null}") <(echo "${lat_ours:-null}") <(echo "${lat_nginx:-null}"))

  # Per-feature switches, paired: a second gateway with one switch changed runs beside the one with every
  # feature on, and the two are measured alternately (A B B A), so a drift of the shared cores cancels.
  local breakdown=() variant a1 a2 b1 b2 secs warm
  secs=$(pick 6 2)
  warm=$(pick 3000 1000)
  for variant in "no-otlp-export" "sampling-0" "no-exemplars" "no-bulkheads"; do
    local extra=()
    case "$variant" in
      no-otlp-export) extra=(Mesh__Tracing__SamplingRatio=1) ;;
      sampling-0) extra=("${otlp[@]:0:2}" Mesh__Tracing__SamplingRatio=0) ;;
      no-exemplars) extra=("${otlp[@]}" Mesh__Metrics__Exemplars=false) ;;
      no-bulkheads) extra=("${otlp[@]}" Mesh__Pitfalls__NoBulkheads=true) ;;
    esac
    start_gateway_variant "gateway-$variant" "${extra[@]}" "${gateway_headroom[@]}"
    a1=$(throughput "gateway-all-$variant-1" "$gateway_port" "x-api-key: $gold_key" "$secs" "$warm")
    # The variant's process is new: as many warm-up calls as the main runs, so its JIT tiers are as warm.
    b1=$(throughput "gateway-$variant-1" "$variant_port" "x-api-key: $gold_key" "$secs" "$(pick 20000 3000)")
    b2=$(throughput "gateway-$variant-2" "$variant_port" "x-api-key: $gold_key" "$secs" "$warm")
    a2=$(throughput "gateway-all-$variant-2" "$gateway_port" "x-api-key: $gold_key" "$secs" "$warm")
    breakdown+=("$(jq -n --arg v "$variant" --argjson a1 "$a1" --argjson a2 "$a2" --argjson b1 "$b1" --argjson b2 "$b2" \
      '{variant: $v, goodputPerSecond: (($b1.goodputPerSecond + $b2.goodputPerSecond) / 2),
        allFeaturesGoodputPerSecond: (($a1.goodputPerSecond + $a2.goodputPerSecond) / 2), runs: [$a1, $b1, $b2, $a2]}')")
    stop_named "gateway-$variant"
  done
  stop_all

  # Each feature's own cost per call, in process (no sockets, nothing else on the cores): the ladder.
  local pipeline
  pipeline=$(gateway_pipeline) || pipeline=null

  local raw
  raw=$(jq -n --argjson paths "$(jq -s . <(echo "$direct") <(echo "$yarp") <(echo "$ours") <(echo "$nginx_r"))" \
    --argjson breakdown "$(printf '%s\n' "${breakdown[@]}" | jq -s .)" --argjson latencies "$latencies" \
    --argjson rejectedPerSecond "$rejected_rate" --argjson rejected $((r1 - r0)) \
    --argjson profile "$profile" --argjson pipeline "$pipeline" --argjson rounds "$(printf '%s\n' "${rounds[@]}" | jq -s .)" \
    --argjson pipelineBefore "$(cat "$root/docs/bench/gateway-pipeline-before.json")" \
    '{paths: $paths, breakdown: $breakdown, latency: $latencies, rejections: {perSecond: $rejectedPerSecond, count: $rejected},
      rounds: $rounds, profile: $profile, pipeline: $pipeline, pipelineBefore: $pipelineBefore}')
  echo "$raw" >"$work/gateway-raw.json"
  gateway_json "$raw" >"$work/parts/gateway.json"
}

# profile_gateway: a CPU (thread-time) and an allocation profile of the running gateway, each under the
# throughput load (h2load as above) through scripts/profile.sh; prints {cpu, alloc} (their JSON, or null).
profile_gateway() {
  local secs kind h2 file cpu=null alloc=null
  secs=$(pick 8 3)
  for kind in cpu alloc; do
    h2run "$work/h2-profile-$kind.txt" "$gateway_port" "x-api-key: $gold_key" -D $((secs + 6)) &
    h2=$!
    sleep 2
    file=$("$root/scripts/profile.sh" gateway "$secs" "$kind" 2>>"$work/logs/profile.log" | sed -n 's/^\(top methods\|top types\): *//p')
    wait "$h2" || true
    if [ -n "$file" ] && [ -f "$file" ]; then
      log "gateway profile ($kind): $file"
      if [ "$kind" = cpu ]; then cpu=$(cat "$file"); else alloc=$(cat "$file"); fi
    else
      log "gateway profile ($kind) failed: see $work/logs/profile.log"
    fi
  done
  jq -n --argjson cpu "$cpu" --argjson alloc "$alloc" --argjson seconds "$secs" '{seconds: $seconds, cpu: $cpu, alloc: $alloc}'
}

# gateway_pipeline: GatewayPipelineBenchmarks (BenchmarkDotNet, in process): µs and bytes per call of each rung.
gateway_pipeline() {
  log "gateway: in-process pipeline ladder (BenchmarkDotNet job $job)"
  local artifacts=$work/bdn-pipeline report
  rm -rf "$artifacts"
  dotnet exec "$(dll MeshBulkheads.Benchmarks)" --filter '*GatewayPipelineBenchmarks*' --job "$job" --iterationCount "$(pick 15 3)" --inProcess --exporters json --artifacts "$artifacts" \
    >"$work/logs/benchmarkdotnet-pipeline.log" 2>&1 || { tail -n 30 "$work/logs/benchmarkdotnet-pipeline.log" >&2; return 1; }
  report=$(find "$artifacts/results" -name '*-report-full-compressed.json' | head -n 1)
  [ -n "$report" ] || { log "no BenchmarkDotNet JSON report under $artifacts/results"; return 1; }
  jq '[.Benchmarks[] | {pipeline: .Parameters | sub("^Pipeline=";""), medianNs: .Statistics.Median, stdDevNs: .Statistics.StandardDeviation, allocatedBytes: .Memory.BytesAllocatedPerOperation}]' "$report"
}

# stop_named NAME: stops the one process started under NAME.
stop_named() {
  local i keep_pids=() keep_names=()
  for i in "${!pids[@]}"; do
    if [ "${names[$i]}" = "$1" ]; then
      kill -TERM "${pids[$i]}" 2>/dev/null || true
      local waited=0
      while kill -0 "${pids[$i]}" 2>/dev/null && ((waited < 150)); do sleep 0.1; waited=$((waited + 1)); done
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    else
      keep_pids+=("${pids[$i]}")
      keep_names+=("${names[$i]}")
    fi
  done
  pids=("${keep_pids[@]}")
  names=("${keep_names[@]}")
}

# The rungs of GatewayPipelineBenchmarks in pipeline order: bare YARP, the gateway host, then
# GatewayApp.PipelineFeatures one by one (keep in step with that list; gateway_json stops on a rung it lacks).
# The before file (docs/bench/gateway-pipeline-before.json) predates +grpc-request, +identity and +faults: its
# steps skip the rungs it lacks, and its "every feature" is its own last rung.
ladder_order='["bare-yarp", "gateway-host", "+method-resolution", "+request-metrics", "+backend-errors", "+deadline", "+tenancy", "+tenant-rate-limit", "+grpc-request", "+message-size", "+criticality", "+route-bulkhead", "+deadline-forwarding", "+identity", "+faults"]'

# gateway_json RAW: the part's figures, tables and notes from the raw numbers.
gateway_json() {
  local raw=$1 g d y n
  g=$(jq '.paths[] | select(.path == "gateway") | .goodputPerSecond' <<<"$raw")
  d=$(jq '.paths[] | select(.path == "direct") | .goodputPerSecond' <<<"$raw")
  y=$(jq '.paths[] | select(.path == "bare-yarp") | .goodputPerSecond' <<<"$raw")
  n=$(jq '.paths[] | select(.path == "nginx") | .goodputPerSecond' <<<"$raw")
  local lat_p50 lat_p99 dir_p50 dir_p99
  dir_p50=$(jq '[.latency[] | select(.stream.name == "direct") | .stream.latencyMs.p50][0] // null' <<<"$raw")
  dir_p99=$(jq '[.latency[] | select(.stream.name == "direct") | .stream.latencyMs.p99][0] // null' <<<"$raw")
  lat_p50=$(jq '[.latency[] | select(.stream.name == "gateway") | .stream.latencyMs.p50][0] // null' <<<"$raw")
  lat_p99=$(jq '[.latency[] | select(.stream.name == "gateway") | .stream.latencyMs.p99][0] // null' <<<"$raw")
  local r_yarp r_nginx why_yarp why_nginx yarp_nginx
  # Medians of the paired rounds' ratios (the single runs above when there are no rounds).
  r_yarp=$(jq --argjson fallback "$(calc "$g / $y")" '[.rounds[]? | .gateway / .bareYarp] | sort | if length == 0 then $fallback else .[(length - 1) / 2 | floor] end' <<<"$raw")
  r_nginx=$(jq --argjson fallback "$(calc "$g / $n")" '[.rounds[]? | .gateway / .nginx] | sort | if length == 0 then $fallback else .[(length - 1) / 2 | floor] end' <<<"$raw")
  yarp_nginx=$(jq --argjson fallback "$(calc "$y / $n")" '[.rounds[]? | .bareYarp / .nginx] | sort | if length == 0 then $fallback else .[(length - 1) / 2 | floor] end' <<<"$raw")
  local nrounds
  nrounds=$(jq '.rounds | length' <<<"$raw")
  local spread
  spread=$(jq -r '[.rounds[]? | .gateway / .bareYarp] | if length == 0 then "n/a" else "\(min * 100 | round / 100)–\(max * 100 | round / 100)" end' <<<"$raw")
  why_yarp="every feature stays on every call; what each still costs is in the in-process ladder (Δ B columns) and the notes. On these shared 2 cores the per-round ratio spread over $spread in this run (the paired-rounds table), so a single figure says little; the allocation ladder is the stable evidence."
  why_nginx="bare YARP itself reached $(printf '%.2f' "$yarp_nginx")× nginx grpc_pass (median of the same $nrounds rounds): the gateway is YARP plus features, so it cannot pass YARP, and 1.5× nginx needs YARP at ≥ 1.67× nginx on this machine (0.9 × 1.67 = 1.5). nginx, YARP and payments share the same 2 cores with h2load."
  local ok_direct ok_yarp ok_ours ok_nginx
  ok_direct=$(printf '%.0f' "$d")
  ok_yarp=$(printf '%.0f' "$y")
  ok_ours=$(printf '%.0f' "$g")
  ok_nginx=$(printf '%.0f' "$n")
  local figures
  figures=$(jq -s . \
    <(figure "our gateway ÷ bare YARP (throughput)" "$r_yarp" "×" ">=" 0.9 "median of $nrounds paired rounds (bare YARP, our gateway, nginx back to back, $(pick 8 2) s each after a warm-up); OK/s counted by payments' meshbulkheads_rpc_server_duration_seconds_count{rpc_method=\"GetBalance\",rpc_grpc_status_code=\"OK\"}, h2load closed loop 10 connections × 10 streams (single 15 s runs: $ok_ours vs $ok_yarp OK/s)" "$why_yarp") \
    <(figure "our gateway ÷ nginx grpc_pass (throughput)" "$r_nginx" "×" ">=" 1.5 "as above (single runs: $ok_ours vs $ok_nginx OK/s)" "$why_nginx") \
    <(figure "bare YARP ÷ nginx grpc_pass (throughput)" "$yarp_nginx" "×" "" null "median of the same rounds: the ceiling of the ratio above") \
    <(figure "direct (payments alone)" "$d" "OK/s" "" null "h2load straight to payments with a minted identity token ($ok_direct OK/s)") \
    <(figure "added p50 over direct (our gateway)" "$(calc "$lat_p50 - $dir_p50")" "ms" "" null "meshload open loop at $(pick 500 200)/s, latency from the intended send time, OK calls only") \
    <(figure "added p99 over direct (our gateway)" "$(calc "$lat_p99 - $dir_p99")" "ms" "" null "as above") \
    <(figure "RESOURCE_EXHAUSTED answered by the gateway" "$(jq '.rejections.perSecond' <<<"$raw")" "/s" "" null "h2load with the bronze tenant's key (10 tokens/s) far over its limit; meshbulkheads_gateway_rejected_requests_total{meshbulkheads_route=\"payments\"} over the run"))
  local paths_table latency_table breakdown_table
  paths_table=$(jq '{title: "Throughput per path (payments GetBalance on SQLite; success from payments'"'"' own metric)",
    columns: ["path", "OK/s at payments", "OK at payments", "handled at payments", "seconds", "warm-up calls", "h2load req/s (HTTP statuses, for comparison)"],
    rows: [.paths[] | [.path, .goodputPerSecond, .okAtPayments, .handledAtPayments, .seconds, .warmupCalls, .h2loadRequestsPerSecond]]}' <<<"$raw")
  latency_table=$(jq '{title: "Latency at a fixed moderate rate (meshload open loop; ms)",
    columns: ["path", "offered", "OK", "p50", "p90", "p99", "p99.9", "run valid (meshload lag)"],
    rows: [.latency[] | [.stream.name, .stream.offered, .stream.ok, .stream.latencyMs.p50, .stream.latencyMs.p90, .stream.latencyMs.p99, .stream.latencyMs.p999, (if .valid then "yes" else "no" end)]]}' <<<"$raw")
  breakdown_table=$(jq '{title: "Per-feature switches, paired (a second gateway with the switch changed beside the one with every feature on, measured A B B A; µs per request = 10⁶/OK-rate with every feature − 10⁶/OK-rate with the switch: positive = what the feature costs)",
    columns: ["switch", "OK/s with the switch", "OK/s with every feature (same pairs)", "µs per request saved"],
    rows: [.breakdown[] | [.variant, .goodputPerSecond, .allFeaturesGoodputPerSecond,
      (if .goodputPerSecond > 0 and .allFeaturesGoodputPerSecond > 0 then (1000000 / .allFeaturesGoodputPerSecond - 1000000 / .goodputPerSecond) else null end)]]}' <<<"$raw")
  # The in-process ladder, in pipeline order (GatewayApp.PipelineFeatures), after this change and before it.
  local ladder_table cpu_table ours_table alloc_table pipeline_figures unordered
  unordered=$(jq -r --argjson order "$ladder_order" '[(.pipeline // [])[].pipeline | select(. as $p | $order | index($p) | not)] | join(" ")' <<<"$raw")
  if [ -n "$unordered" ]; then
    log "gateway: the ladder has rungs ladder_order does not list ($unordered): add them to ladder_order in pipeline order"
    return 1
  fi
  ladder_table=$(jq --argjson order "$ladder_order" '
    def ordered($rows): [$order[] as $o | $rows[] | select(.pipeline == $o)];
    def steps($rows): ordered($rows) as $r | [range(0; $r | length) as $i | $r[$i] + {
        dNs: (if $i == 0 then null else $r[$i].medianNs - $r[$i - 1].medianNs end),
        dB: (if $i == 0 then null else $r[$i].allocatedBytes - $r[$i - 1].allocatedBytes end)}];
    (steps(.pipelineBefore.rows) | map({key: .pipeline, value: .}) | from_entries) as $before
    | {title: "Per-feature cost in process (GatewayPipelineBenchmarks: each rung adds one feature to the one above; µs and bytes per call, Δ = this rung − the one above)",
       columns: ["rung", "µs/call (median)", "Δ µs", "B/call", "Δ B", "µs/call before", "Δ µs before", "B/call before", "Δ B before"],
       rows: [steps(.pipeline // [])[] | [.pipeline, .medianNs / 1000, (if .dNs then .dNs / 1000 else null end), .allocatedBytes, .dB,
              ($before[.pipeline].medianNs // null | if . then . / 1000 else null end), ($before[.pipeline].dNs // null | if . then . / 1000 else null end),
              ($before[.pipeline].allocatedBytes // null), ($before[.pipeline].dB // null)]]}' <<<"$raw")
  cpu_table=$(jq '{title: "CPU profile of the gateway under the throughput load: top methods by exclusive busy samples (dotnet-trace thread time, waiting samples dropped)",
    columns: ["method", "share of busy samples", "samples", "called from (nearest non-runtime caller)"],
    rows: [(.profile.cpu.exclusive // [])[:15][] | [.method, .share, .samples, (.calledFrom // [] | join("; "))]]}' <<<"$raw")
  ours_table=$(jq '{title: "CPU profile: MeshBulkheads methods by inclusive busy samples (a middleware includes everything after it in the pipeline)",
    columns: ["method", "share of busy samples", "samples"],
    rows: [(.profile.cpu.oursInclusive // [])[:15][] | [.method, .share, .samples]]}' <<<"$raw")
  alloc_table=$(jq '{title: "Allocation profile of the gateway under the throughput load: top types (dotnet-trace gc-verbose, sampled about once per 100 KB)",
    columns: ["type", "share of sampled bytes", "sampled bytes", "allocated by (nearest non-runtime frame)"],
    rows: [(.profile.alloc.top // [])[:15][] | [.type, .share, .bytes, (.allocatedBy // [] | join("; "))]]}' <<<"$raw")
  pipeline_figures=$(jq -c --argjson order "$ladder_order" '
    def pick($rows; $name): [$rows[] | select(.pipeline == $name)][0];
    (.pipeline // []) as $after | .pipelineBefore.rows as $before | ($order[-1]) as $full
    | ([$order[] as $o | select(any($before[]; .pipeline == $o)) | $o][-1]) as $fullBefore
    | if ($after | length) == 0 then [] else [
      {name: "in process: gateway (every feature) ÷ bare YARP, calls per second", value: (pick($after; "bare-yarp").medianNs / pick($after; $full).medianNs), unit: "×",
       how: "GatewayPipelineBenchmarks (BenchmarkDotNet, TestServer + YARP forwarder + in-memory backend): median time per call of bare-yarp ÷ of the full pipeline"},
      {name: "in process: bytes the gateway adds per call (every feature − bare YARP)", value: (pick($after; $full).allocatedBytes - pick($after; "bare-yarp").allocatedBytes), unit: "B",
       how: "BenchmarkDotNet MemoryDiagnoser, same run"},
      {name: "in process, before issue 14: bytes the gateway added per call", value: (pick($before; $fullBefore).allocatedBytes - pick($before; "bare-yarp").allocatedBytes), unit: "B",
       how: "docs/bench/gateway-pipeline-before.json (commit \(.pipelineBefore.commit), same benchmark)"}] end' <<<"$raw")
  figures=$(jq -s '.[0] + .[1]' <(echo "$figures") <(echo "$pipeline_figures"))
  local rounds_table
  rounds_table=$(jq '{title: "Paired rounds (OK/s at payments; each round measures the three proxies back to back)",
    columns: ["round", "bare YARP", "our gateway", "nginx", "gateway ÷ YARP", "gateway ÷ nginx", "YARP ÷ nginx"],
    rows: [.rounds[]? | [.round, .bareYarp, .gateway, .nginx, .gateway / .bareYarp, .gateway / .nginx, .bareYarp / .nginx]]}' <<<"$raw")
  part_header gateway | jq --argjson figures "$figures" --argjson raw "$raw" \
    --argjson tables "$(jq -s . <(echo "$rounds_table") <(echo "$paths_table") <(echo "$latency_table") <(echo "$breakdown_table") <(echo "$ladder_table") <(echo "$cpu_table") <(echo "$ours_table") <(echo "$alloc_table"))" \
    '. + {summary: "Payments GetBalance (SQLite) called directly, through bare YARP (tools/MeshBulkheads.Bench bare-yarp: one route, no features, the mesh'"'"'s OpenTelemetry setup), through our gateway with every feature on (auth, tenant limit with headroom, route bulkhead, deadlines, criticality, metrics, tracing at the chart'"'"'s default sampling ratio 1 exporting OTLP/gRPC to a local sink that discards), and through Debian nginx grpc_pass; all Release builds started from artifacts/bin on 127.0.0.1, unpinned (hosts and h2load share the 2 cores).",
          figures: $figures, tables: $tables, raw: $raw,
          notes: ([
            "Headroom settings on every path alike: payments Bulkheads:payments-read:QueueLimit=256 and TenantMaxShare=1 (one tenant sends 100 calls at once). Gateway: gold tier 10⁶ tokens/s (the limiter still runs on every call), payments route bulkhead 256 permits + 256 queue, TenantMaxShare 1. Bare YARP and the gateway export OTLP to the same sink; payments exports none.",
            "Switches that exist: OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT unset), Mesh:Tracing:SamplingRatio=0, Mesh:Metrics:Exemplars=false, Mesh:Pitfalls:NoBulkheads=true (lifts the tenant limits, the route bulkheads and the services'"'"' bulkhead bounds: the row measures what admission control costs). Every feature, switch or not, is measured alone by the in-process ladder (GatewayPipelineBenchmarks: one BenchmarkDotNet case per rung, each adding one middleware of GatewayApp.PipelineFeatures in pipeline order; the before columns are docs/bench/gateway-pipeline-before.json, the same benchmark on the pipeline as it stood before issue 14).",
            "Profiles: scripts/profile.sh gateway \($raw.profile.seconds) cpu|alloc (make profile SERVICE=gateway KIND=cpu|alloc) while h2load drives the gateway as in the throughput run; the profiled runs are not the measured ones.",
            "Hosts log at Warning (Logging:LogLevel:Default) on every path.",
            ("What the profiles say (this run): " + ([$raw.profile.cpu.exclusive[]? | select(.method | test("Enter_Slowpath|SpinWait|SHA256|^!\\?$|AggregatorStore|TagsLinkedList")) | "\(.method) \(.share * 1000 | round / 10) % of busy samples (from \(.calledFrom | join(", ")))"] | join("; ")) + ". Sockets and the kernel (!? = native frames) and locks shared by every call (their callers are named above: in the runs of issue 14 the HTTP/2 connection'"'"'s write queue, SingleConsumerUnboundedChannel.TryWrite, one per backend connection and in bare YARP too, then Kestrel'"'"'s HTTP/2 request body and Activity tag lists) take most of the busy time; the OTLP exporter'"'"'s thread spins in Task.Wait on each synchronous export (off the request path, but on the same 2 cores). The gateway'"'"'s own code is small next to them: hashing the API key (SHA-256, so no key is ever held in memory) is the largest of its own frames. Allocations: " + ([$raw.profile.alloc.top[]?][:3] | map("\(.type) \(.share * 1000 | round / 10) % (by \(.allocatedBy | join(", ")))") | join("; ")) + ". YARP'"'"'s StreamCopier rents 64 KB copy buffers from the shared ArrayPool for each direction of each stream; with 100 streams in flight the pool'"'"'s per-core stock runs out and most rents allocate (bare YARP the same): the largest allocation source, and not the gateway'"'"'s to change (the buffer size is internal to YARP 2.3)."),
            "What remains per call and what it buys (in-process ladder, Δ B): the deadline keeps one CancellationTokenSource with its timer, one registration on the caller'"'"'s token and the held-back reset feature (so the backend call is cancelled at the deadline and the caller gets DEADLINE_EXCEEDED, not a reset); criticality and tenancy add the x-mesh-criticality and x-tenant-id headers the services act on (one more header entry each on both HTTP/2 hops); deadline forwarding formats grpc-timeout (one string); the route bulkhead'"'"'s lease is one object per grant (issue 8, item 13: a second Dispose must never release another holder'"'"'s permit). Removed by issue 14: one feature per decision (now one GatewayCall per call), the linked cancellation source, the API key'"'"'s UTF-8 array, the async state machines of the rate limit and frame-size checks, the criticality record, the bulkhead name built per call, the boxed status tag and the two-step grpc-timeout string."
          ] + [$raw.latency[] | select(.valid == false) | "meshload latency run \(.stream.name) was invalid (its scheduling lag p99 \(.schedulingLagP99Ms) ms > 100 ms): that row describes the load generator as much as the path."])}'
}

# ---------------------------------------------------------------------------------------------------
bench_bulkhead() {
  log "bulkhead: BenchmarkDotNet, Bulkhead acquire/release with ConcurrencyLimiter as the baseline (job $job)"
  local artifacts=$work/bdn
  rm -rf "$artifacts"
  dotnet exec "$(dll MeshBulkheads.Benchmarks)" --filter '*AcquireReleaseBenchmarks*' --job "$job" --inProcess --exporters json --artifacts "$artifacts" \
    >"$work/logs/benchmarkdotnet.log" 2>&1 || { tail -n 30 "$work/logs/benchmarkdotnet.log" >&2; return 1; }
  local report
  report=$(find "$artifacts/results" -name '*-report-full-compressed.json' | head -n 1)
  [ -n "$report" ] || { log "no BenchmarkDotNet JSON report under $artifacts/results"; return 1; }
  local rows
  rows=$(jq '[.Benchmarks[] | {method: .Method, meanNs: .Statistics.Mean, stdDevNs: .Statistics.StandardDeviation, allocatedBytes: .Memory.BytesAllocatedPerOperation}]' "$report")
  echo "$rows" >"$work/bulkhead-raw.json"
  local figures=() method mean alloc
  while IFS=$'\t' read -r method mean alloc; do
    case "$method" in
      ConcurrencyLimiter*)
        figures+=("$(figure "$method mean (baseline)" "$mean" "ns" "" null "BenchmarkDotNet job $job, in process, same run")")
        figures+=("$(figure "$method allocated" "$alloc" "B" "" null "per acquire + release")")
        ;;
      *)
        figures+=("$(figure "$method mean" "$mean" "ns" "<=" 100 "BenchmarkDotNet job $job, in process, same run as ConcurrencyLimiter" "the bulkhead takes two timestamps (service-time EWMA for deadline admission and pushback) and records three metrics with a listener attached on each grant; on shared cores the error bars are wide")")
        figures+=("$(figure "$method allocated" "$alloc" "B" "==" 0 "per acquire + release (BenchmarkDotNet MemoryDiagnoser)" "every grant is its own lease object since pooled leases could not make a second Dispose safe (issue 8, item 13)")")
        ;;
    esac
  done < <(jq -r '.[] | [.method, .meanNs, .allocatedBytes] | @tsv' <<<"$rows")
  # The identity token a service verifies on every call (aim < 2 µs), beside one bare HMAC of the same bytes.
  local identity_artifacts=$work/bdn-identity identity_report identity_rows
  rm -rf "$identity_artifacts"
  dotnet exec "$(dll MeshBulkheads.Benchmarks)" --filter '*IdentityTokenBenchmarks*' --job "$job" --inProcess --exporters json --artifacts "$identity_artifacts" \
    >"$work/logs/benchmarkdotnet-identity.log" 2>&1 || { tail -n 30 "$work/logs/benchmarkdotnet-identity.log" >&2; return 1; }
  identity_report=$(find "$identity_artifacts/results" -name '*-report-full-compressed.json' | head -n 1)
  [ -n "$identity_report" ] || { log "no BenchmarkDotNet JSON report under $identity_artifacts/results"; return 1; }
  identity_rows=$(jq '[.Benchmarks[] | {method: .Method, meanNs: .Statistics.Mean, stdDevNs: .Statistics.StandardDeviation, allocatedBytes: .Memory.BytesAllocatedPerOperation}]' "$identity_report")
  local hmac oneshot verify mint
  hmac=$(jq '[.[] | select(.method == "Hmac_SignedBytes") | .meanNs][0]' <<<"$identity_rows")
  oneshot=$(jq '[.[] | select(.method == "Hmac_OneShot") | .meanNs][0]' <<<"$identity_rows")
  verify=$(jq '[.[] | select(.method == "Verify") | .meanNs][0]' <<<"$identity_rows")
  mint=$(jq '[.[] | select(.method == "Mint") | .meanNs][0]' <<<"$identity_rows")
  figures+=("$(figure "MeshIdentityToken.Verify mean (every service, every call)" "$verify" "ns" "<=" 2000 "BenchmarkDotNet job $job, in process" "format check, one HMAC-SHA256, a fixed-time compare of the canonical MAC text, then the claims parsed (their strings are the allocation)")")
  figures+=("$(figure "MeshIdentityToken.Mint mean (gateway, every forwarded call)" "$mint" "ns" "" null "same run")")
  figures+=("$(figure "HMAC-SHA256 of the signed bytes (baseline)" "$hmac" "ns" "" null "same run, a reused keyed instance: the floor of any signed token")")
  figures+=("$(figure "HMAC-SHA256 one-shot (HMACSHA256.HashData)" "$oneshot" "ns" "" null "same run: a new OpenSSL MAC context per call, what Verify paid per call before it cached its instances")")
  figures+=("$(figure "Verify ÷ bare HMAC (mean)" "$(calc "$verify / $hmac")" "×" "" null "same run, same job")")
  rows=$(jq -s '.[0] + .[1]' <(echo "$rows") <(echo "$identity_rows"))
  local limiter bulkhead
  limiter=$(jq '[.[] | select(.method | startswith("ConcurrencyLimiter")) | .meanNs][0] // null' <<<"$rows")
  bulkhead=$(jq '[.[] | select(.method == "Bulkhead_AttemptAcquire") | .meanNs][0] // null' <<<"$rows")
  figures+=("$(figure "Bulkhead_AttemptAcquire ÷ ConcurrencyLimiter_AttemptAcquire (mean)" "$(calc "$bulkhead / $limiter")" "×" "" null "same run, same job")")
  local table
  table=$(jq --argjson base "$limiter" '{title: "BenchmarkDotNet results (mean and standard deviation in ns, allocated bytes per operation; the ratio is to ConcurrencyLimiter for the bulkhead rows)",
    columns: ["method", "mean ns", "stddev ns", "ratio to ConcurrencyLimiter", "allocated B"],
    rows: [.[] | [.method, .meanNs, .stdDevNs, (if $base then .meanNs / $base else null end), .allocatedBytes]]}' <<<"$rows")
  part_header bulkhead | jq --argjson figures "$(printf '%s\n' "${figures[@]}" | jq -s .)" --argjson raw "$rows" --argjson table "$table" \
    --arg cmd "dotnet exec artifacts/bin/MeshBulkheads.Benchmarks/release/MeshBulkheads.Benchmarks.dll --filter '*AcquireReleaseBenchmarks*' --job $job --inProcess --exporters json" \
    '. + {summary: ("Uncontended acquire + release of a Bulkhead against System.Threading.RateLimiting'"'"'s ConcurrencyLimiter, measured in the same BenchmarkDotNet run: `" + $cmd + "`."), figures: $figures, tables: [$table], raw: $raw}' \
    >"$work/parts/bulkhead.json"
}

# ---------------------------------------------------------------------------------------------------
# The local mesh: payments, reporting, render and the gateway, pinned to CPUS ("all": unpinned), each
# with the extra settings given (e.g. the pitfall switch).
start_mesh() {
  local cpus=$1
  shift
  start_payments "$cpus" "$@"
  start_reporting "$cpus" "$@"
  start_render "$cpus" "$@"
  start_gateway "$cpus" "$@"
}

# meshload RESULT CPUS SECONDS STREAM...: one open-loop run through the gateway, its JSON in RESULT.
meshload_run() {
  local out=$1 cpus=$2 seconds=$3
  shift 3
  local pin=() streams=() stream
  [ "$cpus" = all ] || pin=(taskset -c "$cpus")
  for stream in "$@"; do streams+=(--stream "$stream"); done
  "${pin[@]}" dotnet exec "$(dll MeshBulkheads.LoadGen)" run --target "127.0.0.1:$gateway_port" "${streams[@]}" \
    --duration "${seconds}s" --json --no-live >"$out" 2>>"$work/logs/meshload.log" || true
  jq -e .streams "$out" >/dev/null 2>&1 || { log "meshload gave no result (see $work/logs/meshload.log)"; echo '{"streams": [], "valid": false}' >"$out"; }
}

# meshload_notes RESULT...: a note for each meshload run that was invalid (its own scheduling lag too
# high: its latencies describe meshload's CPU, not the mesh), as a JSON array.
meshload_notes() {
  local file
  for file in "$@"; do
    jq --arg f "${file##*/}" 'select(.valid == false) | "meshload run \($f | sub("\\.json$"; "")) was invalid: \(.invalidReason // "no result")."' "$file"
  done | jq -s .
}

# stream_field RESULT NAME JQ_PATH: a field of one stream of a meshload result (null if absent).
stream_field() { jq "[.streams[] | select(.name == \"$2\") | $3][0] // null" "$1"; }

# slo_p99 ROUTE: latency_p99_seconds of the SLO on ROUTE in slo.yaml.
slo_p99() {
  awk -v route="$1" '$1 == "route:" { here = ($2 == route) } here && $1 == "latency_p99_seconds:" { print $2; exit }' "$root/slo.yaml"
}

# The gold tenant with room (render costs 10 tokens, gold has 200/s; render's own per-tenant work budget
# admits about 30 of these renders a second): in overload and memory the bulkheads, not the tenant's
# limits, decide what is shed. (Before the budget was lifted here, 25,127 of 32,026 calls at 3× were
# `tenant-work-budget`: the part measured the budget, not the bulkheads.)
readonly gold_headroom=(Gateway__Tiers__gold__TokensPerSecond=1000000 Gateway__Tiers__gold__Burst=1000000
  Render__TenantWorkBudget__WorkUnitsPerSecond=1000000000000)
readonly render_stream="method=Render,size=128,iterations=200,key=$gold_key"

# render_capacity SECONDS: render's goodput through the gateway, closed loop, 4 calls in flight (its one
# worker always busy, the queue short).
render_capacity() {
  meshload_run "$work/capacity.json" all "$1" "name=capacity,$render_stream,concurrency=4"
  stream_field "$work/capacity.json" capacity .goodput
}

bench_overload() {
  log "overload: render at 3× its measured capacity through the gateway"
  start_mesh all "${gold_headroom[@]}"
  meshload_run "$work/overload-warm.json" all "$(pick 5 2)" "name=warm,$render_stream,rate=20"
  local capacity
  capacity=$(render_capacity "$(pick 10 4)")
  log "overload: capacity $capacity renders/s"
  local rate seconds
  rate=$(calc "3 * $capacity")
  seconds=$(pick 20 5)
  scrape "$gateway_admin" "$work/m-overload-gw-0.txt"
  meshload_run "$work/overload.json" all "$seconds" "name=render,$render_stream,rate=$rate"
  scrape "$gateway_admin" "$work/m-overload-gw-1.txt"
  stop_all
  local route=/meshbulkheads.render.v1.RenderService/Render slo goodput p99_ok rej_client rej_gw ok_gw
  slo=$(slo_p99 "$route")
  goodput=$(stream_field "$work/overload.json" render .goodput)
  p99_ok=$(stream_field "$work/overload.json" render .latencyMs.p99)
  rej_client=$(stream_field "$work/overload.json" render '(if .rejected > 0 then .rejectedLatencyMs.p99 else null end)')
  rej_gw=$(quantile "$work/m-overload-gw-0.txt" "$work/m-overload-gw-1.txt" meshbulkheads_gateway_request_duration_seconds 0.99 \
    'meshbulkheads_route="render"' 'rpc_grpc_status_code="(UNAVAILABLE|RESOURCE_EXHAUSTED)"')
  ok_gw=$(quantile "$work/m-overload-gw-0.txt" "$work/m-overload-gw-1.txt" meshbulkheads_gateway_request_duration_seconds 0.99 \
    'meshbulkheads_route="render"' 'rpc_grpc_status_code="OK"')
  local figures
  figures=$(jq -s . \
    <(figure "goodput at 3× capacity ÷ capacity" "$(calc "100 * $goodput / $capacity")" "%" ">=" 95 "meshload open loop at $(printf '%.0f' "$rate")/s (3 × $(printf '%.1f' "$capacity")/s measured closed loop just before), OK calls per second" "the goodput under overload fell below the closed-loop capacity: rejections and the queue's work cost the same cores the one render worker needs (all hosts and meshload unpinned on 2 shared cores)") \
    <(figure "p99 of admitted renders (client, from the intended send time)" "$p99_ok" "ms" "<=" "$(calc "1000 * $slo")" "meshload, OK calls only; aim: slo.yaml latency_p99_seconds of $route" "admitted renders waited in render's queue (MaxQueueTime 2 s) behind the one worker") \
    <(figure "p99 of admitted renders (gateway histogram)" "$(calc "1000 * $ok_gw")" "ms" "<=" "$(calc "1000 * $slo")" "meshbulkheads_gateway_request_duration_seconds{meshbulkheads_route=\"render\",rpc_grpc_status_code=\"OK\"} between two scrapes" "as above") \
    <(figure "p99 of rejections (gateway histogram)" "$(calc "1000 * $rej_gw")" "ms" "<=" 2 "meshbulkheads_gateway_request_duration_seconds{meshbulkheads_route=\"render\",rpc_grpc_status_code=~\"UNAVAILABLE|RESOURCE_EXHAUSTED\"}, interpolated inside the bucket (bounds 0.5, 1, 2.5, 5 ms …)" "rejections answered downstream (render's queue-full) cross the gateway and back; on busy shared cores a rejection also waits for a thread") \
    <(figure "p99 of rejections (client)" "$rej_client" "ms" "" null "meshload rejectedLatencyMs, from the intended send time (includes the client's own scheduling)"))
  local raw
  raw=$(jq -n --argjson capacity "$capacity" --argjson rate "$rate" --slurpfile run "$work/overload.json" --slurpfile cap "$work/capacity.json" \
    '{capacityPerSecond: $capacity, offeredRate: $rate, capacityRun: $cap[0], overloadRun: $run[0]}')
  part_header overload | jq --argjson figures "$figures" --argjson raw "$raw" \
    --argjson table "$(jq '{title: "Outcomes at 3× capacity (meshload)", columns: ["outcome", "calls"], rows: [.streams[0].outcomes // {} | to_entries[] | [.key, .value]]}' "$work/overload.json")" \
    --argjson notes "$(meshload_notes "$work/capacity.json" "$work/overload.json")" \
    '. + {notes: $notes, summary: "Render (128×128, 200 iterations; one worker on 2 cores) through the gateway: capacity measured closed loop, then an open loop at 3× it. The gold tenant has a rate limit and a render work budget (Render:TenantWorkBudget) above the load, so render'"'"'s bulkhead (and the route bulkhead) decide what is shed. All hosts unpinned.", figures: $figures, tables: [$table], raw: $raw}' \
    >"$work/parts/overload.json"
}

bench_deadlines() {
  log "deadlines: a deadline storm (1 ms reports, 2 ms renders) beside payments reads"
  start_mesh all
  local seconds
  seconds=$(pick 15 5)
  local port files=()
  for port in "$payments_admin" "$reporting_admin" "$render_admin"; do scrape "$port" "$work/m-dl-$port-0.txt"; done
  meshload_run "$work/deadlines.json" all "$seconds" \
    "name=reports-1ms,method=BuildReport,rate=8,deadline=1ms,key=globex-dev-key" \
    "name=renders-2ms,method=Render,rate=10,deadline=2ms,size=128,iterations=200,key=$gold_key" \
    "name=payments,method=GetBalance,rate=30,key=$gold_key"
  for port in "$payments_admin" "$reporting_admin" "$render_admin"; do scrape "$port" "$work/m-dl-$port-1.txt"; files+=("$port"); done
  stop_all
  local dl_server=0 shed_deadline=0 late_starts=0 starts=0 port0 port1
  for port in "${files[@]}"; do
    port0=$work/m-dl-$port-0.txt
    port1=$work/m-dl-$port-1.txt
    late_starts=$((late_starts + $(msum "$port1" meshbulkheads_rpc_server_handler_starts_total 'meshbulkheads_deadline_state="passed"') - $(msum "$port0" meshbulkheads_rpc_server_handler_starts_total 'meshbulkheads_deadline_state="passed"')))
    starts=$((starts + $(msum "$port1" meshbulkheads_rpc_server_handler_starts_total) - $(msum "$port0" meshbulkheads_rpc_server_handler_starts_total)))
    dl_server=$((dl_server + $(msum "$port1" meshbulkheads_rpc_server_duration_seconds_count 'rpc_grpc_status_code="DEADLINE_EXCEEDED"') - $(msum "$port0" meshbulkheads_rpc_server_duration_seconds_count 'rpc_grpc_status_code="DEADLINE_EXCEEDED"')))
    shed_deadline=$((shed_deadline + $(msum "$port1" meshbulkheads_bulkhead_requests_total 'meshbulkheads_result="deadline"') - $(msum "$port0" meshbulkheads_bulkhead_requests_total 'meshbulkheads_result="deadline"')))
  done
  local render_dl
  render_dl=$(($(msum "$work/m-dl-$render_admin-1.txt" meshbulkheads_render_workers_requests_total 'meshbulkheads_result="deadline"') - $(msum "$work/m-dl-$render_admin-0.txt" meshbulkheads_render_workers_requests_total 'meshbulkheads_result="deadline"')))
  local figures
  figures=$(jq -s . \
    <(figure "handlers started after their caller's deadline" "$late_starts" "calls" "==" 0 "meshbulkheads_rpc_server_handler_starts_total{meshbulkheads_deadline_state=\"passed\"}, payments + reporting + render, over the storm (each service's BulkheadInterceptor records every handler start by the clock at that instant)" "started after the deadline: $late_starts of $starts handler starts") \
    <(figure "handlers started" "$starts" "calls" "" null "meshbulkheads_rpc_server_handler_starts_total, every state, payments + reporting + render, over the storm") \
    <(figure "DEADLINE_EXCEEDED answered by the services" "$dl_server" "calls" "" null "meshbulkheads_rpc_server_duration_seconds_count{rpc_grpc_status_code=\"DEADLINE_EXCEEDED\"}, payments + reporting + render, over the storm") \
    <(figure "shed by a bulkhead because the deadline could not be met" "$shed_deadline" "calls" "" null "meshbulkheads_bulkhead_requests_total{meshbulkheads_result=\"deadline\"} over the storm (before any handler work)") \
    <(figure "admitted renders that ended at their deadline" "$render_dl" "calls" "" null "meshbulkheads_render_workers_requests_total{meshbulkheads_result=\"deadline\"}") \
    <(figure "payments reads OK during the storm" "$(stream_field "$work/deadlines.json" payments '(if .offered > 0 then 100 * .ok / .offered else null end)')" "%" ">=" 99 "meshload, 30/s GetBalance with the default 2 s deadline beside the storm" "payments' outcomes in this run: $(jq -c '[.streams[] | select(.name == "payments") | .outcomes][0] // {}' "$work/deadlines.json") (see the notes for the load generator's own lag)"))
  part_header deadlines | jq --argjson figures "$figures" --slurpfile run "$work/deadlines.json" \
    --argjson table "$(jq '{title: "Outcomes per stream (meshload)", columns: ["stream", "offered", "OK", "rejected", "deadline (client)", "errors"], rows: [.streams[] | [.name, .offered, .ok, .rejected, .deadlineExceeded, .errors]]}' "$work/deadlines.json")" \
    --argjson notes "$(meshload_notes "$work/deadlines.json")" \
    '. + {notes: $notes, summary: "meshload'"'"'s deadline-storm streams through the gateway: 8/s BuildReport with a 1 ms deadline, 10/s Render with 2 ms, and 30/s GetBalance with its default deadline. Shipped configuration, hosts unpinned.", figures: $figures, tables: [$table], raw: $run[0]}' \
    >"$work/parts/deadlines.json"
}

readonly no_bulkheads=Mesh__Pitfalls__NoBulkheads=true

bench_isolation() {
  log "isolation: payments p99 with and without a reporting flood, bulkheads on and off; hosts on CPU 0, meshload on CPU 1"
  local seconds payments_stream flood_stream mode rows=() figures=()
  seconds=$(pick 15 5)
  payments_stream="name=payments,method=GetBalance,rate=100,key=$gold_key,criticality=critical"
  flood_stream="name=reporting-flood,method=BuildReport,rate=60,accounts=50,key=globex-dev-key,criticality=sheddable"
  # "quota": as shipped, with reporting's process capped by a CFS quota of 250m, as a chart CPU limit of 250m on
  # reporting would cap it (the noisy service cannot take payments' core however much it is asked to do).
  local modes=(on off) quota_why=""
  if cpu_quota_supported; then modes+=(quota); else quota_why="cgroup CPU controller not writable here (cgroup v1 /sys/fs/cgroup/cpu or v2 cpu.max; needs root)"; fi
  for mode in "${modes[@]}"; do
    local extra=() label=$mode
    [ "$mode" != off ] || extra=("$no_bulkheads")
    [ "$mode" != quota ] || label="on, reporting capped at 250m"
    start_mesh 0 "${extra[@]}"
    if [ "$mode" = quota ] && ! cpu_quota reporting 250; then
      log "isolation: could not place reporting in a CPU cgroup; the quota row is skipped"
      stop_all; cpu_quota_release; quota_why="placing reporting in $cgroup_root failed"; continue
    fi
    meshload_run "$work/isolation-$mode-warm.json" 1 "$(pick 5 2)" "$payments_stream" "name=reports,method=BuildReport,rate=5,key=globex-dev-key"
    meshload_run "$work/isolation-$mode-quiet.json" 1 "$seconds" "$payments_stream"
    meshload_run "$work/isolation-$mode-flood.json" 1 "$seconds" "$payments_stream" "$flood_stream"
    stop_all
    cpu_quota_release
    local quiet flood ok_flood
    quiet=$(stream_field "$work/isolation-$mode-quiet.json" payments .latencyMs.p99)
    flood=$(stream_field "$work/isolation-$mode-flood.json" payments .latencyMs.p99)
    ok_flood=$(stream_field "$work/isolation-$mode-flood.json" payments '(if .offered > 0 then 100 * .ok / .offered else null end)')
    if [ "$mode" = on ]; then
      figures+=("$(figure "payments p99 during the flood ÷ without, bulkheads on" "$(calc "$flood / $quiet")" "×" "<=" 1.3 "meshload open loop 100/s GetBalance (acme, critical) from the intended send time; flood: 60/s 50-account BuildReport (globex, sheddable); p99 ${flood} ms vs ${quiet} ms" "the four hosts share one core: reporting's admitted work and the gateway's rejections of the flood take CPU time from payments on that core; the levers are cheap rejection paths and criticality")")
    elif [ "$mode" = quota ]; then
      figures+=("$(figure "payments p99 during the flood ÷ without, bulkheads on, reporting capped at 250m" "$(calc "$flood / $quiet")" "×" "<=" 1.3 "as the first row, with reporting's process in its own CPU cgroup (CFS quota 25 ms per 100 ms, $cgroup_root/reporting): p99 ${flood} ms vs ${quiet} ms" "reporting's share is capped, but the gateway still answers every flood call and payments serves reporting's fan-out reads on the same core")")
    else
      figures+=("$(figure "payments p99 during the flood ÷ without, bulkheads off ($no_bulkheads)" "$(calc "$flood / $quiet")" "×" "" null "as above, every host started with $no_bulkheads (admission bounds lifted: every bulkhead unbounded, no tenant limits, no route bulkheads, no deadline-aware admission; worker pools, database pools and Kestrel limits stay)")")
    fi
    figures+=("$(figure "payments OK during the flood, bulkheads $label" "$ok_flood" "%" "" null "meshload, OK ÷ offered")")
    rows+=("$(jq -n --arg mode "$label" --argjson q "$quiet" --argjson f "$flood" --argjson ok "$ok_flood" \
      --argjson flood "$(jq '[.streams[] | select(.name == "reporting-flood") | {ok, rejected, offered}][0] // null' "$work/isolation-$mode-flood.json")" \
      '[$mode, $q, $f, $ok, $flood.offered, $flood.ok, $flood.rejected]')")
  done
  [ -z "$quota_why" ] || figures+=("$(figure "payments p99 during the flood ÷ without, bulkheads on, reporting capped at 250m" null "×" "<=" 1.3 "per-process CPU quota (cgroup)" "not measured: $quota_why")")
  local raw
  raw=$(jq -n --slurpfile onq "$work/isolation-on-quiet.json" --slurpfile onf "$work/isolation-on-flood.json" \
    --slurpfile offq "$work/isolation-off-quiet.json" --slurpfile offf "$work/isolation-off-flood.json" \
    '{on: {quiet: $onq[0], flood: $onf[0]}, off: {quiet: $offq[0], flood: $offf[0]}}')
  if [ -s "$work/isolation-quota-flood.json" ]; then
    raw=$(jq --slurpfile q "$work/isolation-quota-quiet.json" --slurpfile f "$work/isolation-quota-flood.json" '. + {quota: {quiet: $q[0], flood: $f[0]}}' <<<"$raw")
  fi
  part_header isolation | jq --argjson figures "$(printf '%s\n' "${figures[@]}" | jq -s .)" --argjson raw "$raw" \
    --argjson rows "$(printf '%s\n' "${rows[@]}" | jq -s .)" \
    --argjson notes "$(meshload_notes "$work"/isolation-*-quiet.json "$work"/isolation-*-flood.json)" \
    '. + {notes: $notes, summary: "Payments p99 (open loop, tenant acme) without and during a reporting flood from a second tenant (globex), bulkheads on (as shipped) and off, in the same run. The four hosts pinned to CPU 0 (taskset -c 0), meshload to CPU 1. Where the cgroup CPU controller is writable (root), a third run caps reporting with a CFS quota of 250m, as a chart CPU limit would.",
          figures: $figures, raw: $raw,
          tables: [{title: "Payments p99 (ms) and the flood'"'"'s outcome", columns: ["bulkheads", "p99 quiet", "p99 during flood", "payments OK % (flood)", "flood offered", "flood OK", "flood rejected"], rows: $rows}]}' \
    >"$work/parts/isolation.json"
}

pid_of() {
  local i
  for i in "${!names[@]}"; do [ "${names[$i]}" != "$1" ] || { echo "${pids[$i]}"; return; }; done
}

# cpu_quota NAME MILLICPU: puts the running host NAME into its own CPU cgroup capped at MILLICPU (the CFS quota a
# Kubernetes CPU limit sets): cgroup v1 cpu.cfs_quota_us, or v2 cpu.max. Returns 1 where cgroups are not writable.
cgroup_root=""
cpu_quota_supported() {
  if [ -w /sys/fs/cgroup/cpu ] && [ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
    cgroup_root=/sys/fs/cgroup/cpu/meshbulkheads-bench
  elif [ -w /sys/fs/cgroup ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cgroup_root=/sys/fs/cgroup/meshbulkheads-bench
  else
    return 1
  fi
  mkdir -p "$cgroup_root" 2>/dev/null || return 1
  [ ! -e "$cgroup_root/cgroup.subtree_control" ] || echo +cpu >"$cgroup_root/cgroup.subtree_control" 2>/dev/null || true
}

cpu_quota() {
  local name=$1 milli=$2 pid group
  pid=$(pid_of "$name")
  [ -n "$pid" ] && [ -n "$cgroup_root" ] || return 1
  group=$cgroup_root/$name
  mkdir -p "$group" || return 1
  if [ -e "$group/cpu.cfs_quota_us" ]; then
    echo 100000 >"$group/cpu.cfs_period_us" && echo $((milli * 100)) >"$group/cpu.cfs_quota_us" || return 1
  else
    echo "$((milli * 100)) 100000" >"$group/cpu.max" || return 1
  fi
  echo "$pid" >"$group/cgroup.procs"
}

# cpu_quota_release: moves every process out of the bench's groups and removes them (after stop_all).
cpu_quota_release() {
  [ -n "$cgroup_root" ] && [ -d "$cgroup_root" ] || return 0
  local group pid parent
  parent=$(dirname "$cgroup_root")
  for group in "$cgroup_root"/*/; do
    [ -d "$group" ] || continue
    while read -r pid; do echo "$pid" >"$parent/cgroup.procs" 2>/dev/null || true; done <"$group/cgroup.procs"
    rmdir "$group" 2>/dev/null || true
  done
  rmdir "$cgroup_root" 2>/dev/null || true
}

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

readonly gcdump_version=10.0.750501
ensure_gcdump() {
  local dir=$root/.tools/bin
  [ -x "$dir/dotnet-gcdump" ] || dotnet tool install dotnet-gcdump --version "$gcdump_version" --tool-path "$dir" >&2
  echo "$dir/dotnet-gcdump"
}

# gen2_after_gc NAME ADMIN: dotnet-gcdump collects a heap dump (a full, blocking GC), then the gen2
# size after that collection from the host's own metric.
gen2_after_gc() {
  local pid
  pid=$(pid_of "$1")
  "$gcdump" collect -p "$pid" -o "$work/$1-$3.gcdump" >>"$work/logs/gcdump.log" 2>&1 || { echo null; return; }
  scrape "$2" "$work/m-gc-$1-$3.txt"
  msum "$work/m-gc-$1-$3.txt" dotnet_gc_last_collection_heap_size_bytes 'gc_heap_generation="gen2"'
}

bench_memory() {
  log "memory: 10× overload for 60 s after a 20 s warm-up"
  local gcdump
  gcdump=$(ensure_gcdump)
  start_mesh all "${gold_headroom[@]}"
  local capacity warm seconds
  capacity=$(render_capacity "$(pick 5 3)")
  warm=$(pick 20 5)
  seconds=$(pick 60 10)
  local streams=("name=render,$render_stream,rate=$(calc "10 * $capacity")"
    "name=reports,method=BuildReport,rate=60,accounts=50,key=globex-dev-key"
    "name=payments,method=GetBalance,rate=300,key=$gold_key")
  meshload_run "$work/memory-warm.json" all "$warm" "${streams[@]}"
  local hosts=(gateway payments reporting render) admins=("$gateway_admin" "$payments_admin" "$reporting_admin" "$render_admin")
  local i start_gen2=() end_gen2=()
  for i in "${!hosts[@]}"; do start_gen2+=("$(gen2_after_gc "${hosts[$i]}" "${admins[$i]}" start)"); done
  dotnet exec "$(dll MeshBulkheads.LoadGen)" run --target "127.0.0.1:$gateway_port" --stream "${streams[0]}" --stream "${streams[1]}" --stream "${streams[2]}" \
    --duration "${seconds}s" --json --no-live >"$work/memory.json" 2>>"$work/logs/meshload.log" &
  local load=$! t0=$SECONDS sample=0
  : >"$work/rss.tsv"
  while kill -0 "$load" 2>/dev/null; do
    for i in "${!hosts[@]}"; do
      printf '%s\t%s\t%s\n' "${hosts[$i]}" "$((SECONDS - t0))" "$(rss_kib "$(pid_of "${hosts[$i]}")")" >>"$work/rss.tsv"
      curl -sf "http://127.0.0.1:${admins[$i]}/metrics" >"$work/m-mem-${hosts[$i]}-$sample.txt" || true
    done
    sample=$((sample + 1))
    sleep "$(pick 5 2)"
  done
  wait "$load" || true
  for i in "${!hosts[@]}"; do end_gen2+=("$(gen2_after_gc "${hosts[$i]}" "${admins[$i]}" end)"); done
  stop_all
  local figures=() host slope change
  for i in "${!hosts[@]}"; do
    host=${hosts[$i]}
    # Least-squares slope of RSS over time, in MiB per minute.
    slope=$(awk -v h="$host" '$1 == h { n++; x = $2; y = $3 / 1024; sx += x; sy += y; sxx += x * x; sxy += x * y }
      END { d = n * sxx - sx * sx; if (n < 2 || d == 0) print "null"; else printf "%.4f\n", 60 * (n * sxy - sx * sy) / d }' "$work/rss.tsv")
    figures+=("$(figure "$host RSS slope" "$slope" "MiB/min" "<" 1 "VmRSS sampled every $(pick 5 2) s during the ${seconds} s, least-squares slope" "the process grew during the run; a run this short cannot tell a leak from a heap still finding its size (the gen2 figure beside it separates them)")")
    change=$(calc "100 * (${end_gen2[$i]} - ${start_gen2[$i]}) / ${start_gen2[$i]}")
    figures+=("$(figure "$host gen2 after a forced GC, change end vs start" "$change" "%" "<=" 5 "dotnet-gcdump collect (a full blocking GC) after the warm-up and after the run, then dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen2\"}: ${start_gen2[$i]} → ${end_gen2[$i]} bytes" "gen2 held more after the run than after the warm-up (a shrink counts as within the aim)")")
  done
  # Bounds: every exported in-use/queued gauge against its exported limit, at every sample.
  local over
  over=$(cat "$work"/m-mem-*.txt | awk '
    /^meshbulkheads_bulkhead_active_requests\{/ { split($0, a, "meshbulkheads_bulkhead=\""); split(a[2], b, "\""); act[b[1]] = ($NF > act[b[1]]) ? $NF : act[b[1]] }
    /^meshbulkheads_bulkhead_permit_limit\{/ { split($0, a, "meshbulkheads_bulkhead=\""); split(a[2], b, "\""); lim[b[1]] = $NF }
    /^meshbulkheads_bulkhead_queued_requests\{/ { split($0, a, "meshbulkheads_bulkhead=\""); split(a[2], b, "\""); bq[b[1]] = ($NF > bq[b[1]]) ? $NF : bq[b[1]] }
    /^meshbulkheads_bulkhead_queue_limit\{/ { split($0, a, "meshbulkheads_bulkhead=\""); split(a[2], b, "\""); bql[b[1]] = $NF }
    /^meshbulkheads_bulkhead_tenants\{/ { split($0, a, "meshbulkheads_bulkhead=\""); split(a[2], b, "\""); tn[b[1]] = ($NF > tn[b[1]]) ? $NF : tn[b[1]] }
    /^meshbulkheads_payments_partition_queued_requests\{/ { split($0, a, "meshbulkheads_partition=\""); split(a[2], b, "\""); q[b[1]] = ($NF > q[b[1]]) ? $NF : q[b[1]] }
    /^meshbulkheads_payments_partition_queue_limit\{/ { split($0, a, "meshbulkheads_partition=\""); split(a[2], b, "\""); ql[b[1]] = $NF }
    END { n = 0; for (k in act) if (k in lim && act[k] > lim[k]) n++; for (k in q) if (k in ql && q[k] > ql[k]) n++
          for (k in bq) if (k in bql && bq[k] > bql[k]) n++; for (k in tn) if (k in lim && k in bql && tn[k] > lim[k] + bql[k]) n++; print n }')
  figures+=("$(figure "bounded gauges over their exported bound (samples)" "$over" "" "==" 0 "every scrape during the run: meshbulkheads_bulkhead_active_requests ≤ meshbulkheads_bulkhead_permit_limit and meshbulkheads_bulkhead_queued_requests ≤ meshbulkheads_bulkhead_queue_limit per bulkhead, the per-tenant share table (meshbulkheads_bulkhead_tenants) ≤ permit limit + queue limit per bulkhead, meshbulkheads_payments_partition_queued_requests ≤ meshbulkheads_payments_partition_queue_limit per partition" "a gauge exceeded its exported bound in at least one scrape")")
  local maxq
  maxq=$(cat "$work"/m-mem-*.txt | awk '/^meshbulkheads_bulkhead_queued_requests\{/ { if ($NF > m) m = $NF } END { print m + 0 }')
  figures+=("$(figure "largest bulkhead queue seen" "$maxq" "requests" "" null "max of meshbulkheads_bulkhead_queued_requests over every scrape (checked against meshbulkheads_bulkhead_queue_limit above). Not exported: the gateway's tenant bucket table, whose keys are the tenants of the API keys file (bounded by configuration, never by request data)")")
  local maxt
  maxt=$(cat "$work"/m-mem-*.txt | awk '/^meshbulkheads_bulkhead_tenants\{/ { if ($NF > m) m = $NF } END { print m + 0 }')
  figures+=("$(figure "largest per-tenant share table seen" "$maxt" "tenants" "" null "max of meshbulkheads_bulkhead_tenants over every scrape (an entry lives only while its tenant holds a permit or a queue slot)")")
  part_header memory | jq --argjson figures "$(printf '%s\n' "${figures[@]}" | jq -s .)" \
    --slurpfile run "$work/memory.json" --rawfile rss "$work/rss.tsv" --argjson capacity "$capacity" \
    --argjson notes "$(meshload_notes "$work/memory.json")" \
    '. + {notes: $notes, summary: ("10× overload through the gateway for the measured window after the warm-up: render at 10 × its closed-loop capacity (" + ($capacity | tostring) + "/s), 60/s 50-account reports from globex and 300/s GetBalance from acme (gold with a rate limit and a render work budget above the load). Hosts unpinned."), figures: $figures,
          raw: {capacityPerSecond: $capacity, run: $run[0], rss: ($rss | split("\n") | map(select(length > 0) | split("\t") | {host: .[0], second: (.[1] | tonumber), rssKiB: (.[2] | tonumber)}))}}' \
    >"$work/parts/memory.json"
}

# ---------------------------------------------------------------------------------------------------
build() {
  [ "${BENCH_NO_BUILD:-0}" != 1 ] || return 0
  log "building Release (eng/bench.slnf: the four hosts, meshload, tools/MeshBulkheads.Bench, the BenchmarkDotNet project)"
  dotnet build "$root/eng/bench.slnf" -c Release --nologo -v quiet -clp:NoSummary
}

check_tools() {
  local tool missing=()
  for tool in h2load nginx taskset jq curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ "${#missing[@]}" -eq 0 ] || { log "missing ${missing[*]}: run scripts/ensure-deps.sh apt"; exit 1; }
  local port
  for port in "$gateway_port" "$gateway_admin" "$payments_port" "$payments_admin" "$reporting_port" "$reporting_admin" \
    "$render_port" "$render_admin" "$yarp_port" "$yarp_admin" "$nginx_port" "$sink_port"; do
    if listening "$port"; then log "port $port on 127.0.0.1 is in use (another bench?); set BENCH_PORT_BASE"; exit 1; fi
  done
}

merge_and_render() {
  # Files, not arguments: one argument may hold at most 128 KB, and the document is larger.
  local existing=$work/existing.json
  if [ -s "$doc_json" ]; then cp "$doc_json" "$existing"; else echo '{"parts": {}}' >"$existing"; fi
  local part_files=() file
  for file in "$work"/parts/*.json; do
    if jq -e 'type == "object"' "$file" >/dev/null 2>&1; then part_files+=("$file"); else log "${file##*/}: no valid results, left out"; fi
  done
  [ "${#part_files[@]}" -gt 0 ] || { log "no part produced results"; return 1; }
  jq -n --slurpfile existing "$existing" --slurpfile parts <(cat "${part_files[@]}") --argjson names "$(printf '%s\n' "${part_files[@]}" | xargs -n1 basename | sed 's/\.json$//' | jq -R . | jq -s .)" \
    '$existing[0] | .parts = ((.parts // {}) + ([$names, $parts] | transpose | map({key: .[0], value: .[1]}) | from_entries) | with_entries(select(.value | type == "object")))' >"$doc_json.tmp"
  mv "$doc_json.tmp" "$doc_json"
  dotnet exec "$(dll MeshBulkheads.Bench)" render "$doc_json" "$doc_md"
}

# BENCH_RERENDER=1 make bench ONLY=gateway: the gateway part's figures, tables and notes rebuilt from the raw numbers
# of the last run (artifacts/bench/gateway-raw.json), keeping its date, command, machine and label; nothing is measured.
rerender_gateway() {
  [ "$only" = gateway ] || { log "BENCH_RERENDER=1 works with ONLY=gateway"; exit 2; }
  [ -s "$work/gateway-raw.json" ] || { log "no $work/gateway-raw.json: run make bench ONLY=gateway first"; exit 2; }
  local header
  header=$(jq '.parts.gateway | {status, date, command, machine} + (if .label then {"label": .label} else {} end)' "$doc_json")
  mkdir -p "$work/parts"
  rm -f "$work/parts/"*.json
  gateway_json "$(cat "$work/gateway-raw.json")" | jq --argjson h "$header" '. + $h' >"$work/parts/gateway.json"
  merge_and_render
}

main() {
  local started=$SECONDS
  if [ "${BENCH_RERENDER:-0}" = 1 ]; then
    rerender_gateway
    return
  fi
  check_tools
  build
  rm -rf "$work"
  mkdir -p "$work/logs" "$work/parts"
  identity_init "$work/identity.env"
  local parts=("$only")
  [ "$only" != all ] || parts=(bulkhead gateway deadlines overload isolation memory)
  local part failed=()
  for part in "${parts[@]}"; do
    local t0=$SECONDS
    case "$part" in
      bulkhead) bench_bulkhead || failed+=("$part") ;;
      gateway) bench_gateway || failed+=("$part") ;;
      deadlines) bench_deadlines || failed+=("$part") ;;
      overload) bench_overload || failed+=("$part") ;;
      isolation) bench_isolation || failed+=("$part") ;;
      memory) bench_memory || failed+=("$part") ;;
    esac
    stop_all
    log "$part: $((SECONDS - t0)) s"
  done
  merge_and_render
  log "done in $((SECONDS - started)) s: $doc_md, $doc_json (logs in ${work#"$root"/}/logs)"
  [ "${#failed[@]}" -eq 0 ] || { log "failed: ${failed[*]}"; exit 1; }
}

main
