#!/usr/bin/env bash
# Build the SPA (frontend/ → frontend/dist) when it is missing or older than its sources:
# `npm ci` only when package-lock.json changed (scripts/npm-ci-if-changed.sh), then
# `npm run build`. `make run` calls it so the app is served from a fresh clone; without
# Node.js 20+ it says so and exits 1 (the caller carries on without the app).
set -euo pipefail
cd "$(dirname "$0")/.."
dist=frontend/dist/index.html
if [ -f "$dist" ] && [ -z "$(find frontend/src frontend/public frontend/index.html frontend/package-lock.json \
      frontend/vite.config.ts -newer "$dist" -print -quit 2>/dev/null)" ]; then
  exit 0  # up to date
fi
mkdir -p var/log
scripts/npm-ci-if-changed.sh frontend
echo "build-frontend: building the SPA into frontend/dist (npm run build)" >&2
cd frontend
npm run --silent build > ../var/log/frontend-build.log 2>&1 || {
  echo "build-frontend: the build failed; see var/log/frontend-build.log" >&2
  tail -20 ../var/log/frontend-build.log >&2
  exit 1
}
