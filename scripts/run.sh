#!/usr/bin/env bash
# The run command (README): ProSaaS on one machine with its embedded defaults, plus a demo call.
#
# Sets up .venv, starts (or reuses) Redis, migrates and seeds the SQLite database under var/,
# then runs the API (:5000), the calls service (:5050) and an RQ worker. A demo caller then
# dials the demo business the way Twilio would: a signed voice webhook, the TwiML's stream,
# a recorded caller talking to the offline receptionist; the call is finalized by the worker
# and listed by GET /api/calls. Ctrl-C stops everything (the calls service drains first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p var
export REDIS_URL
REDIS_URL=$(scripts/redis.sh)
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

.venv/bin/python -m api.migrate
.venv/bin/python -m api.seed

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'stop; exit 0' INT TERM  # Ctrl-C is the normal way out
.venv/bin/python -m callengine > var/log/calls.log 2>&1 & pids+=($!)
.venv/bin/python -m api > var/log/api.log 2>&1 & pids+=($!)
.venv/bin/rq worker --url "$REDIS_URL" --serializer json high default low broadcasts \
  > var/log/worker.log 2>&1 & pids+=($!)

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
echo
echo "API on http://127.0.0.1:$api_port (owner@demo.prosaas.local, password in var/dev-secrets),"
echo "calls on ws://127.0.0.1:$calls_port/ws/twilio; logs in var/log/. Ctrl-C stops."
wait "${pids[0]}"
