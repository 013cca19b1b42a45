#!/usr/bin/env bash
# Stops exactly the processes that up.sh started (by their pid files, never by name).
# --purge also deletes the stack's data (etcd, Temporal database, certificates, logs).
source "$(dirname "$0")/lib.sh"

# Reverse start order: clients before the servers they talk to.
bash "$STACK_SCRIPTS/oidc.sh" down
bash "$STACK_SCRIPTS/temporal-proxy.sh" down
for name in kwok-b kube-scheduler-b kube-controller-manager-b kube-apiserver-b temporal kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done
rm -f "$ENV_FILE"
if [[ ${1:-} == --purge ]]; then
  rm -rf "$STACK_DIR"
  step "stack data removed ($STACK_DIR)"
fi
