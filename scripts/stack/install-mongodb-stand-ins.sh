#!/usr/bin/env bash
# MongoDB is in no registry this stack may use (Debian has no package; its own downloads are out
# of reach). The real-server tests of the MongoDB hooks (test/integration/real-servers/ferretdb.ts)
# use instead, each in the cache once per version:
#   FerretDB, a MongoDB wire-protocol server (here on its embedded SQLite), built from the Go module proxy;
#   mongosh, the shell the mongo image runs the hooks with, from npm (not a dependency of the project).
# Each is made in a scratch folder and moved into place only when complete.
source "$(dirname "$0")/lib.sh"

FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}
MONGOSH_VERSION=${MONGOSH_VERSION:-2.12.0}

# cached <name> <final dir> <build function>: runs the function on a scratch folder unless done.
cached() {
  local name=$1 dir=$2 build=$3
  if [[ -f $dir/.complete ]]; then step "$name: cached in $dir"; return; fi
  local scratch=$dir.partial started=$(date +%s)
  rm -rf "$scratch" && mkdir -p "$scratch/bin"
  step "$name: installing into $dir"
  "$build" "$scratch"
  touch "$scratch/.complete"
  rm -rf "$dir" && mv "$scratch" "$dir"
  step "$name: done in $(($(date +%s) - started))s"
}

# FerretDB's build writes its version into build/version/version.txt (`task gen-version`, from
# git); the published module lacks the file and the binary panics at start without it. So: the
# module's source from the proxy, that one file added, built with its own go.mod and go.sum.
build_ferretdb() {
  local out=$1 module_dir
  command -v go >/dev/null || die "go is not on PATH; FerretDB is built with the Go toolchain"
  module_dir=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n $module_dir ]] || die "go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION named no folder"
  cp -r "$module_dir" "$out/src" && chmod -R u+w "$out/src"
  echo "$FERRETDB_VERSION" >"$out/src/build/version/version.txt"
  (cd "$out/src" && go build -ldflags "-s -w" -o "$out/bin/ferretdb" ./cmd/ferretdb)
  rm -rf "$out/src"
  "$out/bin/ferretdb" --version >/dev/null
}

install_mongosh() {
  local out=$1
  command -v npm >/dev/null || die "npm is not on PATH; mongosh comes from npm"
  npm install --prefix "$out" --no-audit --no-fund --no-save "mongosh@$MONGOSH_VERSION" >/dev/null
  ln -s ../node_modules/.bin/mongosh "$out/bin/mongosh"
  "$out/bin/mongosh" --version >/dev/null
}

cached "ferretdb $FERRETDB_VERSION" "$CACHE_ROOT/ferretdb-$FERRETDB_VERSION" build_ferretdb
cached "mongosh $MONGOSH_VERSION" "$CACHE_ROOT/mongosh-$MONGOSH_VERSION" install_mongosh
