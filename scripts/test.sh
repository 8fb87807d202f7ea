#!/usr/bin/env bash
# Runs every test project of the solution on what `make build` built (no rebuild), fails if any
# test fails, then scans everything the run wrote for API and identity keys (scripts/scan-secrets.sh),
# and ends with one plain line `N passed, N failed, N skipped` for CI log readers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
configuration=${CONFIGURATION:-Debug}
results=$root/artifacts/test-results
log=$(mktemp)
# Outside the scanned paths: the keys the scan looks for (demo API keys; each test process's identity keys).
secrets=$(mktemp)
trap 'rm -f "$log" "$secrets"' EXIT

# The scan must be able to fail: prove it finds a planted key before trusting its silence.
scripts/scan-secrets.sh --self-test
scripts/scan-secrets.sh --demo-keys >"$secrets"
export MESH_TEST_SECRETS_FILE=$secrets
rm -rf "$results"

started=$SECONDS
set +e
# --ignore-exit-code 8: a test project with no tests yet is not a failure (MTP exits 8 for it).
common=(--no-build -c "$configuration" --ignore-exit-code 8 --results-directory "$results")
if [ $# -gt 0 ]; then
  # The caller's own selection (e.g. --filter-class ...): one run, as asked.
  dotnet test --solution MeshBulkheads.sln "${common[@]}" "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
else
  # Two phases. First every assembly in parallel, except the tests with the trait Runs=Alone: those run a live mesh as
  # processes and judge it on timing (tests/MeshBulkheads.Chaos.Tests/LiveMeshCollection.cs), so they run second, with
  # the machine to themselves, as `make chaos` runs the experiments.
  dotnet test --solution MeshBulkheads.sln "${common[@]}" --filter-not-trait "Runs=Alone" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  dotnet test --project tests/MeshBulkheads.Chaos.Tests "${common[@]}" --filter-trait "Runs=Alone" 2>&1 | tee -a "$log"
  alone=${PIPESTATUS[0]}
  status=$((status != 0 ? status : alone))
fi
set -e

# Everything the run wrote: its output, the test results, the chart tests' scratch renders.
scanned=("$log")
for path in "$results" "$root/artifacts/chart-tests"; do
  if [ -e "$path" ]; then
    scanned+=("$path")
  fi
done
identity_keys=$(grep -c '^identity-key:' "$secrets" || true)
if ! scripts/scan-secrets.sh "$secrets" "${scanned[@]}"; then
  echo "test.sh: keys found in the run's output (above: where, and whose; never the key). Keys must never be logged." >&2
  status=$((status == 0 ? 1 : status))
else
  echo "test.sh: no API or identity key in the run's output ($(wc -l <"$secrets") keys, $identity_keys of them identity keys of the test processes)"
fi

# MTP's closing block of each run ("Test run summary: ..." then "  total: N", "  failed: N", "  succeeded: N",
# "  skipped: N"), summed over the runs.
summary=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | awk '
  /Test run summary/ { seen = 1 }
  seen && $1 == "failed:" { failed += $2 }
  seen && $1 == "succeeded:" { passed += $2; counted = 1 }
  seen && $1 == "skipped:" { skipped += $2 }
  END { if (counted) printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }')

# The failed tests again, each with the first lines of its message, so that a log's tail names them.
failures=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | awk '
  /Test run summary/ { keep = 0 }
  $1 == "failed" && $2 !~ /:$/ { keep = 12; count++ }
  keep > 0 && count <= 10 { print; keep-- }')
if [ -n "$failures" ]; then
  echo "--- failed tests (first 10, message heads) ---"
  echo "$failures"
  echo "---"
fi
echo "dotnet test: $((SECONDS - started)) s, exit code $status"
if [ -z "$summary" ]; then
  echo "test.sh: no test summary found in the output of dotnet test" >&2
  exit $((status == 0 ? 1 : status))
fi
echo "$summary"
exit "$status"
