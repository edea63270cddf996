#!/usr/bin/env bash
# Load-test the stack that `make run` started (README "Load-test your local stack").
#
# Every call goes the way Twilio's would: a voice webhook to the API signed with the
# TWILIO_AUTH_TOKEN that make run keeps in var/dev-secrets, then the TwiML's stream on the
# calls service, to the demo business (+15550100000). Extra options go to the harness:
#   scripts/loadtest.sh --calls 10 --duration 20 [--slo failed=0 ...]
# The ports are make run's (var/local.env); API_PORT / CALLS_PORT override them. Exits as the harness does.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f var/dev-secrets ]; then
  echo "loadtest: no var/dev-secrets — start the stack with 'make run' first" >&2
  exit 2
fi
# shellcheck disable=SC1091
TWILIO_AUTH_TOKEN=$(. var/dev-secrets && echo "$TWILIO_AUTH_TOKEN")
# The ports make run chose (var/local.env), unless API_PORT / CALLS_PORT say otherwise.
from_env_file() { [ -f var/local.env ] && sed -n "s/^$1=//p" var/local.env || true; }
api_port=${API_PORT:-$(from_env_file API_PORT)}
calls_port=${CALLS_PORT:-$(from_env_file CALLS_PORT)}
api_port=${api_port:-5000}
calls_port=${calls_port:-5050}
exec .venv/bin/python -m callengine.loadtest \
  --twiml-url "http://127.0.0.1:$api_port/twilio/voice" --url "ws://127.0.0.1:$calls_port/ws/twilio" \
  --auth-token="$TWILIO_AUTH_TOKEN" --to +15550100000 "$@"
