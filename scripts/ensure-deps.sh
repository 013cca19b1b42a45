# Installs the npm dependencies when node_modules is missing or older than the lock file.
# Sourced by the quick-start scripts, so that both work on a fresh clone.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[deps] installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
