#!/usr/bin/env bash
# Install the Debian packages ProSaaS needs beyond Python, when missing: redis-server (tests and
# `make run` start a private one if no Redis answers), postgresql (the tests run on it too),
# espeak-ng (the receptionist's voice;
# shipped clips otherwise), dovecot-imapd (the email-sync tests start a private IMAP server;
# its system service is never used), nginx (the tests start a private one with the production
# config; its system service is never used), chromium (the SPA's end-to-end tests drive it
# headless through playwright-core), python3-venv, curl, sqlite3 and openssl (commands of
# docs/RUNBOOK.md that tests/runbook/ runs), make. Runs apt-get as root or through
# passwordless sudo; otherwise prints the one command to run and carries on.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # tests: a private cluster if none answers
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)  # tests: a private IMAP server (tests/jobs/dovecot.py)
[ -x /usr/sbin/nginx ] || need+=(nginx)  # tests: a private nginx on free ports (tests/nginx/)
[ -x /usr/bin/chromium ] || need+=(chromium)  # tests: the SPA end to end (frontend/e2e/)
command -v curl >/dev/null || need+=(curl)
command -v sqlite3 >/dev/null || need+=(sqlite3)  # the runbook's local backup command (tests/runbook/)
command -v openssl >/dev/null || need+=(openssl)  # the runbook's new-secret command (tests/runbook/)
command -v make >/dev/null || need+=(make)
"${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
# The WhatsApp gateway (baileys/) needs Node.js 20+ with npm; Debian's nodejs may be older, so
# only advise (NodeSource or nvm), never install it here.
if ! command -v node >/dev/null || ! command -v npm >/dev/null \
  || ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  echo "setup: the WhatsApp gateway needs Node.js 20+ and npm (found: $(node --version 2>/dev/null || echo none))" >&2
  echo "setup: install them with: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs" >&2
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "setup: missing Debian packages: ${need[*]}" >&2
  echo "setup: install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup: missing packages ${need[*]} (no apt-get here: install them by hand)" >&2
  exit 0
fi
echo "setup: installing ${need[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >&2
for service in dovecot nginx; do
  # The packages start system servers (IMAP on 143/993, HTTP on 80); the tests start their own.
  if command -v systemctl >/dev/null; then
    "${sudo[@]}" systemctl disable --now "$service.service" >/dev/null 2>&1 || true
  fi
  if command -v service >/dev/null; then "${sudo[@]}" service "$service" stop >/dev/null 2>&1 || true; fi
done
