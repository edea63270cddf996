#!/usr/bin/env bash
# Create bench/.venv-pipecat (separate from /work/main/.venv) and install the
# pinned Pipecat peer requirements. Idempotent: does nothing if the venv exists
# and was last installed from an identical requirements file.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$(cd "$HERE/.." && pwd)/.venv-pipecat"
REQ="$HERE/requirements-pipecat.txt"
STAMP="$VENV/.requirements-pipecat.sha256"
PY="${PYTHON:-python3.11}"
# onnxruntime >= 1.29 has 1DS telemetry on Linux (network + ~/.cache/Microsoft/...) even on import.
export ORT_DISABLE_TELEMETRY=1

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
   && "$VENV/bin/python" -c "import pipecat, onnxruntime, fastapi, uvicorn" 2>/dev/null; then
    echo "pipecat peer venv up to date: $VENV"
    exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
# Verify: imports, pinned version, the Silero ONNX model that ships in the wheel.
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md, importlib.resources as r
import pipecat, onnxruntime, fastapi, uvicorn  # noqa: F401
assert md.version("pipecat-ai") == "1.14.0", md.version("pipecat-ai")
assert r.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx").is_file()
print("pipecat-ai", md.version("pipecat-ai"), "| onnxruntime", onnxruntime.__version__)
PY
echo "$want" > "$STAMP"
echo "pipecat peer venv ready: $VENV"
