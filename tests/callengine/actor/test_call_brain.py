"""The actor's contract with its brain: hang-up after playout, and a crashing brain."""

from __future__ import annotations

import base64

import pytest
import trio
from trio_websocket import ConnectionClosed

from callengine.events import CloseCode
from tests.conftest import start_engine
from tests.fakes.fake_brain import CrashOnDtmf, SayThenHangUp
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, open_call


async def test_brain_that_finishes_hangs_up_after_its_audio_has_played(nursery, settings):
    reporter = InMemoryReporter()
    server = await start_engine(
        nursery, settings, reporter, brains=lambda: SayThenHangUp(b"\x10" * 4000)
    )
    async with open_call(server.port) as call:
        await call.connected()
        await call.start()
        t0 = trio.current_time()
        got = await call.receive_until("mark")
        media = [base64.b64decode(m["media"]["payload"]) for m in got if m["event"] == "media"]
        assert b"".join(media) == b"\x10" * 4000
        with pytest.raises(ConnectionClosed) as closed:
            with trio.fail_after(5):
                while True:
                    await call.ws.get_message()
        # 500 ms of audio: the socket stays open until Twilio has played it
        assert trio.current_time() - t0 >= 0.45
    assert closed.value.reason.code == CloseCode.NORMAL
    assert closed.value.reason.reason == "brain finished"
    with trio.fail_after(5):
        await reporter.finalized.wait()
    assert reporter.records[0]["end_reason"] == "hangup"
    assert reporter.records[0]["transcript"] == [{"speaker": "agent", "text": "goodbye"}]


async def test_a_crashing_brain_ends_only_its_own_call(nursery, settings):
    reporter = InMemoryReporter()
    brains = iter([CrashOnDtmf(), SayThenHangUp(b"\x10" * 80000)])
    server = await start_engine(nursery, settings, reporter, brains=lambda: next(brains))
    async with open_call(server.port, call_sid="CAbad", stream_sid="MZbad") as bad:
        await bad.connected()
        await bad.start()
        async with open_call(server.port, call_sid="CAgood", stream_sid="MZgood") as good:
            await good.connected()
            await good.start()
            await good.receive()  # the good call is talking
            await bad.dtmf("5")
            with pytest.raises(ConnectionClosed) as closed:
                with trio.fail_after(5):
                    while True:
                        await bad.ws.get_message()
            assert closed.value.reason.code == CloseCode.INTERNAL_ERROR
            await good.frames(SILENCE_FRAME, 5)
            assert (await good.receive())["event"] == "media"  # still talking
            await good.stop()
    with trio.fail_after(5):
        while len(reporter.records) < 2:
            await trio.sleep(0.02)
    reasons = {r["call_sid"]: r["end_reason"] for r in reporter.records}
    assert reasons == {"CAbad": "internal_error", "CAgood": "stopped"}
