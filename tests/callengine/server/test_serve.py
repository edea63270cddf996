"""The calls server end to end over real sockets: HTTP routes, the handshake (signature,
admission, 503), a full call, drain. The actor's own behaviour (deadlines, bad input, pacing,
barge-in, the record) is tested over memory streams in tests/callengine/actor."""

from __future__ import annotations

import base64
import json
from contextlib import AsyncExitStack
from dataclasses import replace

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket
from twilio.request_validator import RequestValidator

from callengine.admission import Admission
from callengine.events import CloseCode
from callengine.settings import Secret, Settings
from contracts.call_token import mint_call_token
from tests.conftest import start_engine
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, SPEECH_FRAME, open_call


async def http_get(port: int, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(f"{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


async def raw_upgrade(
    port: int, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Send a WebSocket upgrade by hand and read the (refusal) response to the end."""
    lines = [
        "GET /ws/twilio HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        with trio.fail_after(5):
            while chunk := await stream.receive_some():
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    head_lines = head.decode().split("\r\n")
    parsed = dict(line.split(": ", 1) for line in head_lines[1:])
    return int(head_lines[0].split()[1]), parsed, body


async def test_health_reports_capacity_and_state(engine):
    status, headers, body = await http_get(engine.port, "/health")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["status"] == "ok"
    assert doc["active_calls"] == 0
    assert doc["capacity"] == 10
    assert (doc["pending_starts"], doc["max_pending_starts"]) == (0, 20)
    assert doc["rejected"] == {
        "full": 0,
        "pending_full": 0,
        "draining": 0,
        "signature": 0,
        "token": 0,
        "duplicate": 0,
        "ended": 0,
    }
    assert doc["redis"]["reachable"] is True
    assert doc["version"] == "test"
    assert doc["brains"] == {"default": "echo", "load": {}}  # echo shares no work


async def test_unknown_path_is_404_json(engine):
    status, _, body = await http_get(engine.port, "/nope")
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"


async def test_plain_get_on_websocket_path_is_426(engine):
    status, headers, _ = await http_get(engine.port, "/ws/twilio")
    assert status == 426
    assert headers["Upgrade"] == "websocket"


async def test_health_rejects_post(engine):
    status, headers, _ = await http_get(engine.port, "/health", method="POST")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


async def test_garbage_request_gets_400(engine):
    stream = await trio.open_tcp_stream("127.0.0.1", engine.port)
    async with stream:
        await stream.send_all(b"HELLO\r\n\r\n")
        data = await stream.receive_some()
    assert data.startswith(b"HTTP/1.1 400")


async def test_echo_call_replays_speech_then_marks(engine):
    async with open_call(engine.port, subprotocols=["audio.twilio.com"]) as call:
        assert call.ws.subprotocol == "audio.twilio.com"
        await call.connected()
        await call.start({"business_id": "b1"})
        await call.frames(SILENCE_FRAME, 10)
        await call.frames(SPEECH_FRAME, 25)  # 500 ms of speech
        await call.frames(SILENCE_FRAME, 25)  # a pause ends the turn
        messages = await call.receive_until("mark")
        media = [m for m in messages if m["event"] == "media"]
        assert media and all(m["streamSid"] == call.stream_sid for m in media)
        echoed = sum(len(base64.b64decode(m["media"]["payload"])) for m in media)
        assert 400 <= echoed // 8 <= 600  # about the 500 ms we said (+ onset pre-roll)
        await call.stop()
        with pytest.raises(ConnectionClosed) as closed:
            await call.ws.get_message()
        assert closed.value.reason.code == CloseCode.NORMAL


async def test_full_engine_refuses_with_503_and_retry_after(nursery, settings):
    settings = replace(settings, max_concurrent_calls=1)
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter)
    async with open_call(server.port) as first:
        await first.connected()
        await first.start()
        await wait_for(lambda: server.health()["active_calls"] == 1)
        status, headers, body = await raw_upgrade(server.port)
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert json.loads(body)["error"]["code"] == "full"
    health = server.health()
    assert health["rejected"]["full"] == 1
    assert {"type": "rejected", "reason": "full"} in reporter.events


async def wait_for(condition, timeout: float = 5) -> None:
    with trio.fail_after(timeout):
        while not condition():
            await trio.sleep(0.01)


async def test_handshakes_that_never_start_cannot_take_the_slots_of_calls(nursery, settings):
    # Five signed handshakes that never sent start filled MAX_CONCURRENT_CALLS=5 for 10 s and
    # real calls got 503 (issue 10). They now wait in their own small pool, a short while.
    settings = replace(
        settings, max_concurrent_calls=2, max_pending_starts=3, start_timeout_seconds=1
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter)
    async with AsyncExitStack() as stack:
        idle = []
        for i in range(2):  # as many as there are call slots
            call = await stack.enter_async_context(
                open_call(server.port, call_sid=f"CA{i:032d}", stream_sid=f"MZ{i:032d}")
            )
            await call.connected()
            idle.append(call)
        t0 = trio.current_time()
        await wait_for(lambda: server.health()["pending_starts"] == 2)
        # not refused: no call slot is taken
        real = await stack.enter_async_context(open_call(server.port))
        await real.connected()
        await real.start({"business_id": "b1"})
        await real.frames(SILENCE_FRAME, 5)
        health = server.health()
        assert (health["active_calls"], health["pending_starts"]) == (1, 2)
        third = await stack.enter_async_context(open_call(server.port, call_sid="CA" + "3" * 32))
        await third.connected()
        idle.append(third)
        await wait_for(lambda: server.health()["pending_starts"] == 3)
        # over the pending cap: refused at once, before the upgrade
        status, headers, body = await raw_upgrade(server.port)
        assert (status, headers.get("Retry-After")) == (503, "1"), (status, headers, body)
        assert json.loads(body)["error"]["code"] == "pending_full"
        for call in idle:  # each is closed at the start deadline
            assert await expect_close(call, CloseCode.START_TIMEOUT) == "no start event within 1 s"
        assert trio.current_time() - t0 < 2.5
        await real.frames(SILENCE_FRAME, 5)  # the real call is still served
        await real.stop()
        await expect_close(real, CloseCode.NORMAL)
    await wait_for(lambda: server.health()["pending_starts"] == 0)
    health = server.health()
    assert health["rejected"]["pending_full"] == 1 and health["rejected"]["full"] == 0
    assert {"type": "rejected", "reason": "pending_full"} in reporter.events
    assert [r["call_sid"] for r in reporter.records] == [real.call_sid]


async def test_draining_engine_refuses_new_calls(engine):
    engine.deps.admission.draining = True
    status, _, body = await raw_upgrade(engine.port)
    assert status == 503
    assert json.loads(body)["error"]["code"] == "draining"
    status, _, body = await http_get(engine.port, "/health")
    assert status == 503 and json.loads(body)["status"] == "draining"


@pytest.fixture
def signed_settings(settings: Settings) -> Settings:
    return replace(
        settings,
        twilio_auth_token=Secret("tw-secret"),
        public_base_url="https://calls.example.com",
        internal_secret=Secret("internal"),
    )


async def test_handshake_without_valid_signature_is_403(nursery, signed_settings):
    server = await start_engine(nursery, signed_settings)
    for headers in (None, {"X-Twilio-Signature": "bogus"}):
        status, _, body = await raw_upgrade(server.port, headers)
        assert status == 403
        assert "x-twilio-signature" in json.loads(body)["error"]["message"]
    assert server.health()["rejected"]["signature"] == 2


async def test_signed_handshake_and_token_are_accepted(nursery, signed_settings):
    server = await start_engine(nursery, signed_settings)
    signature = RequestValidator("tw-secret").compute_signature(
        "wss://calls.example.com/ws/twilio", {}
    )
    sid = "CA" + "7" * 32
    async with open_call(
        server.port, call_sid=sid, headers=[(b"x-twilio-signature", signature.encode())]
    ) as call:
        await call.connected()
        await call.start({"token": mint_call_token("internal", sid), "business_id": "b9"})
        await call.frames(SILENCE_FRAME, 5)
        await call.stop()
        with pytest.raises(ConnectionClosed) as closed:
            await call.ws.get_message()
    assert closed.value.reason.code == CloseCode.NORMAL


async def expect_close(call, code: int) -> str:
    with pytest.raises(ConnectionClosed) as closed:
        with trio.fail_after(5):
            while True:
                await call.ws.get_message()
    assert closed.value.reason.code == code, closed.value.reason
    return closed.value.reason.reason


async def test_oversize_message_closes_with_1009(nursery, settings):
    server = await start_engine(nursery, replace(settings, max_message_bytes=2048))
    async with open_call(server.port) as call:
        await call.connected()
        await call.start()
        await call.ws.send_message('{"event":"media","x":"' + "a" * 4096 + '"}')
        await expect_close(call, CloseCode.MESSAGE_TOO_BIG)


async def test_drain_lets_calls_finish_then_closes_with_1001(nursery, settings):
    reporter = InMemoryReporter()
    server = await start_engine(nursery, replace(settings, drain_timeout_seconds=0.5), reporter)
    async with open_call(server.port) as call:
        await call.connected()
        await call.start()
        await call.frames(SILENCE_FRAME, 2)
        nursery.start_soon(server.drain, 0.5)
        await call.frames(SILENCE_FRAME, 10)  # still served while draining
        await expect_close(call, CloseCode.GOING_AWAY)
    with trio.fail_after(5):
        await reporter.finalized.wait()
    assert reporter.records[0]["end_reason"] == "shutdown"


async def test_second_stream_for_a_live_call_sid_closes_4005_and_counts_in_health(
    nursery, settings
):
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter)
    sid = "CA" + "6" * 32
    async with open_call(server.port, call_sid=sid) as live:
        await live.connected()
        await live.start({"business_id": "b1"})
        async with open_call(server.port, call_sid=sid, stream_sid="MZ" + "2" * 32) as copy:
            await copy.connected()
            await copy.start({"business_id": "b1"})
            reason = await expect_close(copy, CloseCode.DUPLICATE_CALL)
        assert reason == "call already live"
        assert server.health()["rejected"]["duplicate"] == 1
        await live.frames(SILENCE_FRAME, 5)
        await live.stop()
        await expect_close(live, CloseCode.NORMAL)
    with trio.fail_after(5):
        await reporter.finalized.wait()
    assert [r["stream_sid"] for r in reporter.records] == [live.stream_sid]


async def test_plain_websocket_client_without_subprotocol_is_accepted(engine):
    async with open_websocket("127.0.0.1", engine.port, "/ws/twilio", use_ssl=False) as ws:
        assert ws.subprotocol is None


async def test_limiter_slot_is_released_after_every_ending(nursery, settings):
    admission = Admission(2)
    server = await start_engine(nursery, replace(settings, max_concurrent_calls=2), admission=admission)
    for _ in range(5):
        async with open_call(server.port) as call:
            await call.connected()
            await call.ws.send_message("garbage")
            await expect_close(call, CloseCode.PROTOCOL_ERROR)
    with trio.fail_after(2):
        while admission.statistics().active:
            await trio.sleep(0.01)
