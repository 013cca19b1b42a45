#!/usr/bin/env bash
# Starts the local stack on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, KWOK (fake kubelet for the nodes) and the Temporal dev server with its UI; and a
# second cluster (the same four, suffix -b) on the same etcd, for the broker's several clusters;
# then nginx as a TLS proxy in front of Temporal (temporal-proxy.sh: mTLS and API key); last, an
# OpenID provider and a Temporal UI server logged in through it (oidc.sh).
# Idempotent: components already running are left alone, stopped ones are (re)started.
# Writes $STACK_DIR/env (KUBECONFIG, TEMPORAL_ADDRESS, TEMPORAL_UI_URL, ...) and prints it.
source "$(dirname "$0")/lib.sh"
source "$STACK_SCRIPTS/pki.sh"

bash "$STACK_SCRIPTS/install.sh"
mkdir -p "$LOG_DIR" "$PID_DIR"

make_pki
PKI=$STACK_DIR/pki
KUBECONFIG_ADMIN=$PKI/admin.kubeconfig
KUBECONFIG_ADMIN_B=$PKI/admin-b.kubeconfig
api_get() { curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://$STACK_HOST:$1$2"; }

ensure etcd 60 curl -fsS "http://$STACK_HOST:$ETCD_PORT/health" ::: "$ETCD_PORT" "$ETCD_PEER_PORT" -- \
  "$ETCD_DIR/bin/etcd" --name kb-local --data-dir "$STACK_DIR/etcd" \
  --listen-client-urls "http://$STACK_HOST:$ETCD_PORT" --advertise-client-urls "http://$STACK_HOST:$ETCD_PORT" \
  --listen-peer-urls "http://$STACK_HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$STACK_HOST:$ETCD_PEER_PORT" \
  --initial-cluster "kb-local=http://$STACK_HOST:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn

# control_plane <suffix> <apiserver port> <controller-manager port> <scheduler port> <kwok port> <pod CIDR> <node IP> <apiserver flags...>
# A cluster on the shared etcd: kube-apiserver, kube-controller-manager, kube-scheduler and KWOK,
# named kube-apiserver<suffix> and so on, with the kubeconfigs <stem><suffix>.kubeconfig.
control_plane() {
  local sfx=$1 api=$2 cm=$3 sched=$4 kwok=$5 cidr=$6 node_ip=$7; shift 7
  ensure "kube-apiserver$sfx" 120 api_get "$api" /readyz ::: "$api" -- \
    "$KUBERNETES_DIR/bin/kube-apiserver" --etcd-servers "http://$STACK_HOST:$ETCD_PORT" \
    --bind-address "$STACK_HOST" --advertise-address "$STACK_HOST" --secure-port "$api" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/service-account.pub" --service-account-signing-key-file "$PKI/service-account.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --allow-privileged=true \
    --enable-admission-plugins ResourceQuota --v 1 "$@"

  ensure "kube-controller-manager$sfx" 60 curl -kfsS "https://$STACK_HOST:$cm/healthz" ::: "$cm" -- \
    "$KUBERNETES_DIR/bin/kube-controller-manager" --kubeconfig "$PKI/controller-manager$sfx.kubeconfig" \
    --authentication-kubeconfig "$PKI/controller-manager$sfx.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager$sfx.kubeconfig" \
    --bind-address "$STACK_HOST" --secure-port "$cm" --leader-elect=false \
    --service-account-private-key-file "$PKI/service-account.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --use-service-account-credentials=true --enable-hostpath-provisioner=true --v 1 \
    ${CM_CONTROLLERS:+--controllers "$CM_CONTROLLERS"}

  ensure "kube-scheduler$sfx" 60 curl -kfsS "https://$STACK_HOST:$sched/healthz" ::: "$sched" -- \
    "$KUBERNETES_DIR/bin/kube-scheduler" --kubeconfig "$PKI/scheduler$sfx.kubeconfig" \
    --authentication-kubeconfig "$PKI/scheduler$sfx.kubeconfig" --authorization-kubeconfig "$PKI/scheduler$sfx.kubeconfig" \
    --bind-address "$STACK_HOST" --secure-port "$sched" --leader-elect=false --v 1

  ensure "kwok$sfx" 60 curl -fsS "http://$STACK_HOST:$kwok/healthz" ::: "$kwok" -- \
    "$KWOK_DIR/bin/kwok" --kubeconfig "$PKI/kwok$sfx.kubeconfig" --server-address "$STACK_HOST:$kwok" \
    --config "$STACK_SCRIPTS/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr "$cidr" --node-ip "$node_ip" \
    --node-lease-duration-seconds 40 # node heartbeats as Leases: without them the node lifecycle
                                      # controller marks the nodes NotReady and their pods unready

  # Cluster objects the stack provides: fake nodes for KWOK, and a default StorageClass served by
  # the controller-manager's hostPath provisioner so that PVCs bind.
  local kubectl=("$KUBERNETES_DIR/bin/kubectl" --kubeconfig "$PKI/admin$sfx.kubeconfig")
  "${kubectl[@]}" apply --server-side --field-manager kb-stack -f "$STACK_SCRIPTS/cluster.yaml" >/dev/null
  wait_healthy "kwok$sfx" 60 "${kubectl[@]}" wait --for condition=Ready node --all --timeout 1s
  wait_healthy "kube-controller-manager$sfx" 60 "${kubectl[@]}" get serviceaccount default -n default
  local label=${sfx#-}
  step "cluster ${label:-a}: nodes Ready, default ServiceAccount and StorageClass present"
}

control_plane "" "$APISERVER_PORT" "$CONTROLLER_MANAGER_PORT" "$SCHEDULER_PORT" "$KWOK_PORT" 10.244.0.0/16 10.240.0.1 \
  --audit-policy-file "$STACK_SCRIPTS/audit-policy.yaml" --audit-log-path "$LOG_DIR/kube-apiserver-audit.log" \
  --audit-log-maxsize 200 --audit-log-maxbackup 1

# The second cluster: its own key prefix in the same etcd (one etcd less to run on a small
# machine), no audit log, and the controller-manager without the controllers no catalog object
# needs here (autoscaling, certificate signing, cloud, volume attach/expand, API housekeeping).
# Every controller a template's kind may rely on stays on: an allow-list once left out PVC
# protection, and a deleted namespace with bound claims never went away. Its pods get addresses
# of another range, so a test can tell which cluster an address came from.
CM_CONTROLLERS='*',-horizontal-pod-autoscaler-controller,-certificatesigningrequest-approving-controller,-certificatesigningrequest-cleaner-controller,-certificatesigningrequest-signing-controller,-podcertificaterequest-cleaner-controller,-kube-apiserver-serving-clustertrustbundle-publisher-controller,-service-lb-controller,-persistentvolume-attach-detach-controller,-persistentvolume-expander-controller,-ephemeral-volume-controller,-resourceclaim-controller,-device-taint-eviction-controller,-storage-version-migrator-controller,-storageversion-garbage-collector-controller,-validatingadmissionpolicy-status-controller,-legacy-serviceaccount-token-cleaner-controller,-ttl-controller \
  control_plane -b "$APISERVER_B_PORT" "$CONTROLLER_MANAGER_B_PORT" "$SCHEDULER_B_PORT" "$KWOK_B_PORT" 10.245.0.0/16 10.240.0.2 \
  --etcd-prefix /registry-b

# The broker's search attributes, read from their one source; the worker creates what is missing
# anyway, but with them at start a test may start workflows before any worker ran.
search_attributes=()
for name in $(grep -oE "defineSearchAttributeKey\('[A-Za-z]+'" "$REPO_ROOT/platform/temporal/search-attributes.ts" | cut -d"'" -f2); do
  search_attributes+=(--search-attribute "$name=Keyword")
done
[ ${#search_attributes[@]} -gt 0 ] || die "no search attributes found in platform/temporal/search-attributes.ts"

ensure temporal 120 "$TEMPORAL_DIR/bin/temporal" operator cluster health --address "$STACK_HOST:$TEMPORAL_PORT" ::: \
  "$TEMPORAL_PORT" "$TEMPORAL_UI_PORT" "$TEMPORAL_METRICS_PORT" -- \
  "$TEMPORAL_DIR/bin/temporal" server start-dev --ip "$STACK_HOST" --port "$TEMPORAL_PORT" \
  --ui-port "$TEMPORAL_UI_PORT" --metrics-port "$TEMPORAL_METRICS_PORT" \
  --db-filename "$STACK_DIR/temporal.db" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal --log-level warn --ui-disable-news-fetch \
  --ui-codec-endpoint "http://$STACK_HOST:$BROKER_PORT/codec" \
  "${search_attributes[@]}"
wait_healthy temporal 60 curl -fsS "http://$STACK_HOST:$TEMPORAL_UI_PORT/"

cat >"$ENV_FILE" <<ENV
# Written by scripts/stack/up.sh. Source it (set -a; . $ENV_FILE) to reach the local stack.
KUBECONFIG=$KUBECONFIG_ADMIN
# The broker's own identity (user kubernetes-broker): its requests are in the audit log.
BROKER_KUBECONFIG=$PKI/broker.kubeconfig
# The second cluster (same identities, same CA): admin and broker kubeconfigs, its API server.
KUBECONFIG_B=$KUBECONFIG_ADMIN_B
BROKER_KUBECONFIG_B=$PKI/broker-b.kubeconfig
KUBERNETES_API_URL_B=https://$STACK_HOST:$APISERVER_B_PORT
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
bash "$STACK_SCRIPTS/temporal-proxy.sh" up
cat "$STACK_DIR/temporal-proxy/env" >>"$ENV_FILE"
bash "$STACK_SCRIPTS/oidc.sh" up
cat "$STACK_DIR/oidc/env" >>"$ENV_FILE"
step "local stack is up; environment in $ENV_FILE:"
grep -v -e '^#' -e '_API_KEY=' -e '_PASSWORD=' -e '_CLIENT_' "$ENV_FILE"
