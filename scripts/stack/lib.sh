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
# Not started by the stack: the broker's API in dev mode, whose /codec the Temporal UI calls.
BROKER_PORT=${KB_BROKER_PORT:-8080}

START_TIME=$(date +%s)
step() { printf '[stack %4ss] %s\n' "$(($(date +%s) - START_TIME))" "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }
