#!/usr/bin/env bash
# `make run`: builds the hosts, starts the Aspire AppHost (gateway, payments, reporting, render and
# the dashboard), waits until the gateway is ready and prints where everything is.
# Ctrl-C or SIGTERM stops it all: the AppHost stops its children through DCP.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root"

readonly dashboard_port=${MESH_DASHBOARD_PORT:-18888}
readonly otlp_port=${MESH_OTLP_PORT:-18889}
readonly resource_port=${MESH_RESOURCE_PORT:-18890}
readonly ready_timeout=${MESH_READY_TIMEOUT:-180}
readonly stop_timeout=60
# gRPC/admin: gateway, payments, reporting, render (tools/MeshBulkheads.AppHost/MeshAppHostSettings.cs).
readonly mesh_ports=(8080 9080 8081 9081 8082 9082 8083 9083)
readonly apphost_dll=artifacts/bin/MeshBulkheads.AppHost/debug/MeshBulkheads.AppHost.dll
readonly log_dir=artifacts/run
readonly log=$log_dir/apphost.log

listening() {
  # A TCP connect through bash itself: no dependency on ss or netstat.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

busy_ports() {
  local port in_use=()
  for port in "${mesh_ports[@]}" "$dashboard_port" "$otlp_port" "$resource_port"; do
    if listening "$port"; then in_use+=("$port"); fi
  done
  echo "${in_use[*]}"
}

busy=$(busy_ports)
if [ -n "$busy" ]; then
  echo "run: port(s) $busy on 127.0.0.1 already in use (another \`make run\`?); stop it first." >&2
  exit 1
fi

echo "run: building the AppHost and the four hosts"
dotnet build tools/MeshBulkheads.AppHost/MeshBulkheads.AppHost.csproj -c Debug --nologo -v quiet -clp:NoSummary

mkdir -p "$log_dir" data
: >"$log"
# Everything on 127.0.0.1, plain HTTP (local only), fixed dashboard/OTLP ports; Aspire injects
# OTEL_EXPORTER_OTLP_ENDPOINT (gRPC) into the children so their traces, metrics and logs reach it.
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
export ASPNETCORE_URLS="http://127.0.0.1:$dashboard_port"
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://127.0.0.1:$otlp_port"
export ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://127.0.0.1:$resource_port"
export DOTNET_ENVIRONMENT=Development

# Fresh identity keys per run (the gateway signs each forwarded call with the key of the service it goes to;
# each service holds only its own), shared with `make token` through this file.
readonly identity_env=$log_dir/identity.env
scripts/identity-env.sh "$identity_env" >/dev/null
# shellcheck source=/dev/null
. "$identity_env"
export MeshBulkheads__IdentityKeys__payments=$MESH_IDENTITY_KEY_PAYMENTS
export MeshBulkheads__IdentityKeys__reporting=$MESH_IDENTITY_KEY_REPORTING
export MeshBulkheads__IdentityKeys__render=$MESH_IDENTITY_KEY_RENDER
export MeshBulkheads__AdminToken=$MESH_ADMIN_TOKEN

started=$SECONDS
# Own session and process group: a terminal's Ctrl-C reaches only this script, which stops the
# AppHost with SIGTERM (a backgrounded AppHost ignores SIGINT).
setsid dotnet exec "$apphost_dll" >"$log" 2>&1 </dev/null &
apphost=$!

stop() {
  trap - INT TERM
  echo
  echo "run: stopping the mesh (AppHost pid $apphost)"
  local t0=$SECONDS dcp
  # DCP (the orchestrator) runs detached and watches the AppHost's pid; find it before the AppHost goes.
  dcp=$(pgrep -f -- "dcp start-apiserver --monitor $apphost " || true)
  kill -TERM "$apphost" 2>/dev/null || true
  while kill -0 "$apphost" 2>/dev/null && ((SECONDS - t0 < stop_timeout)); do sleep 0.2; done
  if kill -0 "$apphost" 2>/dev/null; then
    echo "run: AppHost did not stop in ${stop_timeout} s; killing its process group" >&2
    kill -KILL -- "-$apphost" 2>/dev/null || true
  fi
  # DCP stops the children and then itself once the AppHost is gone.
  for pid in $dcp; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < stop_timeout)); do sleep 0.2; done
  done
  local left
  left=$(busy_ports)
  if [ -n "$left" ]; then
    echo "run: still listening after $((SECONDS - t0)) s: port(s) $left" >&2
    exit 1
  fi
  echo "run: stopped in $((SECONDS - t0)) s"
  exit 0
}
trap stop INT TERM

echo "run: starting the AppHost (log: $log)"
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:9080/readyz" 2>/dev/null; do
  if ! kill -0 "$apphost" 2>/dev/null; then
    echo "run: the AppHost exited before the gateway was ready; its log ends with:" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  if ((SECONDS - started >= ready_timeout)); then
    echo "run: the gateway was not ready within ${ready_timeout} s; see $log" >&2
    stop
  fi
  sleep 0.5
done

login_url=$(grep -o "http://127.0.0.1:$dashboard_port/login?t=[0-9A-Za-z]*" "$log" | tail -n 1 || true)
cat <<INFO

  Gateway (gRPC, h2c)   127.0.0.1:8080     admin http://127.0.0.1:9080/metrics /healthz /readyz
  Services (gRPC)       payments 127.0.0.1:8081, reporting 127.0.0.1:8082, render 127.0.0.1:8083
                        (admin ports 9081, 9082, 9083)
  Dashboard             ${login_url:-http://127.0.0.1:$dashboard_port (login link: see $log)}
  Demo API keys         acme-dev-key (acme, gold)  globex-dev-key (globex, silver)  initech-dev-key (initech, bronze)
  Try                   grpcurl -plaintext -H 'x-api-key: acme-dev-key' -d '{"account_id":"acct-0001"}' \\
                          127.0.0.1:8080 meshbulkheads.payments.v1.PaymentsService/GetBalance
  Direct to a service   needs a gateway-signed token: make token METHOD=GetBalance TENANT=acme
                          (keys of this run: $identity_env)
  Admin token           $MESH_ADMIN_TOKEN
                          (admin writes on ports 9080-9083: -H "Authorization: Bearer \$MESH_ADMIN_TOKEN"; also in $identity_env)

run: ready in $((SECONDS - started)) s; Ctrl-C stops everything
INFO

# `wait` returns early when a trapped signal arrives; the trap then stops the mesh.
set +e
wait "$apphost"
status=$?
set -e
echo "run: the AppHost exited on its own (exit code $status); see $log" >&2
exit "$status"
