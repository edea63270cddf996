#!/usr/bin/env bash
# The run command (README "Run it"): ProSaaS on one machine with its embedded defaults.
#
# Sets up .venv (scripts/setup.sh), then scripts/localstack.py run: prepares var/ (a private
# Redis, the SQLite database migrated and seeded, development secrets, the SPA built when
# stale) into var/local.env, and starts the Procfile's processes under honcho with prefixed
# logs; it prints the URLs and the login once everything answers. Ctrl-C stops everything in
# order. `make demo-call` (scripts/localstack.py demo-call) then replays a demo call against it.
# Options go to scripts/localstack.py (--help); API_PORT, CALLS_PORT, BAILEYS_PORT,
# LOCAL_REDIS_PORT, DATABASE_URL, FRONTEND_BUILD=0 and RUN_WHATSAPP=0 are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python scripts/localstack.py run "$@"
