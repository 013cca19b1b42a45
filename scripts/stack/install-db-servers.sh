#!/usr/bin/env bash
# Installs, from Debian's packages, the database servers that the real-server tests start
# (test/integration/real-servers/): the shipped services' bind hooks run there against the same
# software as in their images. Skips what is installed; the package index is refreshed only when
# it does not know a missing package yet (a fresh machine). Services are not started by the
# install (policy-rc.d forbids it): each test starts its own server on a free port.
# Called by install.sh (so by up.sh and CI); run it alone with: bash scripts/stack/install-db-servers.sh
set -euo pipefail

# One package a line: engineers adding a service add a line.
PACKAGES=(
  redis-server
  postgresql
  mariadb-server
  rabbitmq-server
  amqp-tools        # amqp-publish, amqp-get: a real AMQP client for the RabbitMQ hook tests
)

log() { printf '[db-servers] %s\n' "$*"; }
die() { printf '[db-servers] error: %s\n' "$*" >&2; exit 1; }

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then log "installed: ${PACKAGES[*]}"; exit 0; fi

command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get here: install them with your system's packages"
sudo=(); [[ $(id -u) == 0 ]] || sudo=(sudo -n)
started=$(date +%s)
log "installing ${missing[*]}"

# Debian's maintainer scripts start a service right after installing it, on the default ports,
# unless /usr/sbin/policy-rc.d forbids it (exit 101). Ours only while we install, and only when
# the machine has none of its own.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  own_policy=true
fi
trap '[[ $own_policy == true ]] && "${sudo[@]}" rm -f "$policy"' EXIT

for p in "${missing[@]}"; do
  "${sudo[@]}" apt-cache show "$p" >/dev/null 2>&1 || { "${sudo[@]}" apt-get update -qq; break; }
done
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
log "installed ${missing[*]} in $(($(date +%s) - started))s"
