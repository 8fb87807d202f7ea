#!/usr/bin/env bash
# Shared by every k8s/chaos/*.sh experiment (sourced): the journal of docs/chaos-journal.md (the layout meshchaos
# writes for the local experiments, platform "kubernetes"), rollbacks that run exactly once on exit, Ctrl-C,
# SIGTERM and the time limit, meshload as an in-cluster Job rendered from the chart's own loadgen-job template,
# and the verdict. Every kubectl call goes through $KUBECTL, so k8s/chaos/shim/kubectl can stand in for a cluster.
#
# Environment: KUBECTL (kubectl), HELM (.tools/bin/helm or helm), NAMESPACE (meshbulkheads), RELEASE (meshbulkheads),
# CHART (helm/meshbulkheads), CHAOS_ARTIFACTS (artifacts/chaos), CHAOS_TIME_LIMIT seconds (600),
# CHAOS_DURATION meshload's load phase (60s), CHAOS_STEADY the steady-state runs (10s), CHAOS_ROLLBACK_TIMEOUT seconds
# per rollback (660: a helm rollback waits for a rollout), CHAOS_PROGRESS a file that gets one line per action, the
# moment the fault is verified active ("fault-active …"), each rollback and the exit (what a caller can poll).
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

# progress MESSAGE: one line to $CHAOS_PROGRESS when it is set.
progress() { [ -z "${CHAOS_PROGRESS:-}" ] || echo "$(now) $*" >>"$CHAOS_PROGRESS"; }

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
  # A command that fails where set -e ends the script is named in the journal (otherwise "failed" names nothing).
  trap 'chaos_unexpected $LINENO "$BASH_COMMAND"' ERR
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
  progress "action $status $name"
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

# chaos_unexpected LINE COMMAND: the ERR trap — records the command set -e is about to end the script on.
chaos_unexpected() {
  trap - ERR
  record run action "unexpected failure at ${BASH_SOURCE[1]##*/}:$1: $2" failed null "$(now)"
  progress "action failed unexpected failure at line $1"
  log "unexpected failure at line $1: $2"
  chaos_status=failed
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
    if timeout "${CHAOS_ROLLBACK_TIMEOUT:-660}" bash -c "$command" >/dev/null 2>&1; then status=succeeded; else status=failed; fi
    record rollbacks action "$name" "$status" null "$start"
    progress "rollback $status $name"
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
  progress "exit $chaos_status $file"
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
  local job=$FULLNAME-chaos-$name args values
  args=$(jq -cn '$ARGS.positional' --args -- run "$@" --call-log -)
  # The release's own values (image, tenants, tls.gateway: an https:// gateway gets --ca-file), when helm can read them.
  values=$(mktemp)
  "$HELM" get values "$RELEASE" --namespace "$NAMESPACE" --output yaml >"$values" 2>/dev/null || : >"$values"
  k delete job "$job" --ignore-not-found >/dev/null 2>&1 || true
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --show-only templates/loadgen-job.yaml --values "$values" \
    --set loadgen.job.enabled=true --set loadgen.job.scenario= --set-json "loadgen.job.args=$args" \
    | sed "s/^  name: $FULLNAME-loadgen\$/  name: $job/" | k apply -f - >/dev/null
  rm -f "$values"
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

# --- shared by the experiments: the fault marker, pods and their metrics, the chart, slo.yaml ---------------------

# cannot_run WHAT: the cluster lacks something the experiment needs (recorded as a failed action; exit 2).
cannot_run() {
  record run action "$1" failed null "$(now)"
  progress "action failed $1"
  log "cannot run: $1"
  chaos_status=failed
  exit 2
}

# fault_active WHAT: the fault has been verified active; calls due from now on are the measurement ($chaos_fault_ms,
# Unix ms). Written to the journal's context and to $CHAOS_PROGRESS ("fault-active WHAT").
# shellcheck disable=SC2034 # read by the experiments
chaos_fault_ms=0
fault_active() {
  # shellcheck disable=SC2034
  chaos_fault_ms=$(date +%s%3N)
  log "fault active: $*"
  jq_in_place --arg what "$*" --arg at "$(now)" '.context.fault_active = {what: $what, at: $at}'
  progress "fault-active $*"
}

# selector COMPONENT: the chart's labels of that component's pods.
selector() { echo "app.kubernetes.io/component=$1,app.kubernetes.io/instance=$RELEASE"; }

# pods_of COMPONENT: the names of its running pods, one a line.
pods_of() {
  k get pods -l "$(selector "$1")" --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
}

# pod_metrics POD: the pod's /metrics, through the API server's pod proxy on its admin port (as k8s/faults.sh reads them).
pod_metrics() {
  local port
  port=$(k get pod "$1" -o jsonpath='{.spec.containers[0].ports[?(@.name=="admin")].containerPort}')
  k get --raw "/api/v1/namespaces/$NAMESPACE/pods/$1:$port/proxy/metrics"
}

# scale_to_one_replica DEPLOYMENT: the negative control of the experiments whose protection is a second replica —
# scaled to 1 (its old count restored by a rollback) and waited for.
scale_to_one_replica() {
  local deployment=$1 replicas
  replicas=$(k get deployment "$deployment" -o jsonpath='{.spec.replicas}')
  rollback "scale $deployment back to $replicas" "$KUBECTL" -n "$NAMESPACE" scale "deployment/$deployment" --replicas="$replicas"
  action "scale $deployment to 1 replica (the negative control)" k scale "deployment/$deployment" --replicas=1
  action "wait for one pod of $deployment" k rollout status "deployment/$deployment" --timeout=120s
}

# metric_agg sum|max NAME [LABELS_SUBSTRING] < metrics: the sum (or the largest, 0 when none) of NAME's samples whose
# label set contains the substring.
metric_agg() {
  awk -v op="$1" -v name="$2" -v want="${3:-}" '
    index($0, name) == 1 {
      rest = substr($0, length(name) + 1); c = substr(rest, 1, 1); labels = ""
      if (c != "{" && c != " ") next
      if (c == "{") { e = index(rest, "} "); if (e == 0) next; labels = substr(rest, 1, e); rest = substr(rest, e + 1) }
      if (want != "" && index(labels, want) == 0) next
      split(rest, f, " "); v = f[1] + 0
      if (op == "max") { if (v > r) r = v } else { r += v }
    }
    END { printf "%.15g\n", r + 0 }'
}

# metric_sum NAME [LABELS_SUBSTRING] < metrics: the sum of NAME's samples whose label set contains the substring.
metric_sum() { metric_agg sum "$@"; }

# pod_metric POD NAME [LABELS_SUBSTRING]: one pod's sum (0 when the pod cannot be scraped).
pod_metric() { { pod_metrics "$1" 2>/dev/null || true; } | metric_sum "$2" "${3:-}"; }

# component_metric COMPONENT NAME [LABELS_SUBSTRING]: the sum over the component's running pods.
component_metric() {
  local pod total=0
  for pod in $(pods_of "$1"); do total=$(jq -n "$total + $(pod_metric "$pod" "$2" "${3:-}")"); done
  echo "$total"
}

# chart_change [--no-wait] NAME HELM_ARG...: `helm upgrade --reuse-values --wait` with these values (the pods roll),
# after registering `helm rollback` to the revision before it (once per revision). How the controls switch a
# protection off; --no-wait returns once the objects are applied (helm-upgrade.sh measures the rollout itself).
chart_change() {
  local wait=(--wait --timeout 10m) name revision
  if [ "$1" = --no-wait ]; then wait=(); shift; fi
  name=$1
  shift
  revision=$("$HELM" status "$RELEASE" -n "$NAMESPACE" -o json 2>/dev/null | jq -r '.version // empty') || true
  [ -n "$revision" ] || cannot_run "find helm release $RELEASE in $NAMESPACE"
  if [ -z "${chaos_chart_revision:-}" ]; then
    chaos_chart_revision=$revision
    rollback "helm rollback $RELEASE $revision" "$HELM" rollback "$RELEASE" "$revision" -n "$NAMESPACE" --wait --timeout 10m
  fi
  action "$name (helm upgrade --reuse-values $*)" "$HELM" upgrade "$RELEASE" "$CHART" -n "$NAMESPACE" --reuse-values "${wait[@]}" "$@"
}

# The mesh-wide pitfall switch of docs/configuration.md (all four processes, read at start), as chart values.
# shellcheck disable=SC2034 # read by the experiments
readonly no_bulkheads_values=(--set-json 'default.extraEnv=[{"name":"Mesh__Pitfalls__NoBulkheads","value":"true"}]')

# faults_put NAME FAULTS_JSON_ARRAY: through k8s/faults.sh, the one writer of the faults ConfigMap, which waits until
# every pod reports the new generation (meshbulkheads_faults_generation); registers `k8s/faults.sh clear`.
faults_put() {
  local name=$1 file
  file=$(mktemp)
  jq -c '{faults: .}' <<<"$2" >"$file"
  rollback "clear the faults ConfigMap (k8s/faults.sh clear)" env KUBECTL="$KUBECTL" NAMESPACE="$NAMESPACE" RELEASE="$FULLNAME" "$chaos_root/k8s/faults.sh" clear
  action "$name (k8s/faults.sh put: every pod at the new generation)" env KUBECTL="$KUBECTL" NAMESPACE="$NAMESPACE" RELEASE="$FULLNAME" "$chaos_root/k8s/faults.sh" put "$file"
  rm -f "$file"
}

# steady_load PHASE PROBE_NAME STREAM...: a CHAOS_STEADY meshload Job; holds when every stream had calls, ≥ 99 % OK.
steady_load() {
  local phase=$1 name=$2 result stream args=()
  shift 2
  for stream in "$@"; do args+=(--stream "$stream"); done
  load_job "steady-$phase" "${args[@]}" --duration "${CHAOS_STEADY:-10s}"
  result=$(load_wait "$chaos_job" 120)
  [ -n "$result" ] || result=null
  probe "$phase" "$name" "every stream: ok >= 99 % of offered" \
    "$(jq -n --argjson r "$result" '$r != null and ($r.streams | length) > 0 and all($r.streams[]; .offered > 0 and .ok >= 0.99 * .offered)')" \
    "$(jq -c 'if . == null then "no result" else [.streams[] | {name, offered, ok, outcomes}] end' <<<"$result")"
}

# slo_of OBJECTIVE FIELD: a number of slo.yaml (success_ratio, latency_p99_seconds) for the objective of that name.
slo_of() { awk -v want="$1" -v field="$2:" '$1 == "-" && $2 == "name:" {cur = $3} cur == want && $1 == field {print $2; exit}' "$chaos_root/slo.yaml"; }

# calls_summary CALLS STREAM [FROM_UNIX_MS]: one stream of a call log — the calls due from FROM (default: after the
# 2 s warm-up, as the local experiments count): offered, ok, success ratio, p50/p99 of the OK calls and the slowest
# call (latency from the intended send time), outcomes by STATUS[/reason].
calls_summary() {
  jq -sc --arg s "$2" --argjson from "${3:-0}" '
    [.[] | select(.stream == $s and (if $from > 0 then .runStartUnixMs + .dueMs >= $from else .dueMs >= 2000 end))] as $c
    | ([$c[] | select(.status == "OK") | .endMs - .dueMs] | sort) as $ok
    | def pct(q): if ($ok | length) == 0 then null else ($ok[([((q * ($ok | length)) | ceil) - 1, 0] | max)] * 10 | round / 10) end;
    {offered: ($c | length), ok: ($ok | length),
     successRatio: (if ($c | length) > 0 then (($ok | length) / ($c | length) * 10000 | round / 10000) else 0 end),
     p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: ([$c[] | .endMs - .dueMs] | max | if . == null then null else (. * 10 | round / 10) end),
     outcomes: ($c | map(.status + (if .reason then "/" + .reason else "" end)) | group_by(.) | map({key: .[0], value: length}) | from_entries)}' <<<"$1"
}

# slo_probe CALLS STREAM OBJECTIVE [FROM_UNIX_MS]: an after-probe of the stream against its objective in slo.yaml.
slo_probe() {
  local ratio p99 summary
  ratio=$(slo_of "$3" success_ratio)
  p99=$(slo_of "$3" latency_p99_seconds)
  summary=$(calls_summary "$1" "$2" "${4:-0}")
  probe after "$2 within its SLO" "ok >= $ratio of offered, p99 <= $(jq -n "$p99 * 1000") ms (slo.yaml $3)" \
    "$(jq --argjson r "$ratio" --argjson p "$p99" '.offered > 0 and .successRatio >= $r and .p99Ms != null and .p99Ms <= $p * 1000' <<<"$summary")" "$summary"
}

# ledger_audit CALLS: every acknowledged charge of the call log against PostgreSQL, as JSON
# {acknowledged, missing, duplicated}; the probe holds when both are 0 and something was acknowledged.
ledger_audit() {
  local keys acked stored=0 rows=0 in_list
  keys=$(jq -r 'select(.status == "OK" and .idempotencyKey != null) | .idempotencyKey' <<<"$1" | sort -u)
  acked=$(grep -c . <<<"$keys" || true)
  if [ "$acked" -gt 0 ]; then
    in_list=$(jq -Rr "\"'\" + . + \"'\"" <<<"$keys" | paste -sd, -)
    stored=$(sql "SELECT count(DISTINCT idempotency_key) FROM payments WHERE idempotency_key IN ($in_list)")
    rows=$(sql "SELECT count(*) FROM payments WHERE idempotency_key IN ($in_list)")
  fi
  jq -cn --argjson a "$acked" --argjson s "${stored:-0}" --argjson r "${rows:-0}" '{acknowledged: $a, missing: ($a - $s), duplicated: ($r - $s)}'
}

# audit_probe AUDIT_JSON: the after-probe of ledger_audit.
audit_probe() {
  probe after "every acknowledged charge is in the ledger exactly once" "missing == 0, duplicated == 0" \
    "$(jq '.acknowledged > 0 and .missing == 0 and .duplicated == 0' <<<"$1")" "$1"
  measure "acknowledged charges missing from the ledger" charges null null "$(jq .missing <<<"$1")"
  measure "acknowledged charges duplicated in the ledger" charges null null "$(jq .duplicated <<<"$1")"
}

# metric_max NAME [LABELS_SUBSTRING] < metrics: the largest of those samples (0 when none).
metric_max() { metric_agg max "$@"; }

# seconds_of DURATION: meshload's 60s / 500ms / 2m as whole seconds (at least 1).
seconds_of() {
  case $1 in
    *ms) echo $(((${1%ms} + 999) / 1000)) ;;
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
