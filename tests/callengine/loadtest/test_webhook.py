"""The --twiml-url path: a signed voice webhook, then <Connect><Stream> or <Reject>."""

from __future__ import annotations

from functools import partial
from urllib.parse import parse_qsl

import h11
import orjson
import pytest
import trio
from trio_websocket import WebSocketRequest, serve_websocket
from twilio.request_validator import RequestValidator

from callengine.loadtest import LoadTestConfig, run_load_test
from callengine.loadtest.errors import WebhookError
from callengine.loadtest.twiml import parse_twiml, public_ws_url

AUTH_TOKEN = "auth-token"


async def _http_once(stream: trio.SocketStream, *, twiml: str, seen: list[dict[str, str]], port: int) -> None:
    conn = h11.Connection(h11.SERVER)
    body = b""
    request: h11.Request | None = None
    async with stream:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive_some(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        assert request is not None
        form = dict(parse_qsl(body.decode()))
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        url = f"http://127.0.0.1:{port}{request.target.decode()}"
        signature = headers.get("x-twilio-signature", "")
        form["_valid"] = str(RequestValidator(AUTH_TOKEN).validate(url, dict(form), signature))
        seen.append(form)
        data = twiml.encode()
        await stream.send_all(
            conn.send(
                h11.Response(
                    status_code=200, headers=[("Content-Type", "text/xml"), ("Content-Length", str(len(data)))]
                )
            )
            + conn.send(h11.Data(data=data))
            + conn.send(h11.EndOfMessage())
        )


async def _serve_http(nursery: trio.Nursery, twiml: str) -> tuple[int, list[dict[str, str]]]:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    seen: list[dict[str, str]] = []
    await nursery.start(trio.serve_listeners, partial(_http_once, twiml=twiml, seen=seen, port=port), listeners)
    return port, seen


async def test_webhook_connect_stream_follows_twiml(nursery: trio.Nursery) -> None:
    starts: list[dict[str, object]] = []
    handshake_sigs: list[str] = []

    async def ws_handler(request: WebSocketRequest) -> None:
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        handshake_sigs.append(headers.get("x-twilio-signature", ""))
        ws = await request.accept(subprotocol="audio.twilio.com")
        while True:
            msg = orjson.loads(await ws.get_message())
            if msg["event"] == "start":
                starts.append(msg["start"])
            if msg["event"] == "stop":
                await ws.aclose()
                return

    ws_server = await nursery.start(serve_websocket, ws_handler, "127.0.0.1", 0, None)
    stream_url = f"ws://127.0.0.1:{ws_server.port}/ws/twilio"
    twiml = (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect action="/twilio/stream-ended">'
        f'<Stream url="{stream_url}"><Parameter name="business_id" value="42"/></Stream></Connect></Response>'
    )
    port, seen = await _serve_http(nursery, twiml)
    config = LoadTestConfig(
        twiml_url=f"http://127.0.0.1:{port}/twilio/voice",
        calls=1,
        scenario="silence",
        duration_s=1.0,
        auth_token=AUTH_TOKEN,
        to_number="+15551234567",
    )
    results = await run_load_test(config)
    assert results["calls"]["completed"] == 1
    assert results["webhook_ms"]["n"] == 1
    form = seen[0]
    assert form["_valid"] == "True"
    assert (form["Direction"], form["CallStatus"], form["To"]) == ("inbound", "ringing", "+15551234567")
    assert starts[0]["customParameters"] == {"business_id": "42"}
    assert starts[0]["callSid"] == form["CallSid"]
    assert RequestValidator(AUTH_TOKEN).validate(stream_url, {}, handshake_sigs[0])


async def test_webhook_reject_counts_as_refused(nursery: trio.Nursery) -> None:
    port, _ = await _serve_http(nursery, '<Response><Reject reason="busy"/></Response>')
    config = LoadTestConfig(
        twiml_url=f"http://127.0.0.1:{port}/twilio/voice", calls=2, scenario="silence", duration_s=1.0
    )
    results = await run_load_test(config)
    assert results["calls"]["refused"] == 2
    assert results["calls"]["refused_reasons"] == {"<Reject reason=busy>": 2}


def test_parse_twiml_resolves_relative_stream_urls() -> None:
    answer = parse_twiml(
        b'<Response><Connect><Stream url="/ws/twilio"/></Connect></Response>', "https://calls.example.com/twilio/voice"
    )
    assert answer.stream_url == "wss://calls.example.com/ws/twilio"
    assert parse_twiml(b"<Response><Reject/></Response>", "http://x/").reject_reason == "rejected"
    with pytest.raises(WebhookError):
        parse_twiml(b"<Response><Say>hi</Say></Response>", "http://x/")
    with pytest.raises(WebhookError):
        parse_twiml(b"not xml", "http://x/")


def test_public_url_maps_schemes() -> None:
    assert public_ws_url("ws://127.0.0.1:5050/ws/twilio") == "wss://127.0.0.1:5050/ws/twilio"
    assert public_ws_url("http://host/ws") == "https://host/ws"
    assert public_ws_url("wss://host/ws") == "wss://host/ws"
