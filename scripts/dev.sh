#!/usr/bin/env bash
# Dev mode on a fresh machine: dependencies, the local stack (built once, cached), then the
# worker and the API with the shipped catalog. Prints the broker URL and credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
exec node bin/kubernetes-broker.js dev
