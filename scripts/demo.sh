#!/usr/bin/env bash
# `make demo`: the mesh twice, bulkheads on (as shipped) and off (Mesh:Pitfalls:NoBulkheads=true), under
# meshload's noisy-neighbor scenario, side by side.
#
# Builds the four hosts and meshload in Release (timed on its own), then for each run starts gateway,
# payments (SQLite, a fresh data folder), reporting and render directly with `dotnet <dll>` (no AppHost, no
# dashboard) on fixed loopback ports, runs `meshload scenario noisy-neighbor` against the gateway while
# scraping every admin /metrics, and stops the four. `meshload compare` then prints the table and writes one
# HTML report with both runs. Every wait is bounded; Ctrl-C or an error stops every child this script started.
#
# Environment: MESH_DEMO_DURATION (meshload --duration, default the scenario's 15s), MESH_DEMO_OUT
# (default artifacts/demo), MESH_DEMO_SKIP_BUILD=1 (use the existing Release build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root"
# shellcheck source=scripts/identity.sh
. scripts/identity.sh
identity_init "$root/artifacts/demo/identity.env"

out=$(realpath -m "${MESH_DEMO_OUT:-artifacts/demo}")
readonly out
readonly duration=${MESH_DEMO_DURATION:-}
readonly ready_timeout=90
readonly stop_timeout=15
# meshload's own bound: the scenario (15 s) plus the last calls' deadlines (5 s), with room for a slow machine.
readonly meshload_timeout=150
readonly projects=(MeshBulkheads.Payments MeshBulkheads.Reporting MeshBulkheads.Render MeshBulkheads.Gateway)
readonly loadgen=artifacts/bin/MeshBulkheads.LoadGen/release/MeshBulkheads.LoadGen.dll

pids=()

stop_hosts() {
  local pid t0=$SECONDS
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < stop_timeout)); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM
  if ((${#pids[@]} > 0)); then
    echo "demo: stopping ${#pids[@]} host(s)" >&2
    stop_hosts
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'echo; echo "demo: interrupted" >&2; exit 130' INT TERM

listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_host <project> <run dir> NAME=value ...: the host's own folder is its content root (appsettings.json).
start_host() {
  local project=$1 dir=$2
  shift 2
  local dll=artifacts/bin/$project/release/$project.dll
  local name=${project#MeshBulkheads.} identity
  mapfile -t identity < <(identity_env "$project")
  (
    cd "$(dirname "$dll")"
    exec env DOTNET_ENVIRONMENT=Development Mesh__BindAddress=127.0.0.1 Logging__LogLevel__Default=Warning \
      "${identity[@]}" "$@" dotnet "$(basename "$dll")"
  ) >"$dir/${name,,}.log" 2>&1 </dev/null &
  pids+=("$!")
}

wait_ready() {
  local port=$1 log=$2 pid=$3 t0=$SECONDS
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: a host exited before it was ready; $log ends with:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    if ((SECONDS - t0 >= ready_timeout)); then
      echo "demo: 127.0.0.1:$port not ready within ${ready_timeout} s; see $log" >&2
      exit 1
    fi
    sleep 0.3
  done
}

# run_mesh <label> <base port> [NAME=value ...]: gRPC ports base+0..3, admin ports base+10..13.
run_mesh() {
  local label=$1 base=$2
  shift 2
  local dir=$out/$label port
  local gateway=$base payments=$((base + 1)) reporting=$((base + 2)) render=$((base + 3))
  local admin=$((base + 10))
  for port in "$gateway" "$payments" "$reporting" "$render" "$admin" $((admin + 1)) $((admin + 2)) $((admin + 3)); do
    if listening "$port"; then
      echo "demo: port $port on 127.0.0.1 is in use; stop what holds it (or another make demo) first" >&2
      exit 1
    fi
  done

  rm -rf "$dir"
  mkdir -p "$dir/data"
  local t0=$SECONDS
  echo "demo: [$label] starting payments, reporting, render and the gateway${*:+ with $*}"
  start_host MeshBulkheads.Payments "$dir" "$@" Mesh__GrpcPort="$payments" Mesh__AdminPort=$((admin + 1)) \
    Payments__DataDirectory="$dir/data"
  start_host MeshBulkheads.Render "$dir" "$@" Mesh__GrpcPort="$render" Mesh__AdminPort=$((admin + 3))
  start_host MeshBulkheads.Reporting "$dir" "$@" Mesh__GrpcPort="$reporting" Mesh__AdminPort=$((admin + 2)) \
    Reporting__PaymentsAddress="http://127.0.0.1:$payments"
  start_host MeshBulkheads.Gateway "$dir" "$@" Mesh__GrpcPort="$gateway" Mesh__AdminPort="$admin" \
    ReverseProxy__Clusters__payments__Destinations__d1__Address="http://127.0.0.1:$payments" \
    ReverseProxy__Clusters__reporting__Destinations__d1__Address="http://127.0.0.1:$reporting" \
    ReverseProxy__Clusters__render__Destinations__d1__Address="http://127.0.0.1:$render"
  # pids: payments, render, reporting, gateway (the order they were started in).
  wait_ready $((admin + 1)) "$dir/payments.log" "${pids[0]}"
  wait_ready $((admin + 3)) "$dir/render.log" "${pids[1]}"
  wait_ready $((admin + 2)) "$dir/reporting.log" "${pids[2]}"
  wait_ready "$admin" "$dir/gateway.log" "${pids[3]}"
  echo "demo: [$label] ready in $((SECONDS - t0)) s; meshload scenario noisy-neighbor"

  local args=(scenario noisy-neighbor --target "http://127.0.0.1:$gateway" --json --no-live --max-lag 1s)
  local i
  for i in 0 1 2 3; do args+=(--admin "http://127.0.0.1:$((admin + i))"); done
  if [ -n "$duration" ]; then args+=(--duration "$duration"); fi
  local status=0
  timeout --signal=INT --kill-after=10 "$meshload_timeout" dotnet "$loadgen" "${args[@]}" >"$out/$label.json" 2>"$dir/meshload.log" || status=$?
  # 1: a scenario threshold failed, 2: the generator's own lag was high; both still measured the mesh.
  if ((status != 0 && status != 1 && status != 2)); then
    echo "demo: [$label] meshload exited $status; its log ends with:" >&2
    tail -n 20 "$dir/meshload.log" >&2
    exit 1
  fi
  grep -h "threshold\|invalid run" "$dir/meshload.log" | sed "s/^/demo: [$label] /" || true
  stop_hosts
  echo "demo: [$label] done in $((SECONDS - t0)) s"
}

build_start=$SECONDS
if [ "${MESH_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  echo "demo: building the four hosts and meshload (Release, eng/mesh.slnf)"
  # One invocation: the projects build in parallel and the shared libraries are checked once.
  dotnet build eng/mesh.slnf -c Release --nologo -v quiet -clp:NoSummary
fi
build_seconds=$((SECONDS - build_start))
for project in "${projects[@]}"; do
  [ -f "artifacts/bin/$project/release/$project.dll" ] || { echo "demo: artifacts/bin/$project/release is not built" >&2; exit 1; }
done

mkdir -p "$out"
demo_start=$SECONDS
run_mesh shipped 28080
run_mesh no-bulkheads 28180 Mesh__Pitfalls__NoBulkheads=true

report=$out/demo.html
echo
dotnet "$loadgen" compare "$out/shipped.json" "$out/no-bulkheads.json" --report "$report"
demo_seconds=$((SECONDS - demo_start))
echo
echo "demo: report $report"
echo "demo: build ${build_seconds} s, demo ${demo_seconds} s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
