#!/usr/bin/env bash
# Create .venv and install ProSaaS with its dev extras. Idempotent: reruns only pip when
# setup.cfg changed. Usage: scripts/setup.sh   (PYTHON=python3.12 scripts/setup.sh to choose)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c pass 2>/dev/null || { echo "setup: cannot run $PYTHON (set PYTHON to a Python 3.11+ interpreter)" >&2; exit 1; }
"$PYTHON" - <<'PY' || { echo "setup: ProSaaS needs Python 3.11 or newer ($PYTHON is too old)" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
say() { echo "setup: $*" >&2; }
say "checking the Debian packages (redis-server, espeak-ng, postgresql, curl, make, python3-venv)"
scripts/system-packages.sh
if [ ! -x .venv/bin/python ]; then
  say "creating the virtualenv $PWD/.venv with $("$PYTHON" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.prosaas-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing pip, then ProSaaS with its dev and bench extras into .venv (pip install -e '.[dev,bench]'; a few minutes the first time)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,bench]"
  touch "$stamp"
  say "installed into $PWD/.venv"
else
  say "$PWD/.venv is up to date (Python $(.venv/bin/python -c 'import sys; print(sys.version.split()[0])'))"
fi
