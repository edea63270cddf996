"""A fake WhatsApp gateway shard: a real HTTP server on 127.0.0.1 in a thread speaking the
gateway contract (docs/ARCHITECTURE.md §7) — secret check, shard check (421), sessions with
states, QR, logout, sends with durable-for-the-test idempotency keys, read receipts.

Tests steer it: ``set_state(business, "connected")``, ``fail_next(status, body)`` for one
scripted error answer, ``down`` (close the port). Every request is recorded.
"""

from __future__ import annotations

import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeGateway", "Request"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeGateway:
    def __init__(self, shard_id: int = 1, secret: str = "test-internal-secret") -> None:
        self.shard_id, self.secret = shard_id, secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.sent: dict[str, dict[str, Any]] = {}  # idempotency key -> {message_id, to, text}
        self.reads: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.scripted: list[tuple[int, dict[str, Any]]] = []
        self.healthy = True
        self.supports_stop = False
        self.auth_dir: Path | None = None  # the shard's BAILEYS_DATA_DIR: start restores creds found there  # the contract has no stop route (yet); a gateway may add one
        self._lock = threading.Lock()
        self._counter = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                with fake._lock:
                    fake.requests.append(Request(self.command, self.path, dict(self.headers.items()), body))
                    status, answer = fake._answer(self.command, self.path, dict(self.headers.items()), body)
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle  # noqa: N815 (http.server's naming)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-gateway", daemon=True)

    # --- steering ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def set_state(self, business_id: int | str, state: str, *, reason: str | None = None) -> None:
        with self._lock:
            self._session(str(business_id)).update(state=state, reason=reason,
                                                  qr="2@fake-qr" if state == "qr" else None)

    def fail_next(self, status: int, body: dict[str, Any]) -> None:
        with self._lock:
            self.scripted.append((status, body))

    def __enter__(self) -> FakeGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- the contract -------------------------------------------------------------------

    def _session(self, business_id: str) -> dict[str, Any]:
        return self.sessions.setdefault(business_id, {
            "version": 1, "business_id": business_id, "shard_id": self.shard_id, "state": "stopped", "reason": None,
            "qr": None, "me": None, "updated_at": "2026-12-06T10:00:00+00:00",
        })

    def _answer(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/health":
            sessions = {s: 0 for s in ("stopped", "starting", "qr", "connected", "logged_out", "failed")}
            for item in self.sessions.values():
                sessions[item["state"]] += 1
            answer = {"status": "ok" if self.healthy else "draining", "shard_id": self.shard_id, "driver": "fake",
                      "uptime_seconds": 1.0, "sessions": sessions, "events_pending": 0}
            return (200 if self.healthy else 503), answer
        given = {k.lower(): v for k, v in headers.items()}
        if not hmac.compare_digest(given.get("x-internal-secret", "").encode(), self.secret.encode()):
            return 401, {"error": "unauthorized", "message": "bad X-Internal-Secret"}
        requested = given.get("x-whatsapp-shard", "")
        if requested != str(self.shard_id):
            return 421, {"error": "wrong_shard", "message": "not this shard", "shard_id": self.shard_id,
                         "requested": int(requested) if requested.isdigit() else None}
        if self.scripted:
            return self.scripted.pop(0)
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "sessions":
            return 404, {"error": "not_found", "message": path}
        business, action = parts[1], (parts[2] if len(parts) > 2 else "")
        session = self._session(business)
        if method == "GET" and action == "":
            return 200, session
        if method == "POST" and action == "start":
            if session["state"] in ("stopped", "logged_out", "failed"):
                restored = self.auth_dir is not None and (self.auth_dir / "auth" / business / "creds.json").is_file()
                session.update(state="connected" if restored else "qr", qr=None if restored else "2@fake-qr",
                               reason=None)
            return 200, session
        if method == "GET" and action == "qr":
            if session["state"] != "qr":
                return 404, {"error": "no_qr", "message": "not in state qr"}
            return 200, {"qr": session["qr"], "expires_at": "2026-12-06T10:01:00+00:00"}
        if method == "POST" and action == "stop" and self.supports_stop:
            session.update(state="stopped", reason=None, qr=None)
            return 200, session
        if method == "POST" and action == "logout":
            session.update(state="logged_out", reason="logged_out", qr=None, me=None)
            return 200, session
        if method == "POST" and action == "messages":
            if not isinstance(body, dict) or body.get("version") != 1 or not body.get("idempotency_key"):
                return 400, {"error": "bad_request", "message": "schema"}
            key = body["idempotency_key"]
            if key in self.sent:
                return 200, {"message_id": self.sent[key]["message_id"], "status": "sent", "duplicate": True}
            if session["state"] != "connected":
                return 409, {"error": "not_connected", "message": f"state {session['state']}"}
            self._counter += 1
            message_id = f"3EB0FAKE{self._counter:04d}"
            self.sent[key] = {"message_id": message_id, "to": body["to"], "text": body["text"]}
            return 200, {"message_id": message_id, "status": "sent", "duplicate": False}
        if method == "POST" and action == "read":
            self.reads.append({"business": business, **(body or {})})
            return 204, None
        return 404, {"error": "not_found", "message": path}
