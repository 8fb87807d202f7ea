#!/usr/bin/env bash
# CPU profile of a running local MeshBulkheads service, in speedscope format.
#   make profile SERVICE=<gateway|payments|reporting|render> SECONDS=<n>
#   scripts/profile.sh <service> [seconds]     (default 10 s)
# Installs dotnet-trace into .tools/bin on first use, finds the service's process by its dll or
# project name, and writes artifacts/profiles/<service>-<timestamp>.speedscope.json.
set -euo pipefail

readonly TRACE_VERSION="10.0.750501"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root
readonly tool_dir="${repo_root}/.tools/bin"
readonly out_dir="${repo_root}/artifacts/profiles"

usage() {
  echo "usage: $0 <gateway|payments|reporting|render> [seconds]" >&2
  exit 2
}

service="${1:-${SERVICE:-}}"
duration="${2:-${PROFILE_SECONDS:-10}}"
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

echo "profiling ${service} (pid ${pid}) for ${duration} s" >&2
"${tool_dir}/dotnet-trace" collect -p "${pid}" --duration "${hhmmss}" --format speedscope -o "${base}.nettrace"

shopt -s nullglob
files=("${base}"*.speedscope.json)
shopt -u nullglob
if (( ${#files[@]} == 0 )); then
  echo "dotnet-trace wrote no speedscope file next to ${base}.nettrace" >&2
  exit 1
fi
speedscope="${files[0]}"
echo
echo "speedscope profile: ${speedscope}"
echo "raw trace:          ${base}.nettrace"
echo "open it: drag the file onto https://www.speedscope.app (runs locally in the browser), or"
echo "         npx speedscope '${speedscope}'"
