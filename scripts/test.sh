#!/usr/bin/env bash
# Runs every test project of the solution on what `make build` built (no rebuild), fails if any
# test fails, and ends with one plain line `N passed, N failed, N skipped` for CI log readers.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
configuration=${CONFIGURATION:-Debug}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

started=$SECONDS
set +e
# --ignore-exit-code 8: a test project with no tests yet is not a failure (MTP exits 8 for it).
dotnet test --solution MeshBulkheads.sln --no-build -c "$configuration" --ignore-exit-code 8 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# MTP's closing block ("Test run summary: ..." then "  total: N", "  failed: N", "  succeeded: N",
# "  skipped: N"); the last block is the whole run's.
summary=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log" | awk '
  /Test run summary/ { failed = passed = skipped = ""; seen = 1 }
  seen && $1 == "failed:" { failed = $2 }
  seen && $1 == "succeeded:" { passed = $2 }
  seen && $1 == "skipped:" { skipped = $2 }
  END { if (seen && passed != "") printf "%s passed, %s failed, %s skipped\n", passed, failed, skipped }')

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
