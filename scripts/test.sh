#!/usr/bin/env bash
# The test command (README): set up, make sure a Redis answers, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
url=$(scripts/redis.sh)
private_pid=""
[ -f var/redis/redis.pid ] && [[ "$url" != redis://127.0.0.1:6379/* ]] && private_pid=$(cat var/redis/redis.pid)
trap '[ -n "$private_pid" ] && kill "$private_pid" 2>/dev/null || true' EXIT
export TEST_REDIS_URL="${url%/*}/14"
.venv/bin/python -m pytest "$@"
