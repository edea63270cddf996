"""A fake WhatsApp gateway shard over real HTTP (``POST /sessions/{business_id}/messages`` of
docs/ARCHITECTURE.md §7): it checks the internal secret and the shard header, dedupes by
idempotency key as the real one does, and counts deliveries per key, so a test can prove that
every recipient was delivered exactly once across crashes and retries. The broadcast benchmark
and the tests use it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeGateway"]


class FakeGateway:
    def __init__(self, secret: str, *, shard_id: int = 1, delay_seconds: float = 0.0) -> None:
        self.secret, self.shard_id, self.delay = secret, shard_id, delay_seconds
        self.lock = threading.Lock()
        self.ids: dict[str, str] = {}
        self.deliveries: Counter[str] = Counter()
        self.requests = 0
        self.duplicates = 0
        self.connections: list[socket.socket] = []  # keep-alive ones: closed on exit, as a stop does
        self.refuse: dict[str, tuple[int, dict[str, Any]]] = {}  # phone -> the error answer to give
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real gateway
            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out as two writes: without this, Nagle's algorithm and the
                # client's delayed ACK add ~40 ms to every keep-alive answer
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with gateway.lock:
                    gateway.connections.append(self.connection)

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                if self.headers.get("X-Internal-Secret") != gateway.secret:
                    return self._answer(401, {"error": "unauthorized"})
                if self.headers.get("X-WhatsApp-Shard") != str(gateway.shard_id):
                    return self._answer(421, {"error": "wrong_shard", "shard_id": gateway.shard_id})
                parts = self.path.strip("/").split("/")
                if len(parts) != 3 or parts[0] != "sessions" or parts[2] != "messages":
                    return self._answer(404, {"error": "not_found"})
                key = body.get("idempotency_key")
                if body.get("version") != 1 or not isinstance(key, str) or not body.get("to"):
                    return self._answer(400, {"error": "bad_request"})
                with gateway.lock:
                    gateway.requests += 1
                    if body["to"] in gateway.refuse:
                        return self._answer(*gateway.refuse[body["to"]])
                    if key in gateway.ids:
                        gateway.duplicates += 1
                        return self._answer(200, {"message_id": gateway.ids[key], "status": "sent", "duplicate": True})
                time.sleep(gateway.delay)  # the send itself
                with gateway.lock:
                    if key not in gateway.ids:
                        gateway.ids[key] = f"wamid.{len(gateway.ids) + 1}"
                        gateway.deliveries[key] += 1
                    return self._answer(200, {"message_id": gateway.ids[key], "status": "sent", "duplicate": False})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the client
                conn.close()

    @property
    def delivered(self) -> int:
        with self.lock:
            return sum(self.deliveries.values())
