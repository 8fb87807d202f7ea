#!/usr/bin/env bash
# `make bench`: BenchmarkDotNet run of the bulkhead fast path against System.Threading.RateLimiting's
# ConcurrencyLimiter (the baseline, measured in the same run), written into docs/benchmarks.md
# between the bench markers with the exact command and the machine. Not part of `make test`.
# Usage: scripts/bench.sh [job]   (job: short (default) | medium | long)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
job=${1:-short}
artifacts="$root/artifacts/bench"
doc="$root/docs/benchmarks.md"
command_line="dotnet run -c Release --no-build --project tools/MeshBulkheads.Benchmarks -- --filter '*' --job $job --inProcess --artifacts artifacts/bench"

dotnet build -c Release tools/MeshBulkheads.Benchmarks
rm -rf "$artifacts"
dotnet run -c Release --no-build --project tools/MeshBulkheads.Benchmarks -- --filter '*' --job "$job" --inProcess --artifacts "$artifacts"

report=$(find "$artifacts/results" -name '*-report-github.md' | head -n 1)
[ -n "$report" ] || { echo "bench: no BenchmarkDotNet report under $artifacts/results" >&2; exit 1; }

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release)
section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
  echo "<!-- bench:start (written by scripts/bench.sh; edits inside are overwritten) -->"
  echo "Measured $(date -u +%Y-%m-%d) with \`make bench\` (job: $job):"
  echo
  echo '```sh'
  echo "dotnet build -c Release tools/MeshBulkheads.Benchmarks"
  echo "$command_line"
  echo '```'
  echo
  echo "Machine: $(nproc) cores (${cpu:-unknown CPU}), $os, .NET SDK $(dotnet --version)."
  echo "Baseline: \`ConcurrencyLimiter_AttemptAcquire\` (ratio 1.00), measured in the same run."
  echo
  grep '^|' "$report"
  echo "<!-- bench:end -->"
} > "$section"

if grep -q '<!-- bench:start' "$doc"; then
  # Replace the previous generated section, keep the hand-written text around it.
  awk -v file="$section" '
    /<!-- bench:start/ { while ((getline line < file) > 0) print line; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0; next }
    !skip { print }
  ' "$doc" > "$doc.tmp" && mv "$doc.tmp" "$doc"
else
  { echo; cat "$section"; } >> "$doc"
fi
echo "bench: results written to docs/benchmarks.md"
