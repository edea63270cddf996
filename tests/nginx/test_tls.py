"""The gateway with certificates mounted (nginx/templates/prosaas-tls.conf.template): HTTPS with
modern settings, plain HTTP only for /health and the redirect, unknown names refused."""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.nginx.conftest import INDEX, SERVER_NAME, Certificate, Nginx, Recorder, refused, request


def test_https_serves_every_route(tls: Nginx, certificate: Certificate, api: Recorder) -> None:
    port, ctx = tls.ports["https"], certificate.context
    assert request(port, "/health", tls=ctx).body == b"ok\n"
    seen = request(port, "/twilio/voice?x=1", tls=ctx, method="POST", body=b"a=b").json()
    assert seen["path"] == "/twilio/voice?x=1"
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["x-forwarded-proto"] == "https" and headers["host"] == SERVER_NAME
    spa = request(port, "/calls/123", tls=ctx)
    assert spa.status == 200 and spa.body == INDEX


def test_https_sends_hsts_on_every_answer(tls: Nginx, certificate: Certificate) -> None:
    port, ctx = tls.ports["https"], certificate.context
    for path in ("/health", "/api/calls", "/", "/assets/app-abc123.js", "/assets/missing.js", "/internal/x"):
        resp = request(port, path, tls=ctx)
        assert resp.headers.get("strict-transport-security") == "max-age=63072000", (path, resp.status)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_offered(tls: Nginx, certificate: Certificate, version: ssl.TLSVersion) -> None:
    ctx = ssl.create_default_context(cafile=str(certificate.directory / "fullchain.pem"))
    ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection(("127.0.0.1", tls.ports["https"]), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=SERVER_NAME) as sock:
            assert sock.version() == version.name.replace("v1_", "v1.")
            assert "GCM" in sock.cipher()[0] or "CHACHA20" in sock.cipher()[0]


def test_plain_http_redirects_to_https_keeping_the_path(tls: Nginx, api: Recorder) -> None:
    before = len(api.seen)
    for method in ("GET", "POST"):
        resp = request(tls.ports["http"], "/api/calls?page=2", method=method, body=b"" if method == "POST" else None)
        assert resp.status == 308
        assert resp.headers["location"] == f"https://{SERVER_NAME}:{tls.ports['https']}/api/calls?page=2"
        assert "strict-transport-security" not in resp.headers  # HSTS is only sent over HTTPS
    assert len(api.seen) == before


def test_plain_http_still_answers_health(tls: Nginx) -> None:
    for host in (SERVER_NAME, "10.0.0.5"):
        resp = request(tls.ports["http"], "/health", host=host)
        assert (resp.status, resp.body) == (200, b"ok\n")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_internal_is_refused_on_every_server(tls: Nginx, certificate: Certificate, scheme: str) -> None:
    ctx = certificate.context if scheme == "https" else None
    port = tls.ports[scheme]
    for host in (SERVER_NAME, "evil.example"):
        for path in ("/internal/whatsapp/events", "/api/../internal/whatsapp/events", "/internal"):
            assert request(port, path, host=host, tls=ctx).status == 404, (scheme, host, path)


def test_an_unknown_server_name_fails_the_handshake(tls: Nginx, certificate: Certificate) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", tls.ports["https"]), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME|unrecognized name"):
            ctx.wrap_socket(raw, server_hostname="evil.example")


def test_a_known_server_name_with_an_unknown_host_gets_no_answer(tls: Nginx, certificate: Certificate) -> None:
    assert refused(tls.ports["https"], "/api/calls", "evil.example", tls=certificate.context)
    assert refused(tls.ports["http"], "/api/calls", "evil.example")
