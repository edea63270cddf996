#!/usr/bin/env bash
# The WhatsApp gateway's tests (baileys/, Node 20+; docs/ARCHITECTURE.md §7): installs the pinned
# packages with `npm ci` when node_modules is missing or package-lock.json changed
# (scripts/npm-ci-if-changed.sh), then runs `npm test` (node:test). scripts/test.sh runs this
# before pytest; BAILEYS_TESTS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci-if-changed.sh baileys
cd baileys
echo "test-baileys: npm test in $PWD" >&2
npm test --silent
