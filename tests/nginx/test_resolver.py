"""Upstream names are resolved while the gateway runs (nginx/templates/prosaas.conf.template):
a service whose name now points elsewhere (a replica added, one replaced) is reached there
without a reload, once the resolver's answer expires. A small DNS server on a free UDP port
plays docker's embedded one."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.nginx.conftest import Recorder, _recorder_handler, request, run_nginx

NAME = "api.prosaas.internal"


@dataclass
class Dns:
    """Answers every A query with ``address`` (TTL 1 s); remembers the names asked."""

    port: int
    address: str
    asked: list[str] = field(default_factory=list)


def _answer(query: bytes, address: str) -> tuple[str, bytes]:
    end, labels = 12, []
    while query[end]:
        labels.append(query[end + 1 : end + 1 + query[end]].decode())
        end += query[end] + 1
    qtype = struct.unpack(">H", query[end + 1 : end + 3])[0]
    question = query[12 : end + 5]
    records = b""
    if qtype == 1:  # A
        records = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 1, 4) + socket.inet_aton(address)
    header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if records else 0, 0, 0)
    return ".".join(labels), header + question + records


@pytest.fixture
def dns() -> Iterator[Dns]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    server = Dns(port=sock.getsockname()[1], address="127.0.0.2")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                query, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            name, reply = _answer(query, server.address)
            server.asked.append(name)
            sock.sendto(reply, peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    stop.set()
    thread.join()
    sock.close()


@pytest.fixture
def replicas() -> Iterator[tuple[Recorder, Recorder, int]]:
    """Two API stand-ins on the same port, at 127.0.0.2 and 127.0.0.3."""
    port = free_port()
    found, servers = [], []
    for address in ("127.0.0.2", "127.0.0.3"):
        recorder = Recorder(port=port)
        server = ThreadingHTTPServer((address, port), _recorder_handler(recorder))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        found.append(recorder)
        servers.append(server)
    yield found[0], found[1], port
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_moved_service_is_reached_at_its_new_address(
    tmp_path: Path, dns: Dns, replicas: tuple[Recorder, Recorder, int]
) -> None:
    first, second, api_port = replicas
    http_port = free_port()
    env = {
        "SERVER_NAME": "prosaas.test",
        "API_UPSTREAM": f"{NAME}:{api_port}",
        "CALLS_UPSTREAM": f"calls.prosaas.internal:{free_port()}",
        "FRONTEND_UPSTREAM": f"frontend.prosaas.internal:{free_port()}",
        "NGINX_RESOLVER": f"127.0.0.1:{dns.port}",
        "NGINX_RESOLVER_VALID": "1s",  # 10 s in production
        "HTTP_PORT": str(http_port),
    }
    with run_nginx(tmp_path / "etc", env, gateway=True, frontend=False, ports={"http": http_port}) as gateway:
        assert dns.asked == []  # nothing is resolved at start
        assert request(http_port, "/api/calls").status == 200, gateway.log()
        assert NAME in dns.asked and first.paths() == ["/api/calls"] and second.paths() == []
        dns.address = "127.0.0.3"  # the service moved (or a replica replaced it)
        deadline = time.monotonic() + 10
        while not second.seen:
            assert time.monotonic() < deadline, gateway.log()
            assert request(http_port, "/api/calls").status == 200
            time.sleep(0.2)
    assert second.paths()[-1] == "/api/calls"
