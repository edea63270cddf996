"""The real Node gateway (``node baileys/src/server.js``, fake driver) seen from Python: its
answers validate against the shared schemas in ``contracts/whatsapp/schemas``, and the events it
posts verify with ``contracts.webhook_signature.verify`` and validate too (docs/ARCHITECTURE.md §7).
``make test`` installs the gateway's packages first (scripts/test-baileys.sh)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contracts.webhook_signature import verify
from tests.contracts.test_whatsapp_schemas import validator

ROOT = Path(__file__).resolve().parents[2]
SECRET = "python-side-internal-secret-0123"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "baileys" / "node_modules").is_dir(),
    reason="needs Node 20+ and baileys/node_modules (scripts/test-baileys.sh installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Receiver(BaseHTTPRequestHandler):
    events: list[dict[str, Any]] = []
    refused: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ok = self.path == "/internal/whatsapp/events" and verify(
            SECRET, body, self.headers.get("X-ProSaaS-Timestamp", ""),
            self.headers.get("X-ProSaaS-Signature", ""), now=time.time(),
        )
        if not ok:
            type(self).refused.append(self.path)
            self.send_response(401)
            self.end_headers()
            return
        type(self).events.append(json.loads(body))
        payload = b'{"stored":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence
        return


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[str]:
    _Receiver.events = []
    _Receiver.refused = []
    api = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=api.serve_forever, daemon=True)
    thread.start()
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "NODE_ENV": "test", "WA_DRIVER": "fake", "INTERNAL_SECRET": SECRET,
        "BAILEYS_PORT": str(port), "BAILEYS_DATA_DIR": str(tmp_path / "shard-1"), "LOG_LEVEL": "warn",
        "API_URL": f"http://127.0.0.1:{api.server_address[1]}", "WA_DRAIN_SECONDS": "2",
    }
    proc = subprocess.Popen(["node", str(ROOT / "baileys" / "src" / "server.js")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _health(base), "the gateway to listen")
        yield base
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        api.shutdown()
        api.server_close()
        thread.join()


def _health(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _wait(check: Any, what: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def call(base: str, method: str, path: str, body: object = None, shard: str = "1") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers={
        "X-Internal-Secret": SECRET, "X-WhatsApp-Shard": shard, **({"Content-Type": "application/json"} if data else {}),
    })
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        err.close()
        return err.code, json.loads(raw) if raw else None


def test_the_gateway_speaks_the_shared_contract(gateway: str) -> None:
    base = gateway
    with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
        validator("health.json").validate(json.loads(r.read()))
    status, body = call(base, "POST", "/sessions/42/start", shard="2")
    assert (status, body["error"]) == (421, "wrong_shard")
    validator("error.json").validate(body)
    status, body = call(base, "POST", "/sessions/42/start")
    assert status == 200
    validator("session.json").validate(body)
    _wait(lambda: call(base, "GET", "/sessions/42")[1]["state"] == "qr", "qr")
    status, body = call(base, "GET", "/sessions/42/qr")
    validator("qr.json").validate(body)
    assert call(base, "POST", "/fake/42/scan", {"phone": "+15551230000", "lid": "555@lid"})[0] == 200
    _wait(lambda: call(base, "GET", "/sessions/42")[1]["state"] == "connected", "connected")
    send = {"version": 1, "to": "+15557654321", "text": "hello", "media": None, "idempotency_key": "py-1"}
    status, first = call(base, "POST", "/sessions/42/messages", send)
    assert status == 200
    validator("send_response.json").validate(first)
    assert call(base, "POST", "/sessions/42/messages", send)[1] == {**first, "duplicate": True}
    assert call(base, "POST", "/fake/42/inbound", {"from_lid": "98765@lid", "text": "via lid"})[0] == 200
    assert call(base, "POST", "/fake/42/limit", {"until": "2099-01-01T00:00:00.000Z"})[0] == 200
    status, body = call(base, "POST", "/sessions/42/messages", {**send, "to": "+15550009999", "idempotency_key": "py-2"})
    assert (status, body["error"], body["until"]) == (423, "reach_out_limited", "2099-01-01T00:00:00.000Z")
    _wait(lambda: any(e["type"] == "session.limited" for e in _Receiver.events), "session.limited")
    _wait(lambda: any(e["type"] == "message.inbound" for e in _Receiver.events), "message.inbound")
    assert not _Receiver.refused
    envelope = validator("event_envelope.json")
    for event in _Receiver.events:
        envelope.validate(event)
    seqs = [e["seq"] for e in _Receiver.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    inbound = next(e for e in _Receiver.events if e["type"] == "message.inbound")
    assert (inbound["data"]["from_phone"], inbound["data"]["from_lid"]) == (None, "98765@lid")
    states = [e["data"]["state"] for e in _Receiver.events if e["type"] == "session.state"]
    assert states[:2] == ["starting", "qr"] and "connected" in states
