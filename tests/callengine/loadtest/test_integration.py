"""The harness against tiny trio-websocket servers on 127.0.0.1 (real sockets, a few seconds)."""

from __future__ import annotations

import base64
import warnings
from typing import Any

import orjson
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket

from callengine.loadtest import LoadTestConfig, run_load_test
from contracts.call_token import mint_call_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SECRET = "test-secret"
VOICED_RMS = 300
ENDPOINT_FRAMES = 10  # 200 ms of silence ends the caller's turn
CHUNK_FRAMES = 5  # reply in 100 ms chunks


class EchoServer:
    """Echo-ish Twilio peer: replays each utterance after end of turn, clears on barge-in."""

    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []
        self.dtmf: list[str] = []
        self.marks_back: list[str] = []
        self.sequence_ok = True
        self.text_only = True

    async def handle(self, request: WebSocketRequest) -> None:
        ws = await request.accept(subprotocol="audio.twilio.com")
        async with trio.open_nursery() as nursery:
            await self._serve(ws, nursery)
            nursery.cancel_scope.cancel()

    async def _serve(self, ws: WebSocketConnection, nursery: trio.Nursery) -> None:
        utterance: list[bytes] = []
        quiet = 0
        stream_sid = ""
        expected_seq = 1
        reply: trio.CancelScope | None = None
        playing_until = 0.0
        while True:
            try:
                raw = await ws.get_message()
            except ConnectionClosed:
                return
            if not isinstance(raw, str):
                self.text_only = False
            msg = orjson.loads(raw)
            event = msg["event"]
            if event != "connected":
                if msg.get("sequenceNumber") != str(expected_seq):
                    self.sequence_ok = False
                expected_seq += 1
            if event == "start":
                self.starts.append(msg["start"])
                stream_sid = msg["streamSid"]
            elif event == "dtmf":
                self.dtmf.append(msg["dtmf"]["digit"])
            elif event == "mark":
                self.marks_back.append(msg["mark"]["name"])
            elif event == "stop":
                return
            elif event == "media":
                frame = base64.b64decode(msg["media"]["payload"])
                voiced = audioop.rms(audioop.ulaw2lin(frame, 2), 2) > VOICED_RMS
                now = trio.current_time()
                if voiced and now < playing_until and reply is not None:
                    reply.cancel()
                    reply = None
                    playing_until = 0.0
                    await ws.send_message(orjson.dumps({"event": "clear", "streamSid": stream_sid}).decode())
                if voiced or utterance:
                    utterance.append(frame)
                    quiet = 0 if voiced else quiet + 1
                    if quiet >= ENDPOINT_FRAMES:
                        spoken = utterance[:-quiet]
                        reply = trio.CancelScope()
                        playing_until = now + len(spoken) * 0.02
                        nursery.start_soon(self._reply, ws, stream_sid, spoken, reply)
                        utterance, quiet = [], 0

    async def _reply(self, ws: WebSocketConnection, sid: str, frames: list[bytes], scope: trio.CancelScope) -> None:
        with scope:
            t0 = trio.current_time()
            chunks = [b"".join(frames[i : i + CHUNK_FRAMES]) for i in range(0, len(frames), CHUNK_FRAMES)]
            for k, chunk in enumerate(chunks):
                await trio.sleep_until(t0 + max(0, k - 2) * CHUNK_FRAMES * 0.02)  # keep ~200 ms ahead
                payload = base64.b64encode(chunk).decode()
                await ws.send_message(
                    orjson.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}}).decode()
                )
            await ws.send_message(
                orjson.dumps({"event": "mark", "streamSid": sid, "mark": {"name": "reply-end"}}).decode()
            )


async def test_two_talking_calls_against_echo_server(nursery: trio.Nursery) -> None:
    echo = EchoServer()
    server = await nursery.start(serve_websocket, echo.handle, "127.0.0.1", 0, None)
    config = LoadTestConfig(
        url=f"ws://127.0.0.1:{server.port}/ws/twilio",
        calls=2,
        ramp_s=0.05,
        scenario="talk",
        duration_s=2.3,
        speech_s=0.6,
        pause_s=0.5,
        params={"business_id": "7"},
        token_secret=SECRET,
        auth_token="tok",
    )
    results = await run_load_test(config)

    calls = results["calls"]
    assert (calls["attempted"], calls["connected"], calls["completed"], calls["failed"]) == (2, 2, 2, 0)
    assert results["inbound"]["media_sent"] == 2 * 115
    assert results["outbound"]["media"] > 0 and results["outbound"]["bytes"] > 0
    assert results["outbound"]["clears"] >= 2
    assert results["barge_in"]["cleared"] >= 2
    assert results["barge_in"]["latency_ms"]["p99"] < 250
    assert results["marks"]["echoed"] == results["marks"]["received"] >= 2
    assert results["outbound"]["wrong_stream_sid"] == 0
    assert results["inbound"]["lateness_ms"]["p50"] < 20
    assert echo.sequence_ok and echo.text_only
    assert len(echo.starts) == 2
    for start in echo.starts:
        params = start["customParameters"]
        assert params["business_id"] == "7"
        assert params["token"] == mint_call_token(SECRET, start["callSid"])
    assert set(echo.marks_back) == {"reply-end"}
    assert results["slo"]["ok"] is True


async def test_dtmf_session_digits_reach_server(nursery: trio.Nursery) -> None:
    echo = EchoServer()
    server = await nursery.start(serve_websocket, echo.handle, "127.0.0.1", 0, None)
    config = LoadTestConfig(url=f"ws://127.0.0.1:{server.port}/ws/twilio", calls=1, scenario="dtmf", duration_s=2.6)
    results = await run_load_test(config)
    assert results["calls"]["completed"] == 1
    assert echo.dtmf == ["1", "2"]
    assert results["inbound"]["dtmf_sent"] == 2


async def test_full_server_is_counted_as_refused_with_status(nursery: trio.Nursery) -> None:
    async def full(request: WebSocketRequest) -> None:
        await request.reject(503, extra_headers=[(b"Retry-After", b"1")], body=b"full")

    server = await nursery.start(serve_websocket, full, "127.0.0.1", 0, None)
    config = LoadTestConfig(url=f"ws://127.0.0.1:{server.port}/ws/twilio", calls=2, scenario="silence", duration_s=1.0)
    results = await run_load_test(config)
    calls = results["calls"]
    assert (calls["refused"], calls["connected"], calls["failed"]) == (2, 0, 0)
    assert calls["refused_by_status"] == {"503": 2}
    assert calls["retry_after"] == ["1"]


async def test_unreachable_server_counts_failures() -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens on this port any more
    config = LoadTestConfig(url=f"ws://127.0.0.1:{port}/ws/twilio", calls=1, scenario="silence", duration_s=1.0)
    results = await run_load_test(config)
    assert results["calls"]["failed"] == 1
    assert "connection error" in results["calls"]["failures"][0]["reason"]


@pytest.mark.parametrize("close_code", [1011])
async def test_server_closing_early_is_a_failure_with_code(nursery: trio.Nursery, close_code: int) -> None:
    async def closer(request: WebSocketRequest) -> None:
        ws = await request.accept(subprotocol="audio.twilio.com")
        await ws.get_message()  # connected
        await ws.get_message()  # start
        await ws.aclose(code=close_code, reason="brain crashed")

    server = await nursery.start(serve_websocket, closer, "127.0.0.1", 0, None)
    config = LoadTestConfig(url=f"ws://127.0.0.1:{server.port}/ws/twilio", calls=1, scenario="silence", duration_s=2.0)
    results = await run_load_test(config)
    failure = results["calls"]["failures"][0]
    assert results["calls"]["failed"] == 1
    assert (failure["close_code"], failure["close_reason"], failure["closed_by"]) == (
        close_code,
        "brain crashed",
        "server",
    )


async def test_a_normal_close_from_the_server_is_a_hang_up_not_a_failure(nursery: trio.Nursery) -> None:
    async def hang_up(request: WebSocketRequest) -> None:
        ws = await request.accept(subprotocol="audio.twilio.com")
        await ws.get_message()  # connected
        await ws.get_message()  # start
        await ws.aclose(code=1000, reason="brain finished")

    server = await nursery.start(serve_websocket, hang_up, "127.0.0.1", 0, None)
    config = LoadTestConfig(url=f"ws://127.0.0.1:{server.port}/ws/twilio", calls=1, scenario="silence", duration_s=2.0)
    results = await run_load_test(config)
    assert (results["calls"]["hung_up"], results["calls"]["failed"], results["calls"]["completed"]) == (1, 0, 0)
