"""The real nginx binary with the repository's templates, rendered as ``make run`` renders them
(scripts/nginx_conf.py), on free ports with a self-signed certificate.

Behind the gateway: a real calls service (``python -m callengine``, signatures checked), the
frontend server (nginx again, serving a tiny fake ``dist``) and, for the API's routes, a
recording HTTP server that answers with what it received (the path and headers the gateway
forwarded) so a test can also see which requests never reached it.
"""

from __future__ import annotations

import datetime
import http.client
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import SHARED_REDIS, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVER_NAME = "prosaas.test"
AUTH_TOKEN = "nginx-test-twilio-token"
PUBLIC_BASE_URL = f"https://{SERVER_NAME}"

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (scripts/system-packages.sh)")


def load_nginx_conf() -> ModuleType:
    """scripts/nginx_conf.py (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("nginx_conf", ROOT / "scripts" / "nginx_conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nginx_conf = load_nginx_conf()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection(http.client.HTTPConnection):
    def __init__(self, port: int, tls: ssl.SSLContext | None, sni: str | None) -> None:
        super().__init__("127.0.0.1", port, timeout=10)
        self._tls, self._sni = tls, sni

    def connect(self) -> None:
        super().connect()
        if self._tls is not None:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._sni)


def request(
    port: int,
    path: str,
    *,
    host: str = SERVER_NAME,
    method: str = "GET",
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    sni: str | None = SERVER_NAME,
) -> Response:
    """One request to 127.0.0.1:``port`` with this Host (and, over TLS, this server name)."""
    conn = _Connection(port, tls, sni)
    try:
        chunked = (headers or {}).get("Transfer-Encoding") == "chunked"
        conn.request(method, path, body=body, headers={"Host": host, **(headers or {})}, encode_chunked=chunked)
        resp = conn.getresponse()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


@dataclass
class Recorder:
    """The API's stand-in: answers 200 with the request it got, as JSON, and remembers it."""

    port: int
    seen: list[dict[str, Any]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r["path"] for r in self.seen]


def _recorder_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            size = 0
            while size < length:
                size += len(self.rfile.read(min(1 << 20, length - size)))
            seen = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body_bytes": size}
            recorder.seen.append(seen)
            if self.path == "/api/events":  # server-sent events: one now, one a second later
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(b"data: first\n\n")
                self.wfile.flush()
                time.sleep(1.0)
                self.wfile.write(b"data: second\n\n")
                self.wfile.flush()
                self.close_connection = True
                return
            body = json.dumps(seen).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(scope="package")
def api() -> Iterator[Recorder]:
    recorder = Recorder(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _recorder_handler(recorder))
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="package")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``python -m callengine`` checking Twilio signatures over PUBLIC_BASE_URL's wss:// URL."""
    tmp = tmp_path_factory.mktemp("calls")
    port = free_port()
    env = {
        **os.environ,
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(port),
        "REDIS_URL": SHARED_REDIS,
        "CALLS_SPOOL_DIR": str(tmp / "spool"),
        "RECORDINGS_DIR": str(tmp / "recordings"),
        "CALLS_INSTANCE_ID": "nginx-test",
        "CALLS_BRAIN": "echo",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    }
    env.pop("INTERNAL_SECRET", None)
    log = tmp / "calls.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "callengine"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        if not wait_for_port(port, proc):
            pytest.fail(f"the calls service did not start: {log.read_text()}")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Nginx:
    prefix: Path
    ports: dict[str, int]

    def log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text() if path.exists() else ""


@contextmanager
def run_nginx(prefix: Path, env: Mapping[str, str], *, gateway: bool, frontend: bool, certs: Path | None = None,
              ports: Mapping[str, int]) -> Iterator[Nginx]:  # fmt: skip
    conf = nginx_conf.prepare(prefix, gateway=gateway, frontend=frontend, env=env, certs=certs)
    out = prefix.parent / f"{prefix.name}.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], stdout=sink, stderr=subprocess.STDOUT
        )
    server = Nginx(prefix, dict(ports))
    try:
        for port in ports.values():
            if not wait_for_port(port, proc, timeout=10):
                pytest.fail(f"nginx did not listen on {port}: {out.read_text()}{server.log()}")
        yield server
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


ASSET = b"export function app() { return 'ProSaaS'; }\n" * 200  # well over gzip_min_length
INDEX = b"<!doctype html><html><head><script type=module src=/assets/app-abc123.js></script></head></html>\n"


@pytest.fixture(scope="package")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the SPA's build output (frontend/dist)."""
    root = tmp_path_factory.mktemp("dist")
    (root / "assets").mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "assets" / "app-abc123.js").write_bytes(ASSET)
    (root / "assets" / "app-abc123.css").write_bytes(b"body { margin: 0 }\n" * 200)
    return root


@pytest.fixture(scope="package")
def frontend(tmp_path_factory: pytest.TempPathFactory, dist: Path) -> Iterator[Nginx]:
    """The frontend container's server on its own."""
    port = free_port()
    env = {"FRONTEND_LISTEN": f"127.0.0.1:{port}", "SPA_ROOT": str(dist)}
    with run_nginx(tmp_path_factory.mktemp("frontend") / "etc", env, gateway=False, frontend=True,
                   ports={"http": port}) as server:  # fmt: skip
        yield server


def gateway_env(api: Recorder, calls: int, frontend: Nginx, http_port: int, https_port: int) -> dict[str, str]:
    return {
        "SERVER_NAME": f"{SERVER_NAME} 127.0.0.1",  # the harness sends Host: 127.0.0.1:port
        "API_UPSTREAM": f"127.0.0.1:{api.port}",
        "CALLS_UPSTREAM": f"127.0.0.1:{calls}",
        "FRONTEND_UPSTREAM": f"127.0.0.1:{frontend.ports['http']}",
        "NGINX_RESOLVER": "127.0.0.1",
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
    }


@pytest.fixture(scope="package")
def plain(tmp_path_factory: pytest.TempPathFactory, api: Recorder, calls: int, frontend: Nginx) -> Iterator[Nginx]:
    """The gateway without certificates: plain HTTP."""
    http_port, https_port = free_port(), free_port()
    env = gateway_env(api, calls, frontend, http_port, https_port)
    with run_nginx(tmp_path_factory.mktemp("plain") / "etc", env, gateway=True, frontend=False,
                   ports={"http": http_port}) as server:  # fmt: skip
        yield server


@dataclass
class Certificate:
    directory: Path
    context: ssl.SSLContext  # a client context that trusts it


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for SERVER_NAME (and 127.0.0.1): fullchain.pem + privkey.pem."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(cafile=str(directory / "fullchain.pem"))
    return Certificate(directory, context)


@pytest.fixture(scope="package")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="package")
def tls(
    tmp_path_factory: pytest.TempPathFactory, api: Recorder, calls: int, frontend: Nginx, certificate: Certificate
) -> Iterator[Nginx]:
    """The gateway with certificates mounted: HTTPS, and HTTP for /health and the redirect."""
    http_port, https_port = free_port(), free_port()
    env = gateway_env(api, calls, frontend, http_port, https_port)
    with run_nginx(tmp_path_factory.mktemp("tls") / "etc", env, gateway=True, frontend=False,
                   certs=certificate.directory, ports={"http": http_port, "https": https_port}) as server:  # fmt: skip
        yield server


def refused(port: int, path: str, host: str, **kwargs: Any) -> bool:
    """True when the server closes the connection without an answer (nginx's 444)."""
    try:
        request(port, path, host=host, **kwargs)
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return True
    return False


def raw_exchange(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data``; the response head (up to the blank line)."""
    sock.sendall(data)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head
