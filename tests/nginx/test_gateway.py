"""The gateway's routes over plain HTTP (nginx/prosaas/routes.conf): which service answers each
path, what the API is told about the request, what is refused and what is too large."""

from __future__ import annotations

import socket
import time

import pytest

from tests.nginx.conftest import SERVER_NAME, Nginx, Recorder, refused, request

API_ROUTES = [
    "/api/calls?page=2&q=a%20b",
    "/api/health",
    "/twilio/voice",
    "/readyz",
    "/version",
    "/health/whatsapp",
    "/metrics.json?token=t",
]
INTERNAL = [
    "/internal/whatsapp/events",
    "/internal",
    "/internal/",
    "/api/../internal/whatsapp/events",
    "/%69nternal/whatsapp/events",
    "/api/%2e%2e/internal/whatsapp/events",
    "//internal/whatsapp/events",
    "/ws/../internal/x",
]


def test_health_is_static(plain: Nginx, api: Recorder) -> None:
    before = len(api.seen)
    resp = request(plain.ports["http"], "/health")
    assert (resp.status, resp.body) == (200, b"ok\n")
    assert len(api.seen) == before  # never proxied


@pytest.mark.parametrize("path", API_ROUTES)
def test_api_routes_reach_the_api_unchanged(plain: Nginx, api: Recorder, path: str) -> None:
    resp = request(plain.ports["http"], path, headers={"X-Forwarded-For": "6.6.6.6"})
    assert resp.status == 200, resp.body
    seen = resp.json()
    assert seen["path"] == path  # the request target as the client sent it (signatures cover it)
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["host"] == SERVER_NAME
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == SERVER_NAME
    assert headers["x-forwarded-port"] == str(plain.ports["http"])
    assert headers["x-real-ip"] == headers["x-forwarded-for"] == "127.0.0.1"  # the client's claim dropped


def test_a_post_reaches_the_api_with_its_body(plain: Nginx) -> None:
    body = b"CallSid=CA1&From=%2B15551230000"
    resp = request(plain.ports["http"], "/twilio/voice", method="POST", body=body,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert resp.status == 200 and resp.json()["method"] == "POST" and resp.json()["body_bytes"] == len(body)


def test_server_sent_events_are_not_buffered(plain: Nginx) -> None:
    sock = socket.create_connection(("127.0.0.1", plain.ports["http"]), timeout=5)
    with sock:
        sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: {SERVER_NAME}\r\n\r\n".encode())
        started = time.monotonic()
        data = b""
        while b"data: first" not in data:
            chunk = sock.recv(4096)
            assert chunk, data
            data += chunk
        # the first event arrives while the API still holds the second back for a second
        assert time.monotonic() - started < 0.8, data
        assert b"data: second" not in data


@pytest.mark.parametrize("path", INTERNAL)
def test_internal_is_refused_and_never_reaches_the_api(plain: Nginx, api: Recorder, path: str) -> None:
    resp = request(plain.ports["http"], path)
    assert resp.status == 404, (path, resp.body)
    assert resp.json()["error"]["code"] == "not_found"
    assert not [p for p in api.paths() if "internal" in p.lower() or "%69" in p]


def test_internal_is_refused_for_an_unknown_host_too(plain: Nginx) -> None:
    assert request(plain.ports["http"], "/internal/whatsapp/events", host="evil.example").status == 404


def test_unknown_host_gets_no_answer(plain: Nginx, api: Recorder) -> None:
    before = len(api.seen)
    for path in ("/", "/api/calls", "/twilio/voice", "/ws/twilio"):
        assert refused(plain.ports["http"], path, "evil.example"), path
    assert request(plain.ports["http"], "/api/calls", host="").status == 400  # an empty Host is malformed
    assert len(api.seen) == before


def test_unknown_host_still_answers_health(plain: Nginx) -> None:
    # health checkers probe by address (Host: 10.0.0.5 or localhost)
    resp = request(plain.ports["http"], "/health", host="10.0.0.5")
    assert (resp.status, resp.body) == (200, b"ok\n")


def test_a_body_over_the_upload_limit_is_refused_at_the_door(plain: Nginx, api: Recorder) -> None:
    from api.settings import DEFAULT_MAX_UPLOAD_BYTES
    from api.validation import MULTIPART_OVERHEAD_BYTES

    limit = DEFAULT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
    before = len(api.seen)
    resp = request(plain.ports["http"], "/api/attachments", method="POST", body=b"x" * (limit + 1),
                   headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert resp.status == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert len(api.seen) == before
    # the largest body the API itself accepts for an upload goes through (the API judges it)
    resp = request(plain.ports["http"], "/api/attachments", method="POST", body=b"x" * limit,
                   headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert resp.status == 200 and resp.json()["body_bytes"] == limit


def test_a_chunked_body_over_the_limit_is_refused(plain: Nginx, api: Recorder) -> None:
    from api.settings import DEFAULT_MAX_UPLOAD_BYTES
    from api.validation import MULTIPART_OVERHEAD_BYTES

    chunk = b"x" * (1 << 20)
    count = (DEFAULT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES) // len(chunk) + 1
    before = len(api.seen)
    resp = request(plain.ports["http"], "/api/attachments", method="POST", body=iter([chunk] * count),  # type: ignore[arg-type]
                   headers={"Transfer-Encoding": "chunked"})  # fmt: skip
    assert resp.status == 413
    assert len(api.seen) == before


def test_ws_paths_reach_the_calls_service(plain: Nginx, api: Recorder) -> None:
    # the calls service's own 404 (JSON), not the SPA's page and not the API
    before = len(api.seen)
    resp = request(plain.ports["http"], "/ws/nothing-here")
    assert resp.status == 404 and resp.headers["content-type"].startswith("application/json"), resp
    assert len(api.seen) == before
