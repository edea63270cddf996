#!/usr/bin/env bash
# `npm ci` in the given Node package directory, only when node_modules is missing or
# package-lock.json changed since the last install (a stamp in node_modules remembers the
# lockfile's hash). Used by scripts/test-baileys.sh and scripts/test-frontend.sh.
set -euo pipefail
dir=${1:?usage: scripts/npm-ci-if-changed.sh <package directory>}
cd "$dir"
command -v node >/dev/null && command -v npm >/dev/null || {
  echo "npm-ci: Node.js 20+ and npm are needed (scripts/system-packages.sh prints how to install them)" >&2
  exit 1
}
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || {
  echo "npm-ci: Node.js $(node --version) is too old: $dir needs Node 20+" >&2
  exit 1
}
sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.prosaas-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  echo "npm-ci: npm ci in $PWD (package-lock.json changed or node_modules missing)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$sum" > "$stamp"
fi
