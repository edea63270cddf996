#!/usr/bin/env bash
# The run command (README): the calls service with its embedded defaults, plus a demo call.
# It starts (or reuses) Redis, serves on :${CALLS_PORT:-5050}, replays a recorded call against
# it with the load harness, prints what the runbook's checks show, then keeps serving until
# Ctrl-C (SIGTERM/SIGINT drain live calls first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export REDIS_URL
REDIS_URL=$(scripts/redis.sh)
port=${CALLS_PORT:-5050}
export CALLS_PORT=$port CALLS_RECORD=${CALLS_RECORD:-true}
.venv/bin/python -m callengine &
engine=$!
stop() { kill -TERM "$engine" 2>/dev/null; wait "$engine" 2>/dev/null || true; }
trap stop EXIT
trap 'stop; exit 0' INT TERM  # Ctrl-C: drain and stop is the normal way out
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 $engine 2>/dev/null || { echo "run: the calls service did not start" >&2; exit 1; }
  sleep 0.1
done
echo; echo "== demo: replaying tests/fixtures/twilio/barge_in.jsonl as 3 concurrent calls"
.venv/bin/python -m callengine.loadtest --url "ws://127.0.0.1:$port/ws/twilio" \
  --session tests/fixtures/twilio/barge_in.jsonl --calls 3 --quiet || true
echo; echo "== curl http://localhost:$port/health"
curl -sS "http://127.0.0.1:$port/health"; echo
echo "== redis-cli GET calls:active_count -> $(.venv/bin/python -c "import redis,sys; print((redis.Redis.from_url(sys.argv[1]).get('calls:active_count') or b'').decode())" "$REDIS_URL")"
echo; echo "calls service on ws://127.0.0.1:$port/ws/twilio (Ctrl-C drains and stops)"
wait $engine
