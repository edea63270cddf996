#!/usr/bin/env bash
# Install the Debian packages ProSaaS needs beyond Python, when missing: redis-server (tests and
# `make run` start a private one if no Redis answers), postgresql (the tests run on it too),
# espeak-ng (the receptionist's voice;
# shipped clips otherwise), dovecot-imapd (the email-sync tests start a private IMAP server;
# its system service is never used), python3-venv, curl, make. Runs apt-get as root or through
# passwordless sudo; otherwise prints the one command to run and carries on.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # tests: a private cluster if none answers
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)  # tests: a private IMAP server (tests/jobs/dovecot.py)
command -v curl >/dev/null || need+=(curl)
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
if [[ " ${need[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null; then
  # The package starts a system IMAP server on 143/993; the tests start their own, so stop it.
  "${sudo[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
fi
