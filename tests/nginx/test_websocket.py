"""Twilio's media stream through the gateway to a real calls service that checks
X-Twilio-Signature over PUBLIC_BASE_URL's wss:// URL: the harness's calls, the subprotocol, a
bad signature refused, over plain HTTP and over TLS."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from callengine.loadtest.twiml import sign
from tests.nginx.conftest import (
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    ROOT,
    SERVER_NAME,
    Certificate,
    Nginx,
    raw_exchange,
)

STREAM = PUBLIC_BASE_URL.replace("https://", "wss://") + "/ws/twilio"


def harness(port: int, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callengine.loadtest", "--url", f"ws://127.0.0.1:{port}/ws/twilio",
         "--auth-token", AUTH_TOKEN, "--calls", "2", "--duration", "2", "--quiet", "--json", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_calls_go_through_the_gateway(plain: Nginx, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    run = harness(plain.ports["http"], out, "--public-url", STREAM)
    assert run.returncode == 0, run.stdout + run.stderr + plain.log()
    calls = json.loads(out.read_text())["per_call"]
    assert len(calls) == 2 and all(call["outcome"] == "completed" for call in calls), calls


def test_a_signature_over_another_url_is_refused_by_the_calls_service(plain: Nginx, tmp_path: Path) -> None:
    # signed over ws://127.0.0.1:port mapped to wss:// — not the public URL the service checks
    out = tmp_path / "run.json"
    run = harness(plain.ports["http"], out)
    assert run.returncode == 1
    calls = json.loads(out.read_text())["per_call"]
    assert all(call["outcome"] == "refused" for call in calls), calls
    assert "403" in json.dumps(calls)


def _upgrade(sock: socket.socket, signature: str) -> bytes:
    return raw_exchange(sock, (
        "GET /ws/twilio HTTP/1.1\r\n"
        f"Host: {SERVER_NAME}\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Protocol: audio.twilio.com\r\n"
        f"X-Twilio-Signature: {signature}\r\n\r\n"
    ).encode())  # fmt: skip


def test_the_upgrade_over_tls_keeps_the_subprotocol(tls: Nginx, certificate: Certificate) -> None:
    with socket.create_connection(("127.0.0.1", tls.ports["https"]), timeout=5) as raw:
        with certificate.context.wrap_socket(raw, server_hostname=SERVER_NAME) as sock:
            head = _upgrade(sock, sign(AUTH_TOKEN, STREAM)).decode()
    assert head.startswith("HTTP/1.1 101"), head
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in head.strip().split("\r\n")[1:])}
    assert headers["upgrade"].lower() == "websocket"
    assert headers["sec-websocket-protocol"] == "audio.twilio.com"
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_an_unsigned_upgrade_over_tls_is_refused(tls: Nginx, certificate: Certificate) -> None:
    with socket.create_connection(("127.0.0.1", tls.ports["https"]), timeout=5) as raw:
        with certificate.context.wrap_socket(raw, server_hostname=SERVER_NAME) as sock:
            head = _upgrade(sock, sign("another-token", STREAM)).decode()
    assert head.startswith("HTTP/1.1 403"), head
