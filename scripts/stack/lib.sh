# Shared settings and helpers of the local stack scripts. Sourced, not run.
set -euo pipefail

STACK_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_SCRIPTS/../.." && pwd)
# shellcheck source=versions.env
source "$STACK_SCRIPTS/versions.env"

# Built binaries: outside the checkout, one folder per component and version.
CACHE_ROOT=${KB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernetes-broker}
TEMPORAL_DIR=$CACHE_ROOT/temporal-$TEMPORAL_CLI_VERSION
KUBERNETES_DIR=$CACHE_ROOT/kubernetes-$KUBERNETES_VERSION
ETCD_DIR=$CACHE_ROOT/etcd-$ETCD_VERSION
KWOK_DIR=$CACHE_ROOT/kwok-$KWOK_VERSION
TEMPORAL_UI_SERVER_DIR=$CACHE_ROOT/temporal-ui-server-$TEMPORAL_UI_SERVER_VERSION

# Runtime state of a running stack (data, logs, pids, env file): inside the checkout, ignored by git.
STACK_DIR=${KB_STACK_DIR:-$REPO_ROOT/.stack}
LOG_DIR=$STACK_DIR/logs
PID_DIR=$STACK_DIR/pids
ENV_FILE=$STACK_DIR/env

# Ports, all on 127.0.0.1.
STACK_HOST=127.0.0.1
ETCD_PORT=${KB_ETCD_PORT:-12379}
ETCD_PEER_PORT=${KB_ETCD_PEER_PORT:-12380}
APISERVER_PORT=${KB_APISERVER_PORT:-16443}
CONTROLLER_MANAGER_PORT=${KB_CONTROLLER_MANAGER_PORT:-16257}
SCHEDULER_PORT=${KB_SCHEDULER_PORT:-16259}
KWOK_PORT=${KB_KWOK_PORT:-16280}
# The second cluster ("b"): its own API server on the same etcd (another key prefix), with its
# own controller-manager, scheduler and KWOK, so the broker can be tested against two clusters.
APISERVER_B_PORT=${KB_APISERVER_B_PORT:-16444}
CONTROLLER_MANAGER_B_PORT=${KB_CONTROLLER_MANAGER_B_PORT:-16258}
SCHEDULER_B_PORT=${KB_SCHEDULER_B_PORT:-16260}
KWOK_B_PORT=${KB_KWOK_B_PORT:-16281}
TEMPORAL_PORT=${KB_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${KB_TEMPORAL_UI_PORT:-8233}
TEMPORAL_METRICS_PORT=${KB_TEMPORAL_METRICS_PORT:-17233}
# Temporal behind TLS (temporal-proxy.sh): one listener requires a client certificate, the other an API key.
TEMPORAL_MTLS_PORT=${KB_TEMPORAL_MTLS_PORT:-17234}
TEMPORAL_APIKEY_PORT=${KB_TEMPORAL_APIKEY_PORT:-17235}
# The DNS name in the proxy's certificate, beside 127.0.0.1 (for TEMPORAL_TLS_SERVER_NAME).
TEMPORAL_TLS_NAME=temporal.kb.local
# Not started by the stack: the broker's API in dev mode, whose /codec the Temporal UI calls.
BROKER_PORT=${KB_BROKER_PORT:-8080}
# The Temporal UI as production runs it (oidc.sh): an OpenID provider, a Temporal UI server logged
# in through it, and (not started by the stack) the broker with CODEC_AUTH=oidc whose /codec it calls.
OIDC_PORT=${KB_OIDC_PORT:-15556}
TEMPORAL_UI_OIDC_PORT=${KB_TEMPORAL_UI_OIDC_PORT:-18233}
BROKER_OIDC_PORT=${KB_BROKER_OIDC_PORT:-18080}
# TLS in front of that /codec: the UI passes access tokens to https:// codec endpoints only.
CODEC_TLS_PORT=${KB_CODEC_TLS_PORT:-18443}

START_TIME=$(date +%s)
step() { printf '[stack %4ss] %s\n' "$(($(date +%s) - START_TIME))" "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

# Processes of the stack: started detached with a pid file each, stopped by that pid (never by name).
running() { [[ -f $PID_DIR/$1.pid ]] && kill -0 "$(cat "$PID_DIR/$1.pid")" 2>/dev/null; }

port_taken() { (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null; }

# start <name> <port...> -- <command...>: runs the command detached, logging to $LOG_DIR/<name>.log.
start() {
  local name=$1; shift
  local ports=()
  while [[ $1 != -- ]]; do ports+=("$1"); shift; done
  shift
  for p in "${ports[@]}"; do
    if port_taken "$p"; then
      local holder; holder=$(ss -ltnpH "sport = :$p" 2>/dev/null | grep -o 'users:.*' || true)
      die "$name cannot start: port $STACK_HOST:$p is already in use ${holder:+by $holder}. Stop that process, or move $name to another port (see scripts/stack/lib.sh for the KB_*_PORT variables)."
    fi
  done
  echo "----- $(date -u +%FT%TZ) starting $name" >>"$LOG_DIR/$name.log"
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
}

# wait_healthy <name> <seconds> <command...>: waits until the command succeeds.
wait_healthy() {
  local name=$1 timeout=$2; shift 2
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then
      tail -n 30 "$LOG_DIR/$name.log" >&2
      die "$name exited during start-up; its log: $LOG_DIR/$name.log"
    fi
    if (($(date +%s) > deadline)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2
      die "$name is not healthy after ${timeout}s; its log: $LOG_DIR/$name.log"
    fi
    sleep 0.5
  done
}

# ensure <name> <health timeout> <health command...> ::: <start args...>
ensure() {
  local name=$1 timeout=$2; shift 2
  local health=()
  while [[ $1 != ::: ]]; do health+=("$1"); shift; done
  shift
  if running "$name"; then step "$name: already running (pid $(cat "$PID_DIR/$name.pid"))"; return; fi
  step "$name: starting (log: $LOG_DIR/$name.log)"
  start "$name" "$@"
  wait_healthy "$name" "$timeout" "${health[@]}"
  step "$name: healthy"
}

# stop <name>: TERM, then KILL after 10 s, the process of $PID_DIR/<name>.pid.
stop() {
  local name=$1 pidfile=$PID_DIR/$1.pid
  [[ -f $pidfile ]] || return 0
  local pid; pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    step "$name: stopped (pid $pid)"
  fi
  rm -f "$pidfile"
}
