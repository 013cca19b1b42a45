#!/usr/bin/env bash
# Installs compose-validate into the cache, once per version: a small program on compose-go,
# the library with which Docker Compose v2 loads a compose file (`docker compose config`):
# schema validation, interpolation, normalisation and the consistency checks (undefined
# services, volumes, networks). It needs no Docker daemon. Built from the Go module proxy in
# seconds; the packaging test runs it on docker-compose.yml. Prints the binary's path last.
#
#   compose-validate FILE...   exits 1 with compose's message when a file is invalid,
#                              else prints the loaded project as JSON
set -euo pipefail
# The compose-go release that Docker Compose v2.40.3 builds with.
COMPOSE_GO_VERSION=v2.9.1
CACHE_ROOT=${KB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernetes-broker}
DIR=$CACHE_ROOT/compose-validate-$COMPOSE_GO_VERSION
BIN=$DIR/bin/compose-validate
log() { printf '[compose-validate] %s\n' "$*" >&2; }

if [[ -f $DIR/.complete && -x $BIN ]]; then
  log "cached in $DIR"
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || { log "error: go is not on PATH (compose-validate is built from the Go module proxy)"; exit 1; }

mkdir -p "$CACHE_ROOT/logs"
LOG=$CACHE_ROOT/logs/install-compose-validate-$COMPOSE_GO_VERSION.log
SCRATCH=$DIR.partial
rm -rf "$SCRATCH" && mkdir -p "$SCRATCH/bin" "$SCRATCH/src"
started=$(date +%s)
log "building with compose-go $COMPOSE_GO_VERSION (log: $LOG)"
cat >"$SCRATCH/src/main.go" <<'EOF'
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-validate FILE...")
		os.Exit(2)
	}
	out, err := load(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(append(out, '\n'))
}

func load(files []string) ([]byte, error) {
	opts, err := cli.NewProjectOptions(files, cli.WithOsEnv, cli.WithDotEnv, cli.WithName("compose-validate"))
	if err != nil {
		return nil, err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return nil, err
	}
	return project.MarshalJSON()
}
EOF
if ! (
  cd "$SCRATCH/src"
  go mod init kb.local/compose-validate
  go get "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$SCRATCH/bin/compose-validate" .
) >"$LOG" 2>&1; then
  tail -n 20 "$LOG" >&2
  log "error: the build failed after $(($(date +%s) - started))s; full log: $LOG"
  exit 1
fi
rm -rf "$SCRATCH/src"
touch "$SCRATCH/.complete"
rm -rf "$DIR" && mv "$SCRATCH" "$DIR"
log "built in $(($(date +%s) - started))s"
echo "$BIN"
