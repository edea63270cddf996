#!/usr/bin/env bash
# The web app's checks (frontend/, Node 20+): installs the pinned packages with `npm ci` when
# node_modules is missing or package-lock.json changed (scripts/npm-ci-if-changed.sh), then
# lint (ESLint, feature boundaries), typecheck (tsc strict), the component tests (Vitest) and
# the production build, which fails when the first load of the login and dashboard pages passes
# its size budget. scripts/test.sh runs this before pytest; FRONTEND_TESTS=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/npm-ci-if-changed.sh frontend
cd frontend
echo "test-frontend: lint, typecheck, vitest and build in $PWD" >&2
npm run --silent lint
npm run --silent typecheck
npm test --silent
npm run --silent build
