#!/usr/bin/env bash
# Starts the local stack on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, KWOK (fake kubelet for the nodes) and the Temporal dev server with its UI.
# Idempotent: components already running are left alone, stopped ones are (re)started.
# Writes $STACK_DIR/env (KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_UI_URL, ...) and prints it.
source "$(dirname "$0")/lib.sh"
source "$STACK_SCRIPTS/pki.sh"

bash "$STACK_SCRIPTS/install.sh"
mkdir -p "$LOG_DIR" "$PID_DIR"

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

make_pki
PKI=$STACK_DIR/pki
KUBECONFIG_ADMIN=$PKI/admin.kubeconfig
KUBECTL=("$KUBERNETES_DIR/bin/kubectl" --kubeconfig "$KUBECONFIG_ADMIN")
api_get() { curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$STACK_HOST:$APISERVER_PORT$1"; }

ensure etcd 60 curl -fsS "http://$STACK_HOST:$ETCD_PORT/health" ::: "$ETCD_PORT" "$ETCD_PEER_PORT" -- \
  "$ETCD_DIR/bin/etcd" --name kb-local --data-dir "$STACK_DIR/etcd" \
  --listen-client-urls "http://$STACK_HOST:$ETCD_PORT" --advertise-client-urls "http://$STACK_HOST:$ETCD_PORT" \
  --listen-peer-urls "http://$STACK_HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$STACK_HOST:$ETCD_PEER_PORT" \
  --initial-cluster "kb-local=http://$STACK_HOST:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn

ensure kube-apiserver 120 api_get /readyz ::: "$APISERVER_PORT" -- \
  "$KUBERNETES_DIR/bin/kube-apiserver" --etcd-servers "http://$STACK_HOST:$ETCD_PORT" \
  --bind-address "$STACK_HOST" --advertise-address "$STACK_HOST" --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
  --service-account-key-file "$PKI/service-account.pub" --service-account-signing-key-file "$PKI/service-account.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --allow-privileged=true \
  --enable-admission-plugins ResourceQuota --v 1 \
  --audit-policy-file "$STACK_SCRIPTS/audit-policy.yaml" --audit-log-path "$LOG_DIR/kube-apiserver-audit.log" \
  --audit-log-maxsize 200 --audit-log-maxbackup 1

ensure kube-controller-manager 60 curl -kfsS "https://$STACK_HOST:$CONTROLLER_MANAGER_PORT/healthz" ::: "$CONTROLLER_MANAGER_PORT" -- \
  "$KUBERNETES_DIR/bin/kube-controller-manager" --kubeconfig "$PKI/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$PKI/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager.kubeconfig" \
  --bind-address "$STACK_HOST" --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
  --service-account-private-key-file "$PKI/service-account.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --use-service-account-credentials=true --enable-hostpath-provisioner=true --v 1

ensure kube-scheduler 60 curl -kfsS "https://$STACK_HOST:$SCHEDULER_PORT/healthz" ::: "$SCHEDULER_PORT" -- \
  "$KUBERNETES_DIR/bin/kube-scheduler" --kubeconfig "$PKI/scheduler.kubeconfig" \
  --authentication-kubeconfig "$PKI/scheduler.kubeconfig" --authorization-kubeconfig "$PKI/scheduler.kubeconfig" \
  --bind-address "$STACK_HOST" --secure-port "$SCHEDULER_PORT" --leader-elect=false --v 1

ensure kwok 60 curl -fsS "http://$STACK_HOST:$KWOK_PORT/healthz" ::: "$KWOK_PORT" -- \
  "$KWOK_DIR/bin/kwok" --kubeconfig "$PKI/kwok.kubeconfig" --server-address "$STACK_HOST:$KWOK_PORT" \
  --config "$STACK_SCRIPTS/kwok-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --cidr 10.244.0.0/16 --node-ip 10.240.0.1 \
  --node-lease-duration-seconds 40 # node heartbeats as Leases: without them the node lifecycle
                                    # controller marks the nodes NotReady and their pods unready

# Cluster objects the stack provides: fake nodes for KWOK, and a default StorageClass served by
# the controller-manager's hostPath provisioner so that PVCs bind.
"${KUBECTL[@]}" apply --server-side --field-manager kb-stack -f "$STACK_SCRIPTS/cluster.yaml" >/dev/null
wait_healthy kwok 60 "${KUBECTL[@]}" wait --for condition=Ready node --all --timeout 1s
wait_healthy kube-controller-manager 60 "${KUBECTL[@]}" get serviceaccount default -n default
step "cluster: nodes Ready, default ServiceAccount and StorageClass present"

ensure temporal 120 "$TEMPORAL_DIR/bin/temporal" operator cluster health --address "$STACK_HOST:$TEMPORAL_PORT" ::: \
  "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_METRICS_PORT" -- \
  "$TEMPORAL_DIR/bin/temporal" server start-dev --ip "$STACK_HOST" --port "$TEMPORAL_PORT" \
  --ui-port "$TEMPORAL_UI_PORT" --metrics-port "$TEMPORAL_METRICS_PORT" \
  --db-filename "$STACK_DIR/temporal.db" --log-level warn --ui-disable-news-fetch \
  --ui-codec-endpoint "http://$STACK_HOST:$BROKER_PORT/codec" \
  --search-attribute KbInstanceId=Keyword --search-attribute KbBindingId=Keyword \
  --search-attribute KbService=Keyword --search-attribute KbPlan=Keyword \
  --search-attribute KbOrg=Keyword --search-attribute KbSpace=Keyword --search-attribute KbOperation=Keyword
wait_healthy temporal 60 curl -fsS "http://$STACK_HOST:$TEMPORAL_UI_PORT/"

cat >"$ENV_FILE" <<ENV
# Written by scripts/stack/up.sh. Source it (set -a; . $ENV_FILE) to reach the local stack.
KUBECONFIG=$KUBECONFIG_ADMIN
# The broker's own identity (user kubernetes-broker): its requests are in the audit log.
BROKER_KUBECONFIG=$PKI/broker.kubeconfig
KB_AUDIT_LOG=$LOG_DIR/kube-apiserver-audit.log
KUBERNETES_API_URL=https://$STACK_HOST:$APISERVER_PORT
TEMPORAL_ADDRESS=$STACK_HOST:$TEMPORAL_PORT
TEMPORAL_NAMESPACE=default
TEMPORAL_UI_URL=http://$STACK_HOST:$TEMPORAL_UI_PORT
# The broker API of dev mode; the Temporal UI decodes payloads through its /codec endpoint.
KB_BROKER_PORT=$BROKER_PORT
KB_STACK_BIN=$KUBERNETES_DIR/bin:$ETCD_DIR/bin:$KWOK_DIR/bin:$TEMPORAL_DIR/bin
KB_STACK_LOGS=$LOG_DIR
KB_STACK_PIDS=$PID_DIR
ENV
step "local stack is up; environment in $ENV_FILE:"
grep -v '^#' "$ENV_FILE"
