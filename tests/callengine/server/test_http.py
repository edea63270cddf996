from __future__ import annotations

import json

import pytest

from callengine.server.http import HeadError, find_head_end, parse_head, response


def test_parse_head_lowercases_and_joins_headers():
    req = parse_head(
        b"GET /ws/twilio?x=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
        b"Upgrade: WebSocket\r\nSec-WebSocket-Protocol: audio.twilio.com\r\n"
        b"Sec-WebSocket-Protocol: other\r\n\r\n"
    )
    assert req.method == "GET" and req.path == "/ws/twilio" and req.target == "/ws/twilio?x=1"
    assert req.is_websocket_upgrade
    assert req.subprotocols == ["audio.twilio.com", "other"]


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"GET / HTTP/1.0\r\n\r\n", 505),
        (b"GET /\r\n\r\n", 400),
        (b"GET http://x/ HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n Folded: x\r\n\r\n", 400),
    ],
)
def test_parse_head_rejects_malformed(head, status):
    with pytest.raises(HeadError) as err:
        parse_head(head)
    assert err.value.status == status


def test_find_head_end():
    assert find_head_end(b"GET / HTTP/1.1\r\n") == -1
    assert find_head_end(b"GET / HTTP/1.1\r\n\r\nrest") == 18


def test_response_is_complete_json():
    raw = response(503, {"a": 1}, extra_headers=[("Retry-After", "1")])
    head, body = raw.split(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable")
    assert b"Retry-After: 1" in head and b"Content-Length: 7" in head
    assert json.loads(body) == {"a": 1}
    assert response(200, {}, head_only=True).endswith(b"\r\n\r\n")
