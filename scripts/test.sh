#!/usr/bin/env bash
# The test command (README): set up, make sure a Redis and a PostgreSQL answer (private ones
# under var/ when the machine has none), run the WhatsApp gateway's Node tests
# (scripts/test-baileys.sh; BAILEYS_TESTS=0 skips them) and the web app's lint, typecheck, tests
# and build (scripts/test-frontend.sh; FRONTEND_TESTS=0 skips them), then the whole Python suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
url=$(scripts/redis.sh)
private_pid=""
[ -f var/redis/redis.pid ] && [[ "$url" != redis://127.0.0.1:6379/* ]] && private_pid=$(cat var/redis/redis.pid)
pg_url=$(scripts/postgres.sh)
cleanup() {
  [ -n "$private_pid" ] && kill "$private_pid" 2>/dev/null
  [[ "$pg_url" != *@127.0.0.1:5432/* ]] && scripts/postgres.sh stop
  true
}
trap cleanup EXIT
export TEST_REDIS_URL="${url%/*}/14" TEST_PG_ADMIN_URL="$pg_url"
echo "test: Redis $TEST_REDIS_URL$([ -n "$private_pid" ] && echo " (private, under var/redis)"), PostgreSQL $(echo "$pg_url" | sed 's#://\([^:@/]*\):[^@]*@#://\1:***@#')" >&2
[ "${BAILEYS_TESTS:-1}" = 0 ] || scripts/test-baileys.sh
[ "${FRONTEND_TESTS:-1}" = 0 ] || scripts/test-frontend.sh
.venv/bin/python -m pytest "$@"
