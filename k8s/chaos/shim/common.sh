#!/usr/bin/env bash
# Shared by shim/kubectl and shim/helm (sourced): the local mesh that stands for the release — its state directory,
# ports, the processes standing for pods, the pod template each one was started from, and the supervisor that plays
# every ReplicaSet, the StatefulSet and the HPA. k8s/chaos/README.md ("The kubectl shim") documents the mapping.

# shellcheck disable=SC2034 # the variables are read by the scripts that source this file
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
readonly root
readonly state=${CHAOS_SHIM_STATE:?CHAOS_SHIM_STATE must name the shim state directory}
readonly configuration=${CHAOS_SHIM_CONFIGURATION:-debug}
# The release the shim stands for (object names <fullname>-<component>, as the chart names them).
readonly shim_release=${RELEASE:-meshbulkheads}
# The real helm, for what the shim renders from the chart (never shim/helm itself).
real_helm=$([ -x "$root/.tools/bin/helm" ] && echo "$root/.tools/bin/helm" || command -v helm || true)
readonly real_helm
readonly pg_bin=/usr/lib/postgresql/15/bin
# The Deployments, in the order a rollout restarts them when several change together.
readonly deployments=(payments reporting render gateway)

dll() { echo "$root/artifacts/bin/$1/$configuration/$1.dll"; }
port() { cat "$state/$1.port"; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- process identity -----------------------------------------------------------------------------------------------
# A pid alone does not name a process here: pid_max is 32768 and the shim's many short processes (curl, jq, awk, one
# kubectl a second per sampler) wrap it within minutes, so a pid file can outlive its process and name a stranger
# later given the same pid. Each NAME.pid has a NAME.start beside it: the process's start time (field 22 of
# /proc/PID/stat, in clock ticks after boot), and the pair names one process. Nothing here signals, or trusts as alive,
# a pid whose start time differs: not delete pod's SIGKILL 30 s later, not a rollout's wait, not shim-down.
started_at() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086 # the fields of the stat line, after "PID (COMM) "
  set -- $stat
  echo "${20}"
}
# put FILE VALUE: writes the file whole (a rename), so a reader never sees it empty or half-written.
put() { printf '%s\n' "$2" >"$1.$BASHPID" && mv -f "$1.$BASHPID" "$1"; }

# record NAME PID: the pid file and its start time (the start first: a reader between the two sees no live process).
record() {
  put "$state/$1.start" "$(started_at "$2" || true)"
  put "$state/$1.pid" "$2"
}
# same PID START: PID is still the process that started at START (a zombie not yet reaped counts, as with kill -0).
same() { [ -n "$1" ] && [ -n "$2" ] && [ "$(started_at "$1")" = "$2" ]; }
# identity NAME: "PID START" of the process recorded under NAME.
identity() { echo "$(cat "$state/$1.pid" 2>/dev/null) $(cat "$state/$1.start" 2>/dev/null)"; }
# running NAME: the process recorded under NAME is still running.
running() {
  local pid start
  pid=$(cat "$state/$1.pid" 2>/dev/null) && start=$(cat "$state/$1.start" 2>/dev/null) && same "$pid" "$start"
}
# signal SIGNAL NAME: sends it to the process recorded under NAME, only while that is still the same process.
signal() {
  local pid start
  pid=$(cat "$state/$2.pid" 2>/dev/null) && start=$(cat "$state/$2.start" 2>/dev/null) || return 0
  if same "$pid" "$start"; then
    event "SIG$1 to $2 (pid $pid)"
    kill "-$1" "$pid" 2>/dev/null || true
  fi
}
# signal_later SECONDS SIGNAL NAME: the same, once SECONDS have passed, to the process NAME records now (not to one
# recorded under NAME by then): a deleted pod's SIGKILL after its grace period.
signal_later() {
  local pid start
  pid=$(cat "$state/$3.pid" 2>/dev/null) && start=$(cat "$state/$3.start" 2>/dev/null) || return 0
  (sleep "$1" && same "$pid" "$start" && event "SIG$2 to $3 (pid $pid) after $1 s" && kill "-$2" "$pid") >/dev/null 2>&1 </dev/null &
}
# alive SLOT: the slot's process is running.
alive() { running "$1"; }

# A loopback port nothing listens on now, below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999
# by default): a port inside it can be taken by any outgoing connection between this check and the host's bind, and a
# CI run saw the gateway abort on "address already in use" for 47592.
# Never the same port twice (the 30 or so ports of shim-up drawn at random collide in a few runs out of a hundred).
free_port() {
  local candidate low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  touch "$state/ports.taken"
  for candidate in $(shuf -i 20000-$((low - 1)) -n 100); do
    ! grep -qx "$candidate" "$state/ports.taken" || continue
    listening "$candidate" || { echo "$candidate" >>"$state/ports.taken"; echo "$candidate"; return 0; }
  done
  return 1
}

# ready SLOT: the process of that slot (gateway, payments, reporting, render, render-2) answers /readyz.
ready() { alive "$1" && curl -sf -o /dev/null "http://127.0.0.1:$(port "$1-admin")/readyz"; }

# routable CLUSTER [DESTINATION]: every gateway process counts a destination of that cluster available (its Service
# endpoints, locally): any of them, or the one named (d1, d2).
routable() {
  local slot
  for slot in $(slots_of gateway); do routable_at "$slot" "$1" "${2:-}" || return 1; done
}

# routable_at GATEWAY_SLOT CLUSTER [DESTINATION]: that gateway process counts a destination of the cluster available.
routable_at() {
  curl -sf "http://127.0.0.1:$(port "$1-admin")/metrics" 2>/dev/null | grep '^meshbulkheads_gateway_destination_available{' \
    | grep -F "meshbulkheads_cluster=\"$2\"" | grep -F "${3:+meshbulkheads_destination=\"$3\"}" | grep '} 1\( \|$\)' >/dev/null
}

# any_routable CLUSTER DESTINATION: some gateway process counts it available.
any_routable() {
  local slot
  for slot in $(slots_of gateway); do
    ! routable_at "$slot" "$1" "$2" || return 0
  done
  return 1
}

# routable_everywhere COMPONENT: every process of it is a destination every gateway counts available.
routable_everywhere() {
  local slot
  for slot in $(slots_of "$1"); do routable "$1" "d$(slot_index "$slot")" || return 1; done
}

# The slots (local processes) of a Deployment: C, C-2 while it has two replicas (the chart's default for the gateway
# and payments; render's HPA scales it to two), and the next one (C-2 or C-3) while a rollout surges (the chart's
# maxSurge 1, maxUnavailable 0: the new pod ready before an old one goes).
slots_of() {
  local n i
  n=$(replicas "$1")
  [ ! -f "$state/surge/$1" ] || n=$((n + 1))
  echo "$1"
  for ((i = 2; i <= n && i <= 3; i++)); do echo "$1-$i"; done
}
slot_index() { case $1 in *-2) echo 2 ;; *-3) echo 3 ;; *) echo 1 ;; esac; }
component_of() { local c=${1%-2}; echo "${c%-3}"; }
# Every slot a Deployment can have (its processes' ports, its destinations at the gateways, its Service's endpoints).
all_slots_of() { echo "$1" "$1-2" "$1-3"; }
replicas() { cat "$state/replicas/$1" 2>/dev/null || echo 1; }
# The replicas the chart's values give a Deployment (components.C.replicas as shipped: 2 for the gateway and payments).
chart_replicas() { case $1 in gateway | payments) echo 2 ;; *) echo 1 ;; esac; }
generation() { cat "$state/generation/$1" 2>/dev/null || echo 1; }

# --- pod templates: what the chart's values change in a pod, as the environment of its local process ---------------
# $state/helm/values.json holds the release's user-supplied values (helm get values); pod_env COMPONENT prints the
# environment they give that component's containers, one NAME=VALUE a line, and the pod annotations as comments (a
# change of either rolls the Deployment, as a changed pod template does).
pod_env() {
  local values=$state/helm/values.json
  [ -f "$values" ] || return 0
  jq -r --arg c "$1" '
    def flat($p): if type == "object" then to_entries[] as $e | ($e.value | flat($p + $e.key + "__"))
      elif type == "array" then to_entries[] as $e | ($e.value | flat($p + ($e.key | tostring) + "__"))
      elif . == null then empty else "\($p[:-2])=\(.)" end;
    (((.default.extraEnv // []) + (.components[$c].extraEnv // []))[] | "\(.name)=\(.value)"),
    ((.components[$c].config // {}) | flat("")),
    ((.components[$c].deadlines // [])[] | "Deadlines__Methods__\(.prefix)__Default=\(.default)", "Deadlines__Methods__\(.prefix)__Max=\(.max)"),
    (.shutdown.hostShutdownTimeoutSeconds // empty | "DOTNET_SHUTDOWNTIMEOUTSECONDS=\(.)"),
    (.shutdown.preStopSleepSeconds // empty | "Mesh__ShutdownDelay=\(if . == 0 then "00:00:00" else "00:00:03" end)"),
    ((.default.podAnnotations // {}) + (.components[$c].podAnnotations // {}) | to_entries[] | "# annotation \(.key)=\(.value)"),
    (if $c == "render" and (.components.render | has("resources")) and .components.render.resources.limits.cpu == null
     then "# unpinned (no CPU limit)" else empty end)' "$values"
}

# pinned SLOT: render runs on the last CPU (taskset), as its CPU limit would place it, unless its limit was removed.
pinned() { [ "$(component_of "$1")" = render ] && ! grep -q '^# unpinned' "$state/env/render" 2>/dev/null; }

# --- processes ------------------------------------------------------------------------------------------------------
identity_env() { printf '%s\n' "Mesh__Identity__Keys__shim=$(cat "$state/key")" "Mesh__Admin__Token=$(cat "$state/admin-token")" "Mesh__Faults__File=$state/faults/faults.json"; }

base_env() {
  local slot=$1
  printf '%s\n' DOTNET_ENVIRONMENT=Development Mesh__BindAddress=127.0.0.1 "Mesh__GrpcPort=$(port "$slot")" "Mesh__AdminPort=$(port "$slot-admin")"
  identity_env
  # The stand-in for the chart's preStop sleep (35 s there) and the endpoints dropping the pod: not ready this long
  # before Kestrel stops, so the gateways (active probes every 1 s) and the Service relays (every 200 ms) stop sending
  # it new calls first. shutdown.preStopSleepSeconds=0 sets it to 0 (shim/helm).
  echo Mesh__ShutdownDelay=00:00:03
  case $(component_of "$slot") in
    payments)
      echo "Payments__ConnectionString=Host=127.0.0.1;Port=$(port postgresql);Username=mesh;Database=payments;Pooling=true;Timeout=5;Command Timeout=10"
      ;;
    reporting)
      # Through the payments Service (shim/service-relay.mjs), which is also the NetworkPolicy: it stops moving bytes
      # while reporting's policy lacks the payments rule.
      echo "Reporting__PaymentsAddress=http://127.0.0.1:$(port payments-service)"
      # Reports end at 5 s here (30 s as shipped): keeps the cut-reporting-payments run through the shim short.
      echo "Deadlines__Methods__/meshbulkheads.reporting.v1.ReportingService/__Max=00:00:05"
      ;;
    gateway)
      echo Gateway__Identity__SigningKeyId=shim
      local cluster
      for cluster in payments reporting render; do echo "Gateway__Identity__Keys__${cluster}__shim=$(cat "$state/key")"; done
      # Every possible pod of each backend is a destination (the headless Service's addresses, locally); the second
      # one is down — unhealthy at the gateway — while its Deployment has one replica.
      local other
      for cluster in payments reporting render; do
        for other in $(all_slots_of "$cluster"); do
          echo "ReverseProxy__Clusters__${cluster}__Destinations__d$(slot_index "$other")__Address=http://127.0.0.1:$(port "$other")"
        done
        echo "ReverseProxy__Clusters__${cluster}__HealthCheck__Active__Interval=00:00:01"
        # One failed probe marks a destination down (YARP's default is two, and until then it stays Unknown, which
        # HealthyAndUnknown routes to): in a cluster the headless Service lists only ready pods, here every possible
        # process is a destination, and a new gateway — ready only after its first probe round — must not send its
        # first calls to the slots that have no process.
        echo "ReverseProxy__Clusters__${cluster}__Metadata__ConsecutiveFailuresHealthPolicy.Threshold=1"
      done
      echo "Deadlines__Methods__/meshbulkheads.reporting.v1.ReportingService/__Max=00:00:05"
      ;;
  esac
}

project_of() {
  case $(component_of "$1") in
    gateway) echo MeshBulkheads.Gateway ;;
    payments) echo MeshBulkheads.Payments ;;
    reporting) echo MeshBulkheads.Reporting ;;
    render) echo MeshBulkheads.Render ;;
  esac
}

# start_slot SLOT: starts its process from the pod template in force (the base environment, then $state/env/COMPONENT).
start_slot() {
  local slot=$1 project environment=() line cpu=() template
  project=$(project_of "$slot")
  # The generation before the template (apply_values writes them the other way round): a process is never labelled
  # with a newer template than the one it runs, so a rollout that races this start replaces it rather than trust it.
  template=$(generation "$(component_of "$slot")")
  mapfile -t environment < <(base_env "$slot")
  while IFS= read -r line; do [[ -z "$line" || "$line" == '#'* ]] || environment+=("$line"); done <"$state/env/$(component_of "$slot")"
  ! pinned "$slot" || cpu=(taskset -c "$(($(nproc) - 1))")
  (cd "$(dirname "$(dll "$project")")" && exec env "${environment[@]}" "${cpu[@]}" dotnet "$(dll "$project")" >>"$state/$slot.log" 2>&1 </dev/null) &
  put "$state/$slot.generation" "$template"
  record "$slot" $!
  event "started $slot: pid $(cat "$state/$slot.pid"), generation $template${cpu[*]:+ (${cpu[*]})}"
}

# event TEXT: one line in $state/events.log (which process started or was signalled, and when), for a failed run.
event() { echo "$(date -u +%T.%3N) $*" >>"$state/events.log"; }

# --- PostgreSQL (the chart's StatefulSet <fullname>-postgresql, pod -0) --------------------------------------------
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_ready() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$(port postgresql)" 2>/dev/null; }
pg_start() {
  local data
  data=$(cat "$state/pg.root")/data
  as_postgres "$pg_bin/pg_ctl" -D "$data" -w -t 30 -l "$(cat "$state/pg.root")/server.log" \
    -o "-p $(port postgresql) -h 127.0.0.1 -k $(cat "$state/pg.root") -c fsync=off -c full_page_writes=off -c max_connections=200" start >/dev/null 2>&1 || return 1
  record postgresql "$(head -1 "$data/postmaster.pid")"
  event "started postgresql: pid $(cat "$state/postgresql.pid")"
  # A new pod of the StatefulSet: a new uid, the same name and volume.
  echo "shim-postgresql-$(date +%s%N)" >"$state/postgresql.uid"
}
# pg_stop: a deleted pod of the chart's postgres image, whose STOPSIGNAL is SIGINT: a fast shutdown (clients
# disconnected, a checkpoint, exit), SIGKILL after the 30 s grace period.
pg_stop() {
  local waited=0
  running postgresql || return 0
  rm -f "$state/postgresql.uid"
  signal INT postgresql
  while running postgresql; do
    ((waited++ < 300)) || { pg_kill; return 0; }
    sleep 0.1
  done
  rm -f "$state/postgresql.pid" "$state/postgresql.start"
}
# pg_kill: SIGKILL to the postmaster and its backends (a deleted pod past its grace period); committed work is in the WAL.
pg_kill() {
  local pid
  pid=$(cat "$state/postgresql.pid" 2>/dev/null) || return 0
  if running postgresql; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    signal KILL postgresql
    while running postgresql; do sleep 0.05; done
  fi
  rm -f "$state/postgresql.pid" "$state/postgresql.start" "$state/postgresql.uid"
}
sql_shell() { "$pg_bin/psql" -h 127.0.0.1 -p "$(port postgresql)" -U mesh -d payments "$@"; }

# --- rollouts -------------------------------------------------------------------------------------------------------
# apply_values: the pod templates from $state/helm/values.json; every Deployment whose template changed gets a new
# generation and rolls (roll: a surge process, then its processes SIGTERMed one by one — their graceful drain — and
# replaced by the supervisor). Prints the Deployments that roll.
apply_values() {
  local component new
  for component in "${deployments[@]}"; do
    new=$(pod_env "$component")
    if [ "$new" != "$(cat "$state/env/$component" 2>/dev/null)" ]; then
      put "$state/env/$component" "$new"
      put "$state/generation/$component" $(($(generation "$component") + 1))
      echo "$component"
    fi
  done
}

# replaced SLOT OLD_IDENTITY: waits (≤ 120 s) until the supervisor's new process in the slot is ready and, for a backend,
# available at every gateway again (readiness, then the endpoints: what a rollout and a PodDisruptionBudget wait for).
replaced() {
  local slot=$1 old=$2 waited=0
  until [ "$(identity "$slot")" != "$old" ] && ready "$slot" \
    && { [ "$(component_of "$slot")" = gateway ] || routable "$(component_of "$slot")" "d$(slot_index "$slot")"; }; do
    # Scaled in meanwhile (the HPA, kubectl scale): the slot is not replaced, and nothing is left to wait for.
    wanted "$slot" || return 0
    ((waited++ < 1200)) || return 1
    sleep 0.1
  done
}

# wanted SLOT: the slot is one its Deployment's replicas call for now.
# No `slots_of | grep -q` here: under pipefail, grep -q leaving at its first match can fail slots_of's next write
# (SIGPIPE), and the shim then skipped a Deployment's first replica in a rollout (a CI run kept a payments process on
# the control's environment after helm rollback).
wanted() {
  local slot
  for slot in $(slots_of "$(component_of "$1")"); do [ "$slot" != "$1" ] || return 0; done
  return 1
}

# roll COMPONENT: the chart's strategy (maxSurge 1, maxUnavailable 0): a surge process from the new template first
# (the next slot), ready and routable; then each old process in turn (SIGTERM, its drain, the supervisor starts the new
# template in its slot, ready and routable before the next); then the surge process goes (SIGTERM, its drain). So
# ready processes never fall below the replicas; the cost is one process start more than a cluster's rollout. Records
# the generation it observed once every replacement is ready.
roll() {
  local component=$1 target slot old waited tries lock surge slots
  # One rollout of a Deployment at a time, as its controller runs them: a helm rollback while the upgrade before it
  # still rolls (helm-upgrade.sh's --no-wait) waits here, and then replaces only what still runs an older template,
  # instead of taking a second replica down beside the first.
  exec {lock}>"$state/roll-$component.lock"
  flock "$lock"
  target=$(generation "$component")
  slots=$(slots_of "$component")
  if outdated "$component" "$target"; then
    surge=$(surge_start "$component" "$target") || return 1
    for slot in $slots; do
      # Until the slot's process runs this generation's template (or a later one): a process the supervisor was
      # starting from the old template while this rollout began is replaced too, as a ReplicaSet's old pods are.
      tries=0
      while wanted "$slot" && [ "$(template_of "$slot")" -lt "$target" ]; do
        ((tries++ < 5)) || { surge_end "$component" "$surge"; return 1; }
        old=$(identity "$slot")
        signal TERM "$slot"
        waited=0
        # shellcheck disable=SC2086 # "PID START"
        while same $old && ((waited++ < 600)); do sleep 0.1; done
        # shellcheck disable=SC2086
        ! same $old || kill -KILL "${old%% *}" 2>/dev/null || true
        replaced "$slot" "$old" || { surge_end "$component" "$surge"; return 1; }
      done
    done
    surge_end "$component" "$surge"
  fi
  put "$state/observed/$component" "$target"
}

# outdated COMPONENT GENERATION: some process of it was started from an older template.
outdated() {
  local slot
  for slot in $(slots_of "$1"); do [ "$(template_of "$slot")" -ge "$2" ] || return 0; done
  return 1
}

# surge_start COMPONENT GENERATION: one process more, from the new template, in the next slot (none when the slots are
# all taken: render scaled to two by its HPA and surging is the third slot); prints that slot once it is ready and
# routable at every gateway.
surge_start() {
  local component=$1 target=$2 slot waited=0
  slot=$(slots_of "$component" | tail -n 1)
  mkdir -p "$state/surge"
  touch "$state/surge/$component"
  local next
  next=$(slots_of "$component" | tail -n 1)
  if [ "$next" = "$slot" ]; then rm -f "$state/surge/$component"; echo none; return 0; fi
  until running "$next" && [ "$(template_of "$next")" -ge "$target" ] && ready "$next" \
    && { [ "$component" = gateway ] || routable "$component" "d$(slot_index "$next")"; }; do
    ((waited++ < 1200)) || { rm -f "$state/surge/$component"; return 1; }
    sleep 0.1
  done
  echo "$next"
}

# surge_end COMPONENT SLOT: the surge slot is no longer wanted; the supervisor stops its process (SIGTERM, its drain),
# and the rollout ends once it has exited and no gateway counts it available (as a cluster's rollout ends with the old
# pods gone from the endpoints): a steady state measured right after a rollout never meets its teardown, which with
# the control's preStop 0 cut calls at once (make chaos-shim: helm-upgrade's control could not run).
surge_end() {
  local component=$1 slot=$2 waited=0
  [ "$slot" != none ] || return 0
  rm -f "$state/surge/$component"
  until ! running "$slot" && { [ "$component" = gateway ] || ! any_routable "$component" "d$(slot_index "$slot")"; }; do
    ((waited++ < 400)) || return 0
    sleep 0.1
  done
}

# template_of SLOT: the generation of the pod template its process was started from (0: none recorded).
template_of() { cat "$state/$1.generation" 2>/dev/null || echo 0; }

# rolled_out COMPONENT: its last generation observed and every replica ready (a backend also routable at every gateway).
rolled_out() {
  local component=$1 slot
  [ "$(cat "$state/observed/$component" 2>/dev/null || echo 1)" -ge "$(generation "$component")" ] || return 1
  for slot in $(slots_of "$component"); do ready "$slot" && [ "$(template_of "$slot")" -ge "$(generation "$component")" ] || return 1; done
  [ "$component" = gateway ] || routable_everywhere "$component"
}
