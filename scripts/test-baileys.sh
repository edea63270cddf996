#!/usr/bin/env bash
# The WhatsApp gateway's tests (baileys/, Node 20+; docs/ARCHITECTURE.md §7): installs the pinned
# packages with `npm ci` when node_modules is missing or package-lock.json changed, then runs
# `npm test` (node:test). scripts/test.sh runs this before pytest; BAILEYS_TESTS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/../baileys"
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "test-baileys: Node.js 20+ and npm are needed (scripts/system-packages.sh prints how to install them)" >&2
  exit 1
}
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || {
  echo "test-baileys: Node.js $(node --version) is too old: the gateway needs Node 20+" >&2
  exit 1
}
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.prosaas-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "test-baileys: npm ci (package-lock.json changed or node_modules missing)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$sum" > "$stamp"
fi
echo "test-baileys: npm test in $PWD" >&2
npm test --silent
