"""The actor's contract with its brain: a crashing brain ends only its own call (memory
streams, autojump clock). Hang-up after playout is in test_outbound."""

from __future__ import annotations

from callengine.admission import Admission
from callengine.events import CloseCode
from tests.fakes.fake_brain import CrashOnDtmf, SayThenHangUp
from tests.fakes.memory_call import open_memory_call
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME


async def test_a_crashing_brain_ends_only_its_own_call(settings, autojump_clock):
    reporter = InMemoryReporter()
    admission = Admission(2)
    shared = {"reporter": reporter, "admission": admission}
    async with (
        open_memory_call(settings, brain=CrashOnDtmf(), call_sid="CAbad", **shared) as bad,
        open_memory_call(
            settings, brain=SayThenHangUp(b"\x10" * 80000), call_sid="CAgood", **shared
        ) as good,
    ):
        await bad.twilio.connected()
        await bad.twilio.start()
        await good.twilio.connected()
        await good.twilio.start()
        await good.twilio.receive()  # the good call is talking
        await bad.twilio.dtmf("5")
        code, reason, _ = await bad.closed()
        assert (code, reason) == (CloseCode.INTERNAL_ERROR, "internal error")
        await good.twilio.frames(SILENCE_FRAME, 5)
        assert (await good.twilio.receive())["event"] == "media"  # still talking
        await good.twilio.stop()
    reasons = {r["call_sid"]: r["end_reason"] for r in reporter.records}
    assert reasons == {"CAbad": "internal_error", "CAgood": "stopped"}
