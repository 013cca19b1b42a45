#!/usr/bin/env bash
# Stops exactly the processes that up.sh started (by their pid files, never by name).
# --purge also deletes the stack's data (etcd, Temporal database, certificates, logs).
source "$(dirname "$0")/lib.sh"

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

# Reverse start order: clients before the servers they talk to.
for name in kwok-b kube-scheduler-b kube-controller-manager-b kube-apiserver-b temporal kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done
rm -f "$ENV_FILE"
if [[ ${1:-} == --purge ]]; then
  rm -rf "$STACK_DIR"
  step "stack data removed ($STACK_DIR)"
fi
