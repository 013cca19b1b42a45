#!/usr/bin/env bash
# Chromium for the Temporal UI browser test (Debian's package; playwright-core drives it).
# Idempotent: a machine that has it already spends no time here.
set -euo pipefail
if [[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]]; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then
  echo "[chromium] /usr/bin/chromium is missing and installing it needs root: sudo apt-get install chromium" >&2
  exit 1
fi
echo "[chromium] installing Debian's chromium (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
