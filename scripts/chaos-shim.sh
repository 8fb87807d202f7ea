#!/usr/bin/env bash
# `make chaos-shim [EXPERIMENT="<id> …"]`: every k8s/chaos script, as shipped and as its negative control, through
# k8s/chaos/shim/kubectl and shim/helm against a local mesh (k8s/chaos/README.md, "The kubectl shim") — the cluster
# scripts' control flow end to end without a cluster, with run-all.sh's table of verdicts. Every pod is a process on
# this machine (the README lists what differs from a cluster), so nothing in the table is a claim about a cluster. Journals in artifacts/chaos-shim/; the shim mesh
# is stopped on exit, Ctrl-C included. Short phases (CHAOS_DURATION 12s, steady 1s, burn 12s, upgrade 8s; override
# them in the environment). Exit code: run-all.sh's.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root" || exit 2

if [ "${CHAOS_NO_BUILD:-0}" != 1 ]; then
  echo "chaos-shim: building the four hosts and meshload (Debug, the shim's configuration)" >&2
  for project in gateway/MeshBulkheads.Gateway services/MeshBulkheads.Payments services/MeshBulkheads.Reporting \
    services/MeshBulkheads.Render tools/MeshBulkheads.LoadGen; do
    dotnet build "$project" -c Debug --nologo -v quiet -clp:NoSummary || exit 2
  done
fi

CHAOS_SHIM_STATE=$(mktemp -d /tmp/chaos-shim-XXXXXX)
export CHAOS_SHIM_STATE
export KUBECTL=$root/k8s/chaos/shim/kubectl HELM=$root/k8s/chaos/shim/helm
export CHAOS_ARTIFACTS=${CHAOS_ARTIFACTS:-$root/artifacts/chaos-shim}
export CHAOS_DURATION=${CHAOS_DURATION:-12s} CHAOS_STEADY=${CHAOS_STEADY:-1s} CHAOS_FAULT_AFTER=${CHAOS_FAULT_AFTER:-2}
export CHAOS_BURN_DURATION=${CHAOS_BURN_DURATION:-12s} CHAOS_UPGRADE_DURATION=${CHAOS_UPGRADE_DURATION:-8s}
export FAULTS_POLL=${FAULTS_POLL:-0.3} FAULTS_TIMEOUT=${FAULTS_TIMEOUT:-30}
# shellcheck disable=SC2317 # run by the EXIT trap
stop() { "$KUBECTL" shim-down; rm -rf "$CHAOS_SHIM_STATE"; }
trap stop EXIT

echo "chaos-shim: starting the shim mesh in $CHAOS_SHIM_STATE" >&2
"$KUBECTL" shim-up || exit 2
read -r -a experiments <<<"${EXPERIMENT:-}"
started=$SECONDS
k8s/chaos/run-all.sh "${experiments[@]}"
code=$?
echo "chaos-shim: $((SECONDS - started)) s; journals in $CHAOS_ARTIFACTS" >&2
exit "$code"
