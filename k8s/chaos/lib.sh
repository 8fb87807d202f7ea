#!/usr/bin/env bash
# Shared by every k8s/chaos/*.sh experiment (sourced): the journal of docs/chaos-journal.md (the layout meshchaos
# writes for the local experiments, platform "kubernetes"), rollbacks that run exactly once on exit, Ctrl-C,
# SIGTERM and the time limit, meshload as an in-cluster Job rendered from the chart's own loadgen-job template,
# and the verdict. Every kubectl call goes through $KUBECTL, so k8s/chaos/shim/kubectl can stand in for a cluster.
#
# Environment: KUBECTL (kubectl), HELM (.tools/bin/helm or helm), NAMESPACE (meshbulkheads), RELEASE (meshbulkheads),
# CHART (helm/meshbulkheads), CHAOS_ARTIFACTS (artifacts/chaos), CHAOS_TIME_LIMIT seconds (600),
# CHAOS_DURATION meshload's load phase (60s), CHAOS_STEADY the steady-state runs (10s).
# Exit codes (the hypothesis decides, as in the Chaos Toolkit): 0 held, 1 deviated, 2 could not run, 130 interrupted.
# With --unprotected the experiment's protection is switched off and it must exit 1 (run-all.sh checks that).

# jq programs are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
chaos_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly chaos_root
KUBECTL=${KUBECTL:-kubectl}
HELM=${HELM:-$([ -x "$chaos_root/.tools/bin/helm" ] && echo "$chaos_root/.tools/bin/helm" || echo helm)}
NAMESPACE=${NAMESPACE:-meshbulkheads}
RELEASE=${RELEASE:-meshbulkheads}
# The chart's fullname (object names <fullname>-<component>): the release name unless fullnameOverride is set.
FULLNAME=${FULLNAME:-$RELEASE}
CHART=${CHART:-$chaos_root/helm/meshbulkheads}
CHAOS_ARTIFACTS=${CHAOS_ARTIFACTS:-$chaos_root/artifacts/chaos}
CHAOS_DURATION=${CHAOS_DURATION:-60s}
readonly chaos_time_limit=${CHAOS_TIME_LIMIT:-600}

chaos_journal=''
chaos_rollbacks=()
chaos_rolled_back=0
chaos_unprotected=false
chaos_status=completed

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

log() { echo "chaos: ${chaos_id:-?}${chaos_unprotected:+$([ "$chaos_unprotected" = true ] && echo ' (unprotected)')}: $*" >&2; }

k() { "$KUBECTL" -n "$NAMESPACE" "$@"; }

# chaos_begin ID TITLE DESCRIPTION HYPOTHESIS "$@": parses --unprotected, starts the journal and the time limit.
chaos_begin() {
  chaos_id=$1
  local title=$2 description=$3 hypothesis=$4
  shift 4
  for arg in "$@"; do
    case $arg in
      --unprotected) chaos_unprotected=true ;;
      -h | --help) echo "usage: $0 [--unprotected]   (k8s/chaos/README.md)"; exit 0 ;;
      *) echo "$0: unknown argument '$arg'" >&2; exit 2 ;;
    esac
  done
  command -v jq >/dev/null || { echo "$0: jq is required" >&2; exit 2; }
  mkdir -p "$CHAOS_ARTIFACTS"
  chaos_journal=$(mktemp)
  jq -n --arg id "$chaos_id" --arg title "$title" --arg description "$description" --arg hypothesis "$hypothesis" \
    --arg control "$([ "$chaos_unprotected" = true ] && echo unprotected || echo protected)" --arg start "$(now)" '{
      "chaoslib-version": "meshbulkheads-chaos/1", platform: "kubernetes",
      experiment: {id: $id, title: $title, description: $description, control: $control,
        expect: (if $control == "unprotected" then "deviate" else "hold" end),
        "steady-state-hypothesis": {title: $hypothesis, probes: []}, method: [], rollbacks: []},
      start: $start, end: null, duration: 0, status: "completed", deviated: false,
      steady_states: {before: {steady_state_met: true, probes: []}, after: null, during: []},
      run: [], rollbacks: [], measurements: [], verdict: {pass: false, text: ""},
      context: {namespace: env.NAMESPACE, release: env.RELEASE}}' >"$chaos_journal"
  chaos_started_s=$(date +%s)
  trap 'chaos_interrupt INT' INT
  trap 'chaos_interrupt TERM' TERM
  trap 'chaos_exit' EXIT
  # Its own output to /dev/null: a sleep left holding the caller's stdout would keep a reader waiting after we exit.
  (sleep "$chaos_time_limit" && kill -TERM $$ 2>/dev/null) >/dev/null 2>&1 </dev/null &
  chaos_timer=$!
}

jq_in_place() { local tmp; tmp=$(mktemp); jq "$@" "$chaos_journal" >"$tmp" && mv "$tmp" "$chaos_journal"; }

# record KIND(run|rollbacks) TYPE NAME STATUS OUTPUT_JSON START
record() {
  jq_in_place --arg kind "$1" --arg type "$2" --arg name "$3" --arg status "$4" --argjson output "$5" --arg start "$6" --arg finish "$(now)" \
    '.[$kind] += [{activity: {type: $type, name: $name}, status: $status, output: $output, start: $start, "end": $finish,
      duration: ((($finish | sub("\\.[0-9]+Z$"; "Z") | fromdate) - ($start | sub("\\.[0-9]+Z$"; "Z") | fromdate)))}]
     | if $kind == "run" then .experiment.method += [{type: $type, name: $name}] else . end'
}

# action NAME COMMAND...: runs and records an action of the method; a failure ends the experiment (status failed, exit 2).
action() {
  local name=$1 start output status
  shift
  start=$(now)
  log "$name"
  if output=$("$@" 2>&1); then status=succeeded; else status=failed; fi
  record run action "$name" "$status" "$(jq -Rs . <<<"${output: -2000}")" "$start"
  if [ "$status" = failed ]; then
    log "action failed: $name: ${output: -400}"
    chaos_status=failed
    exit 2
  fi
}

# rollback NAME COMMAND...: registers an undo; every registered one runs once, newest first, whatever ends the script.
rollback() {
  local name=$1
  shift
  chaos_rollbacks+=("$name"$'\t'"$(printf '%q ' "$@")")
  jq_in_place --arg name "$name" '.experiment.rollbacks += [{type: "action", name: $name}]'
}

# probe PHASE(before|after) NAME TOLERANCE MET(true|false) OUTPUT_JSON: records a judged steady-state probe.
probe() {
  local phase=$1 name=$2 tolerance=$3 met=$4 output=$5
  log "$phase: $name ($tolerance): $([ "$met" = true ] && echo met || echo 'NOT met') — $output"
  jq_in_place --arg phase "$phase" --arg name "$name" --arg tolerance "$tolerance" --argjson met "$met" --argjson output "$output" --arg now "$(now)" '
    (if $phase == "after" and .steady_states.after == null then .steady_states.after = {steady_state_met: true, probes: []} else . end)
    | .steady_states[$phase].probes += [{activity: {type: "probe", name: $name, tolerance: $tolerance}, status: "succeeded",
        output: $output, tolerance_met: $met, start: $now, "end": $now, duration: 0}]
    | .steady_states[$phase].steady_state_met = (.steady_states[$phase].steady_state_met and $met)
    | if ([.experiment."steady-state-hypothesis".probes[].name] | index($name)) == null
      then .experiment."steady-state-hypothesis".probes += [{type: "probe", name: $name, tolerance: $tolerance}] else . end'
}

# before_met: whether every before probe held; an experiment stops (aborted, exit 2) when it did not.
require_steady_state() {
  if [ "$(jq -r '.steady_states.before.steady_state_met' "$chaos_journal")" != true ]; then
    chaos_status=aborted
    exit 2
  fi
}

# measure NAME UNIT BEFORE DURING AFTER (numbers or null)
measure() {
  jq_in_place --arg name "$1" --arg unit "$2" --argjson before "${3:-null}" --argjson during "${4:-null}" --argjson after "${5:-null}" \
    '.measurements += [{name: $name, unit: $unit, before: $before, during: $during, after: $after}]'
}

chaos_interrupt() {
  log "interrupted by SIG$1: rolling back"
  chaos_status=interrupted
  exit 130
}

run_rollbacks() {
  [ "$chaos_rolled_back" = 0 ] || return 0
  chaos_rolled_back=1
  local i entry name command start status
  for ((i = ${#chaos_rollbacks[@]} - 1; i >= 0; i--)); do
    entry=${chaos_rollbacks[$i]}
    name=${entry%%$'\t'*}
    command=${entry#*$'\t'}
    start=$(now)
    log "rollback: $name"
    if timeout 120 bash -c "$command" >/dev/null 2>&1; then status=succeeded; else status=failed; fi
    record rollbacks action "$name" "$status" null "$start"
  done
}

chaos_exit() {
  local code=$?
  trap - INT TERM EXIT
  pkill -P "$chaos_timer" 2>/dev/null || true
  kill "$chaos_timer" 2>/dev/null || true
  run_rollbacks
  [ "$chaos_status" != completed ] || [ "$code" = 0 ] || [ "$code" = 1 ] || chaos_status=failed
  [ "$code" != 130 ] || chaos_status=interrupted
  jq_in_place --arg status "$chaos_status" --arg finish "$(now)" --argjson seconds "$(($(date +%s) - chaos_started_s))" '
    .status = $status | .["end"] = $finish | .duration = $seconds
    | .deviated = (.steady_states.after != null and (.steady_states.after.steady_state_met | not))
    | .verdict.pass = (if .experiment.expect == "deviate" then .deviated else (.status == "completed" and (.deviated | not)) end)
    | .verdict.text = ((if .verdict.pass then "PASS " else "FAIL " end) + .experiment.id
        + (if .experiment.control == "unprotected" then " (unprotected)" else "" end) + ": "
        + (if .status == "aborted" then "steady state did not hold before the method"
           elif .status == "failed" then "an activity failed: " + ([.run[] | select(.status == "failed") | .activity.name] | join("; "))
           elif .status == "interrupted" then "interrupted; rollbacks ran"
           elif .deviated then "the hypothesis failed: " + ([.steady_states.after.probes[] | select(.tolerance_met | not) | .activity.name] | join("; "))
           else "the hypothesis held" end))'
  local file
  file="$CHAOS_ARTIFACTS/$chaos_id$([ "$chaos_unprotected" = true ] && echo -unprotected)-$(date -u +%Y%m%dT%H%M%SZ).json"
  mv "$chaos_journal" "$file"
  jq -r '.measurements[] | [.name + " (" + .unit + ")", (.before // "–"), (.during // "–"), (.after // "–")] | @tsv' "$file" \
    | { printf 'measurement\tbefore\tduring\tafter\n'; cat; } | column -t -s $'\t'
  jq -r '.verdict.text' "$file"
  echo "journal: $file"
  case $chaos_status in
    interrupted) exit 130 ;;
    aborted | failed) exit 2 ;;
    *) [ "$(jq -r .deviated "$file")" = true ] && exit 1 || exit 0 ;;
  esac
}

# --- meshload in the cluster -------------------------------------------------------------------------------------
# load_job NAME ARG...: renders the chart's loadgen Job with these meshload arguments (never a port-forward: the Job
# reaches the gateway's Service from inside), applies it as <release>-chaos-NAME (in $chaos_job) and registers its
# deletion. Not in a $(...) subshell: the rollback must be registered in this shell.
chaos_job=''
# shellcheck disable=SC2034 # chaos_job is read by the experiments that source this file
load_job() {
  local name=$1
  shift
  local job=$FULLNAME-chaos-$name args
  args=$(jq -cn '$ARGS.positional' --args -- run "$@" --call-log -)
  k delete job "$job" --ignore-not-found >/dev/null 2>&1 || true
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --show-only templates/loadgen-job.yaml \
    --set loadgen.job.enabled=true --set loadgen.job.scenario= --set-json "loadgen.job.args=$args" \
    | sed "s/^  name: $FULLNAME-loadgen\$/  name: $job/" | k apply -f - >/dev/null
  rollback "delete job/$job" "$KUBECTL" -n "$NAMESPACE" delete job "$job" --ignore-not-found
  chaos_job=$job
}

# load_wait JOB SECONDS: waits for the Job to finish; prints meshload's JSON result (stdout of its log).
load_wait() {
  k wait --for=condition=complete "job/$1" --timeout="${2}s" >/dev/null 2>&1 || k wait --for=condition=failed "job/$1" --timeout=5s >/dev/null 2>&1 || true
  k logs "job/$1" 2>/dev/null | sed -n '/^[[{]$/,/^[]}]$/p'
}

# load_calls JOB: the call log lines (meshload --call-log, one JSON object per call) from the Job's log.
load_calls() { k logs "job/$1" 2>/dev/null | grep '^{"stream"' || true; }

# stream_field RESULT STREAM FIELD: a number from meshload's JSON result (0 when absent).
stream_field() { jq -r --arg s "$2" --arg f "$3" '[.streams[] | select(.name == $s) | .[$f]] | first // 0' <<<"$1"; }

# stream_summary RESULT STREAM: offered, ok, outcomes and p99 of one stream, as JSON.
stream_summary() { jq -c --arg s "$2" '[.streams[] | select(.name == $s) | {offered, ok, outcomes, p99Ms: .latencyMs.p99}] | first // {}' <<<"$1"; }

# sql QUERY: one value from the payments database (the chart's PostgreSQL StatefulSet).
sql() {
  k exec "statefulset/$FULLNAME-postgresql" -- psql -U "${PGUSER:-payments}" -d "${PGDATABASE:-payments}" -At -c "$1"
}
