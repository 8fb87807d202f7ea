#!/usr/bin/env bash
# Every k8s/chaos experiment as shipped and as its negative control (--unprotected), one after the other, then a
# table of verdicts. Exit 0 only when every hypothesis held (exit 0) and every control deviated (exit 1); anything
# else — a hypothesis that failed, a control that held, a run that could not run (2) or was interrupted (130) — fails.
#   k8s/chaos/run-all.sh [ID…]      (default: every script here but lib.sh and run-all.sh; `make chaos-k8s`)
# The same environment as the experiments (lib.sh: KUBECTL, NAMESPACE, RELEASE, CHAOS_*).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly here
ids=("$@")
if [ "${#ids[@]}" -eq 0 ]; then
  for script in "$here"/*.sh; do
    case $(basename "$script") in lib.sh | run-all.sh) ;; *) ids+=("$(basename "$script" .sh)") ;; esac
  done
fi

interrupted=false
trap 'interrupted=true' INT TERM
rows=()
failures=0
for id in "${ids[@]}"; do
  [ -x "$here/$id.sh" ] || { echo "run-all: no experiment $id ($here/$id.sh)" >&2; rows+=("$id	-	missing	-	FAIL"); failures=$((failures + 1)); continue; }
  for mode in protected unprotected; do
    [ "$interrupted" = false ] || break 2
    args=()
    expect=0
    if [ "$mode" = unprotected ]; then args=(--unprotected); expect=1; fi
    echo "run-all: $id ($mode)" >&2
    "$here/$id.sh" "${args[@]}"
    code=$?
    [ "$code" != 130 ] || interrupted=true
    verdict=$([ "$code" = "$expect" ] && echo PASS || echo FAIL)
    [ "$verdict" = PASS ] || failures=$((failures + 1))
    case $code in 0) outcome="held (0)" ;; 1) outcome="deviated (1)" ;; 2) outcome="could not run (2)" ;; 130) outcome="interrupted (130)" ;; *) outcome="exit $code" ;; esac
    rows+=("$id	$mode	$outcome	$([ "$expect" = 0 ] && echo hold || echo deviate)	$verdict")
  done
done

{
  printf 'experiment\tcontrol\toutcome\texpected\tverdict\n'
  printf '%s\n' "${rows[@]}"
} | column -t -s $'\t'
if [ "$interrupted" = true ]; then
  echo "run-all: interrupted" >&2
  exit 130
fi
echo "run-all: $((${#rows[@]} - failures)) of ${#rows[@]} verdicts passed"
[ "$failures" = 0 ]
