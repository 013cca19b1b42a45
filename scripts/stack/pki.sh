# Certificates and kubeconfigs of the local cluster, made once per stack folder. Sourced by up.sh.

PKI_DIR=$STACK_DIR/pki

# client_cert <file stem> <CN> [O]: a client certificate signed by the stack's CA.
client_cert() {
  local stem=$1 cn=$2 org=${3:-}
  local subj="/CN=$cn"; [[ -n $org ]] && subj="/O=$org/CN=$cn"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$stem.key" -subj "$subj" -out "$PKI_DIR/$stem.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$stem.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
    -days 3650 -extfile <(printf 'extendedKeyUsage=clientAuth') -out "$PKI_DIR/$stem.crt" 2>/dev/null
  rm -f "$PKI_DIR/$stem.csr"
}

# kubeconfig <file stem> [port] [cluster name]: a kubeconfig that authenticates with <stem>.crt
# at the API server on <port> (default: the first cluster's).
kubeconfig() {
  local stem=$1 port=${2:-$APISERVER_PORT} cluster=${3:-kb-local}
  cat >"$PKI_DIR/$stem.kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: https://$STACK_HOST:$port
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $stem
  user:
    client-certificate: $PKI_DIR/$stem.crt
    client-key: $PKI_DIR/$stem.key
contexts:
- name: $cluster
  context: {cluster: $cluster, user: $stem, namespace: default}
current-context: $cluster
KUBECONFIG
}

make_pki() {
  # The kubeconfigs embed the API server port: start over when it changes.
  if [[ -f $PKI_DIR/.complete ]] && ! grep -q ":$APISERVER_PORT\$" "$PKI_DIR/admin.kubeconfig"; then rm -rf "$PKI_DIR"; fi
  if [[ ! -f $PKI_DIR/.complete ]]; then
    step "pki: creating certificates in $PKI_DIR"
    rm -rf "$PKI_DIR" && mkdir -p "$PKI_DIR"
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/ca.key" -subj "/CN=kb-local-ca" \
      -days 3650 -out "$PKI_DIR/ca.crt" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/apiserver.key" -subj "/CN=kube-apiserver" \
      -out "$PKI_DIR/apiserver.csr" 2>/dev/null
    openssl x509 -req -in "$PKI_DIR/apiserver.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth') \
      -out "$PKI_DIR/apiserver.crt" 2>/dev/null
    rm -f "$PKI_DIR/apiserver.csr"
    openssl genrsa -out "$PKI_DIR/service-account.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/service-account.key" -pubout -out "$PKI_DIR/service-account.pub" 2>/dev/null
    touch "$PKI_DIR/.complete"
  fi
  # One identity per client, so the API server's audit log tells the broker's requests apart.
  local clients=(
    "admin kb-admin system:masters"
    "broker kubernetes-broker system:masters"
    "kwok kwok system:masters"
    "controller-manager system:kube-controller-manager"
    "scheduler system:kube-scheduler"
  )
  for c in "${clients[@]}"; do
    read -r stem cn org <<<"$c"
    [[ -f $PKI_DIR/$stem.kubeconfig ]] && continue
    client_cert "$stem" "$cn" "${org:-}"
    kubeconfig "$stem"
  done
  # The second cluster trusts the same CA: the same identities, with kubeconfigs for its port
  # (made again when that port changes).
  for c in "${clients[@]}"; do
    read -r stem _ <<<"$c"
    local b=$PKI_DIR/$stem-b.kubeconfig
    [[ -f $b ]] && grep -q ":$APISERVER_B_PORT\$" "$b" && continue
    cp "$PKI_DIR/$stem.crt" "$PKI_DIR/$stem-b.crt" && cp "$PKI_DIR/$stem.key" "$PKI_DIR/$stem-b.key"
    kubeconfig "$stem-b" "$APISERVER_B_PORT" kb-local-b
  done
}

# Certificates of the TLS proxy in front of Temporal (temporal-proxy.sh), made once: its server
# certificate, signed by the stack's CA; the broker's client certificate; and a client
# certificate of another CA, which the proxy must refuse.
make_temporal_pki() {
  [[ -f $PKI_DIR/ca.crt ]] || die "the stack's CA is missing ($PKI_DIR/ca.crt): run scripts/stack/up.sh"
  if [[ ! -f $PKI_DIR/temporal-proxy.crt ]]; then
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/temporal-proxy.key" -subj "/CN=temporal-proxy" \
      -out "$PKI_DIR/temporal-proxy.csr" 2>/dev/null
    openssl x509 -req -in "$PKI_DIR/temporal-proxy.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:%s\nextendedKeyUsage=serverAuth' "$TEMPORAL_TLS_NAME") \
      -out "$PKI_DIR/temporal-proxy.crt" 2>/dev/null
    rm -f "$PKI_DIR/temporal-proxy.csr"
  fi
  [[ -f $PKI_DIR/temporal-client.crt ]] || client_cert temporal-client kubernetes-broker
  if [[ ! -f $PKI_DIR/temporal-client-other.crt ]]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/other-ca.key" -subj "/CN=kb-local-other-ca" \
      -days 3650 -out "$PKI_DIR/other-ca.crt" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/temporal-client-other.key" -subj "/CN=kubernetes-broker" \
      -out "$PKI_DIR/temporal-client-other.csr" 2>/dev/null
    openssl x509 -req -in "$PKI_DIR/temporal-client-other.csr" -CA "$PKI_DIR/other-ca.crt" -CAkey "$PKI_DIR/other-ca.key" -CAcreateserial \
      -days 3650 -extfile <(printf 'extendedKeyUsage=clientAuth') -out "$PKI_DIR/temporal-client-other.crt" 2>/dev/null
    rm -f "$PKI_DIR/temporal-client-other.csr"
  fi
}
