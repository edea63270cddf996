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
scripts/system-packages.sh
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.prosaas-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev,bench]"
  touch "$stamp"
fi
