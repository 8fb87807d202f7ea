#!/usr/bin/env bash
# `make chaos [EXPERIMENT=<id>...]`: the local chaos experiments (tools/MeshBulkheads.Chaos, docs/reliability.md).
# Builds the hosts, meshload and meshchaos in Release, runs every experiment as shipped and with its protection
# switched off (the negative control) against processes on 127.0.0.1, writes one journal per run to
# artifacts/chaos/ and then docs/reliability.md from the newest journals. Bounded: each run has a time limit
# and stops by itself; Ctrl-C interrupts, and the run's rollbacks still stop everything it started.
#
# Environment:
#   EXPERIMENT="kill-payments tenant-flood"   run only these (meshchaos list); the report keeps the others' last journals
#   CHAOS_NO_BUILD=1                          use the Release build already in artifacts/bin
#   CHAOS_SHORT=1                             the short load phases of make test (checks the harness; the report says so)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
cd "$root"

build_started=$SECONDS
if [ "${CHAOS_NO_BUILD:-0}" != 1 ]; then
  # One build of the four hosts, meshload and meshchaos (eng/chaos.slnf): the shared libraries are evaluated and
  # compiled once, the projects in parallel (six `dotnet build`s one after another took 131 s here). Without the
  # analyzers (make test and CI build with them, warnings as errors; source generators still run): a full rebuild
  # took 39 s instead of 81 s here.
  echo "chaos: building eng/chaos.slnf (Release: the four hosts, meshload, meshchaos)" >&2
  dotnet build eng/chaos.slnf -c Release -p:RunAnalyzers=false --nologo -v quiet -clp:NoSummary
fi
build_seconds=$((SECONDS - build_started))

read -r -a experiments <<<"${EXPERIMENT:-all}"
args=(run "${experiments[@]}" --configuration Release)
[ "${CHAOS_SHORT:-0}" != 1 ] || args+=(--short)

chaos_started=$SECONDS
set +e
dotnet artifacts/bin/MeshBulkheads.Chaos/release/MeshBulkheads.Chaos.dll "${args[@]}"
status=$?
set -e
chaos_seconds=$((SECONDS - chaos_started))

# An interrupted run leaves the report as it was.
if [ "$status" -ne 130 ]; then
  dotnet artifacts/bin/MeshBulkheads.Chaos/release/MeshBulkheads.Chaos.dll report --command "make chaos${EXPERIMENT:+ EXPERIMENT=\"$EXPERIMENT\"}"
fi
echo "chaos: build ${build_seconds} s, experiments ${chaos_seconds} s, exit $status (0 every verdict passed, 1 a verdict failed, 2 an experiment could not run)"
exit "$status"
