#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests against the local stack, which the
# tests start (and stop again) when it is not already running.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-deps.sh
bash scripts/install-compose-validator.sh   # docker-compose.yml's offline validator (cached)
bash scripts/install-chromium.sh            # the Temporal UI browser test (Debian's chromium)
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
