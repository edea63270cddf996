#!/usr/bin/env bash
# The run command (README): ProSaaS on one machine with its embedded defaults, plus a demo call.
#
# Sets up .venv, starts (or reuses) Redis, migrates and seeds the SQLite database under var/,
# then runs the API (:5000), the calls service (:5050), the RQ worker (python -m jobs.worker:
# queues high,default,low,broadcasts, dead letters in rq:queue:failed) and the periodic-job
# scheduler (python -m jobs.scheduler). A demo caller then
# dials the demo business the way Twilio would: a signed voice webhook, the TwiML's stream,
# a recorded caller talking to the offline receptionist; the call is finalized by the worker
# and listed by GET /api/calls (RUN_DEMO=0 skips the demo call). When the SPA is built
# (frontend/dist/index.html), a private nginx serves it on WEB_PORT (8080) with the API and the
# calls service behind it, from the production templates (nginx/README.md). Ctrl-C stops
# everything in order (scripts/stop_stack.py): the calls service drains its live calls, the
# worker stores the records the drain queued, then nginx, the API, the scheduler, the worker
# and a private Redis stop. The services run in their own sessions, so the terminal's Ctrl-C
# reaches only this script.
set -euo pipefail
cd "$(dirname "$0")/.."
REDIS_URL_GIVEN=${REDIS_URL:-}
scripts/setup.sh
mkdir -p var
export REDIS_URL
REDIS_URL=$(scripts/redis.sh)
private_redis=""
case "$REDIS_URL" in
  "$REDIS_URL_GIVEN") echo "run: Redis: $REDIS_URL (from REDIS_URL)" ;;
  redis://127.0.0.1:6379/*) echo "run: Redis: $REDIS_URL (the machine's Redis on 6379)" ;;
  *) private_redis=1
     echo "run: Redis: $REDIS_URL (a private redis-server under var/redis, stopped with the stack)" ;;
esac
api_port=${API_PORT:-5000}
calls_port=${CALLS_PORT:-5050}
# Development secrets: made once, kept in var/dev-secrets (never used with APP_ENV=production).
if [ ! -f var/dev-secrets ]; then
  umask 077
  .venv/bin/python - > var/dev-secrets <<'PY'
import secrets
for name in ("INTERNAL_SECRET", "TWILIO_AUTH_TOKEN", "SECRET_KEY", "SEED_OWNER_PASSWORD"):
    print(f"{name}={secrets.token_urlsafe(24)}")
PY
fi
set -a
# shellcheck disable=SC1091
. var/dev-secrets
set +a
export API_PORT=$api_port CALLS_PORT=$calls_port
export DATABASE_URL=${DATABASE_URL:-sqlite:///var/prosaas.db}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$api_port}
export CALLS_RECORD=${CALLS_RECORD:-true}
mkdir -p var/log
case "$DATABASE_URL" in
  sqlite:////*) echo "run: database: $DATABASE_URL (the file ${DATABASE_URL#sqlite:///})" ;;
  sqlite:///*) echo "run: database: $DATABASE_URL (the file $PWD/${DATABASE_URL#sqlite:///})" ;;
  *) echo "run: database: $(.venv/bin/python -c "import sqlalchemy,sys; print(sqlalchemy.engine.make_url(sys.argv[1]).render_as_string(hide_password=True))" "$DATABASE_URL")" ;;
esac
echo "run: development secrets in $PWD/var/dev-secrets, logs in $PWD/var/log/"
echo "run: migrating the database, then seeding the demo business"
.venv/bin/python -m api.migrate
.venv/bin/python -m api.seed
echo "run: starting the calls service (:$calls_port), the API (:$api_port), an RQ worker and the scheduler"

pids=()
calls_pid="" api_pid="" worker_pid="" scheduler_pid="" gw_pid="" nginx_pid="" stopped=""
stop() {
  [ -n "$stopped" ] && return 0
  stopped=1
  trap 'true' INT  # a second Ctrl-C reaches the stop helper: it ends the live calls at once
  echo
  if [ -n "$gw_pid" ]; then  # first: it flushes its events to the API while the API still runs
    echo "stop: the WhatsApp gateway (drains its events, at most WA_DRAIN_SECONDS)"
    kill -TERM "$gw_pid" 2>/dev/null || true
    wait "$gw_pid" 2>/dev/null || true
  fi
  .venv/bin/python scripts/stop_stack.py --redis-url "$REDIS_URL" \
    --calls "$calls_pid" --health "http://127.0.0.1:$calls_port/health" --worker "$worker_pid" --api "$api_pid" --scheduler "$scheduler_pid" --nginx "$nginx_pid" \
    ${private_redis:+--redis-pidfile var/redis/redis.pid} || true
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'stop; exit 0' INT TERM  # Ctrl-C is the normal way out
# Each service in its own session (setsid): the terminal's Ctrl-C goes to this script only,
# which stops them in order instead of all at once.
detach=()
command -v setsid >/dev/null && detach=(setsid)
# RUN_WHATSAPP=1: one WhatsApp gateway shard (baileys/, Node 20+) on the fake driver, and the
# API pointed at it (docs/ARCHITECTURE.md §7; script it with the /fake/... routes).
if [ "${RUN_WHATSAPP:-0}" = 1 ]; then
  gw_port=${BAILEYS_PORT:-3300}
  [ -d baileys/node_modules ] || (cd baileys && npm ci --no-audit --no-fund --loglevel=error)
  export BAILEYS_NUM_SHARDS=1 BAILEYS_SHARD_1_URL="http://127.0.0.1:$gw_port"
  BAILEYS_PORT=$gw_port BAILEYS_SHARD_ID=1 WA_DRIVER=fake NODE_ENV=development API_URL="http://127.0.0.1:$api_port" \
    BAILEYS_DATA_DIR="$PWD/var/baileys/shard-1" "${detach[@]}" node baileys/src/server.js > var/log/baileys.log 2>&1 &
  gw_pid=$!; pids+=($!)
  echo "run: WhatsApp gateway shard 1 (fake driver) on :$gw_port, data in $PWD/var/baileys/shard-1, log var/log/baileys.log"
fi
"${detach[@]}" .venv/bin/python -m callengine > var/log/calls.log 2>&1 & calls_pid=$!; pids+=($!)
"${detach[@]}" .venv/bin/python -m api > var/log/api.log 2>&1 & api_pid=$!; pids+=($!)
"${detach[@]}" .venv/bin/python -m jobs.worker > var/log/worker.log 2>&1 & worker_pid=$!; pids+=($!)
"${detach[@]}" .venv/bin/python -m jobs.scheduler > var/log/scheduler.log 2>&1 & scheduler_pid=$!; pids+=($!)

wait_up() {  # url name log
  for _ in $(seq 200); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "run: $2 did not start; see $3" >&2; tail -20 "$3" >&2; exit 1; }
    done
    sleep 0.1
  done
  echo "run: $2 did not answer $1; see $3" >&2; exit 1
}
wait_up "http://127.0.0.1:$calls_port/health" "the calls service" var/log/calls.log
wait_up "http://127.0.0.1:$api_port/readyz" "the API" var/log/api.log
[ -n "$gw_pid" ] && wait_up "http://127.0.0.1:$gw_port/health" "the WhatsApp gateway" var/log/baileys.log

# The SPA, once built: one private nginx with the production templates (nginx/README.md), the
# gateway on WEB_PORT in front of the API, the calls service and the SPA's own server.
web_port=${WEB_PORT:-8080}
if [ -f frontend/dist/index.html ]; then
  nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
  if [ -z "$nginx_bin" ]; then
    echo "run: frontend/dist is built but nginx is missing: sudo apt-get install nginx (or scripts/system-packages.sh); the app is not served"
  else
    spa_port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    SERVER_NAME=${SERVER_NAME:-localhost 127.0.0.1} HTTP_PORT=$web_port \
      API_UPSTREAM=127.0.0.1:$api_port CALLS_UPSTREAM=127.0.0.1:$calls_port \
      FRONTEND_UPSTREAM=127.0.0.1:$spa_port FRONTEND_LISTEN=127.0.0.1:$spa_port SPA_ROOT="$PWD/frontend/dist" \
      NGINX_RESOLVER=127.0.0.1 .venv/bin/python scripts/nginx_conf.py var/nginx --gateway --frontend >/dev/null
    "${detach[@]}" "$nginx_bin" -p "$PWD/var/nginx" -c "$PWD/var/nginx/nginx.conf" -g 'daemon off;' \
      > var/log/nginx.log 2>&1 & nginx_pid=$!; pids+=($!)
    wait_up "http://127.0.0.1:$web_port/health" "nginx" var/log/nginx.log
  fi
fi

# What a person needs to use the stack; printed when it is up, and again after the demo.
summary() {
  local docs="http://127.0.0.1:$api_port/api/openapi.json (the OpenAPI document)"
  curl -fsS -o /dev/null "http://127.0.0.1:$api_port/api/docs" 2>/dev/null \
    && docs="http://127.0.0.1:$api_port/api/docs (interactive; the document is /api/openapi.json)"
  [ -z "$nginx_pid" ] || echo "app:      http://localhost:$web_port   (the SPA; nginx, logs in $PWD/var/nginx/logs/)"
  echo "API:      http://127.0.0.1:$api_port   docs: $docs"
  echo "calls:    ws://127.0.0.1:$calls_port/ws/twilio   health: http://127.0.0.1:$calls_port/health"
  echo "Redis:    $REDIS_URL"
  echo "database: $DATABASE_URL"
  echo "log in:   owner@demo.prosaas.local, password: SEED_OWNER_PASSWORD in $PWD/var/dev-secrets"
  echo "          (POST /api/auth/login; the system admin's password is printed once, when first seeded)"
  echo "logs:     $PWD/var/log/   load test: scripts/loadtest.sh --calls 10 --duration 20"
  [ -z "$gw_pid" ] || echo "WhatsApp: http://127.0.0.1:$gw_port/health (fake driver; X-Internal-Secret: INTERNAL_SECRET in $PWD/var/dev-secrets)"
}
if [ "${RUN_DEMO:-1}" = 0 ]; then
  summary
  echo "Ctrl-C stops."
  wait "$calls_pid"
  exit 0
fi
demo=var/demo-caller.jsonl
.venv/bin/python -c "import bz2,sys; open(sys.argv[2],'wb').write(bz2.open(sys.argv[1]).read())" \
  tests/fixtures/receptionist/c01_sales_plain.jsonl.bz2 "$demo"
since=$(date +%s)
echo; echo "== demo: a caller dials +15550100000 (signed webhook → TwiML → stream → receptionist)"
.venv/bin/python -m callengine.loadtest --twiml-url "$PUBLIC_BASE_URL/twilio/voice" \
  --url "ws://127.0.0.1:$calls_port/ws/twilio" --auth-token "$TWILIO_AUTH_TOKEN" \
  --from +15551230000 --to +15550100000 --session "$demo" --calls 1 --quiet || true
echo; echo "== the call, finalized by the worker, as GET /api/calls shows it"
.venv/bin/python scripts/show_calls.py "$PUBLIC_BASE_URL" owner@demo.prosaas.local "$SEED_OWNER_PASSWORD" "$since"

echo; echo "== runbook checks"
echo "curl http://localhost:$calls_port/health"; curl -sS "http://127.0.0.1:$calls_port/health"; echo
echo "curl http://localhost:$api_port/readyz"; curl -sS "http://127.0.0.1:$api_port/readyz"; echo
echo "redis-cli GET calls:active_count -> $(.venv/bin/python -c "import redis,sys; print((redis.Redis.from_url(sys.argv[1]).get('calls:active_count') or b'').decode())" "$REDIS_URL")"
echo "redis-cli LLEN rq:queue:default -> $(.venv/bin/python -c "import redis,sys; print(redis.Redis.from_url(sys.argv[1]).llen('rq:queue:default'))" "$REDIS_URL")"
echo "redis-cli LLEN rq:queue:failed -> $(.venv/bin/python -c "import redis,sys; print(redis.Redis.from_url(sys.argv[1]).llen('rq:queue:failed'))" "$REDIS_URL")   (python -m jobs failed list)"
echo "python -m jobs.health"; .venv/bin/python -m jobs.health || true
echo
summary
echo "Ctrl-C stops."
wait "$calls_pid"
