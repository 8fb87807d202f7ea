#!/usr/bin/env bash
# CPU or allocation profile of a running local MeshBulkheads service.
#   make profile SERVICE=<gateway|payments|reporting|render> SECONDS=<n> [KIND=cpu|alloc]
#   scripts/profile.sh <service> [seconds] [cpu|alloc]     (default 10 s, cpu)
# Installs dotnet-trace into .tools/bin on first use and finds the service's process by its dll or
# project name. cpu: artifacts/profiles/<service>-<timestamp>.speedscope.json (sampled thread stacks)
# and the busy samples' top methods, exclusive and ours inclusive, in …-cpu.json (tools/MeshBulkheads.Bench
# cpu-top drops the samples of waiting threads, which thread time counts). alloc: the
# gc-verbose trace (sampled allocations, about one event per 100 KB) and its top allocating types,
# …-alloc.json and a table on stdout (tools/MeshBulkheads.Bench alloc-top).
set -euo pipefail

readonly TRACE_VERSION="10.0.750501"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root
readonly tool_dir="${repo_root}/.tools/bin"
readonly out_dir="${repo_root}/artifacts/profiles"

usage() {
  echo "usage: $0 <gateway|payments|reporting|render> [seconds] [cpu|alloc]" >&2
  exit 2
}

service="${1:-${SERVICE:-}}"
duration="${2:-${PROFILE_SECONDS:-10}}"
kind="${3:-${PROFILE_KIND:-cpu}}"
case "${kind}" in cpu | alloc) ;; *) usage ;; esac
case "${service}" in
  gateway) project="MeshBulkheads.Gateway" ;;
  payments) project="MeshBulkheads.Payments" ;;
  reporting) project="MeshBulkheads.Reporting" ;;
  render) project="MeshBulkheads.Render" ;;
  *) usage ;;
esac
if ! [[ "${duration}" =~ ^[0-9]+$ ]] || (( duration < 1 || duration > 3599 )); then
  echo "seconds must be a whole number from 1 to 3599, got '${duration}'" >&2
  exit 2
fi

if [[ ! -x "${tool_dir}/dotnet-trace" ]]; then
  echo "installing dotnet-trace ${TRACE_VERSION} into ${tool_dir}" >&2
  dotnet tool install dotnet-trace --version "${TRACE_VERSION}" --tool-path "${tool_dir}" >&2
fi

# `dotnet run` starts the built apphost/dll as a child; match the dll or apphost, never the
# `dotnet run`/`dotnet build` wrappers (whose command lines name the .csproj or folder).
mapfile -t pids < <(pgrep -f "${project}(\.dll)?( |$)" | while read -r pid; do
  cmd="$(tr '\0' ' ' < "/proc/${pid}/cmdline" 2>/dev/null || true)"
  if [[ "${cmd}" == *" run "* || "${cmd}" == *" build "* || "${cmd}" == *"dotnet-trace"* || "${cmd}" == *"pgrep"* ]]; then
    continue
  fi
  echo "${pid}"
done)
if (( ${#pids[@]} == 0 )); then
  echo "no running ${service} process (${project}) found; start it first, e.g." >&2
  echo "  dotnet run -c Release --project $( [[ ${service} == gateway ]] && echo gateway || echo services )/${project}" >&2
  exit 1
fi
if (( ${#pids[@]} > 1 )); then
  echo "several ${service} processes (${pids[*]}); profiling the newest" >&2
fi
pid="$(printf '%s\n' "${pids[@]}" | sort -n | tail -n 1)"

mkdir -p "${out_dir}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
base="${out_dir}/${service}-${stamp}"
printf -v hhmmss '%02d:%02d:%02d' $((duration / 3600)) $((duration % 3600 / 60)) $((duration % 60))

echo "profiling ${service} (pid ${pid}) for ${duration} s (${kind})" >&2
bench_dll="${repo_root}/artifacts/bin/MeshBulkheads.Bench/release/MeshBulkheads.Bench.dll"
if [[ ! -f "${bench_dll}" ]]; then
  dotnet build -c Release "${repo_root}/tools/MeshBulkheads.Bench" >&2
fi
if [[ "${kind}" == alloc ]]; then
  "${tool_dir}/dotnet-trace" collect -p "${pid}" --duration "${hhmmss}" --profile gc-verbose -o "${base}-alloc.nettrace" >&2
  dotnet exec "${bench_dll}" alloc-top "${base}-alloc.nettrace" 25 >"${base}-alloc.json"
  echo
  jq -r '"\(.samples) allocation samples (\(.sampledBytes) bytes sampled)", (.top[] | "\(.share * 1000 | round / 10)%\t\(.type)")' "${base}-alloc.json"
  echo
  echo "allocation trace: ${base}-alloc.nettrace"
  echo "top types:        ${base}-alloc.json"
  exit 0
fi

"${tool_dir}/dotnet-trace" collect -p "${pid}" --duration "${hhmmss}" --format speedscope -o "${base}.nettrace" >&2

shopt -s nullglob
files=("${base}"*.speedscope.json)
shopt -u nullglob
if (( ${#files[@]} == 0 )); then
  echo "dotnet-trace wrote no speedscope file next to ${base}.nettrace" >&2
  exit 1
fi
speedscope="${files[0]}"
dotnet exec "${bench_dll}" cpu-top "${base}.nettrace" 25 >"${base}-cpu.json"
echo
jq -r '"\(.busySamples) busy of \(.samples) samples", "exclusive:", (.exclusive[] | "\(.share * 1000 | round / 10)%\t\(.method)"), "ours, inclusive:", (.oursInclusive[] | "\(.share * 1000 | round / 10)%\t\(.method)")' "${base}-cpu.json"
echo
echo "speedscope profile: ${speedscope}"
echo "raw trace:          ${base}.nettrace"
echo "top methods:        ${base}-cpu.json"
echo "open it: drag the file onto https://www.speedscope.app (runs locally in the browser), or"
echo "         npx speedscope '${speedscope}'"
