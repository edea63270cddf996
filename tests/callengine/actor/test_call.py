"""The call's lifecycle over memory streams, on the autojump clock: the start, bad input, the
silence and length deadlines, shutdown, and the call record."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace

import pytest
import trio

from callengine.admission import MAX_ENDED_SIDS, Admission
from callengine.events import CloseCode
from callengine.settings import Secret, Settings
from contracts.call_token import mint_call_token
from tests.fakes.memory_call import open_memory_call
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, SPEECH_FRAME


async def test_no_start_within_deadline_closes_4000(settings, autojump_clock):
    settings = replace(settings, start_timeout_seconds=3)
    async with open_memory_call(settings) as call:
        t0 = trio.current_time()
        await call.twilio.connected()
        code, reason, at = await call.closed()
    assert code == CloseCode.START_TIMEOUT
    assert reason == "no start event within 3 s"
    assert at - t0 == 3
    assert call.reporter.records == []


async def test_by_default_a_stream_without_start_is_closed_after_2_s(settings, autojump_clock):
    # Twilio sends start 20-40 ms after connected (tests/fixtures/twilio/*.jsonl); a handshake
    # that never does held its slot for 10 s (issue 10).
    assert Settings.from_env({}).start_timeout_seconds == settings.start_timeout_seconds == 2
    async with open_memory_call(settings) as call:
        t0 = trio.current_time()
        await call.twilio.connected()
        code, reason, at = await call.closed()
    assert (code, reason) == (CloseCode.START_TIMEOUT, "no start event within 2 s")
    assert at - t0 == 2
    stats = call.admission.statistics()
    assert (stats.active, stats.pending) == (0, 0)


async def test_streams_waiting_for_start_do_not_hold_call_slots(settings, autojump_clock):
    reporter = InMemoryReporter()
    admission = Admission(2, max_pending=5)
    async with AsyncExitStack() as stack:
        idle = []
        for i in range(3):  # more than MAX_CONCURRENT_CALLS, none of which ever starts
            call = await stack.enter_async_context(
                open_memory_call(settings, admission=admission, call_sid=f"CA{i:032d}")
            )
            await call.twilio.connected()
            idle.append(call)
        assert (admission.statistics().active, admission.statistics().pending) == (0, 3)
        real = await stack.enter_async_context(
            open_memory_call(settings, admission=admission, reporter=reporter)
        )
        await real.twilio.connected()
        await real.twilio.start({"business_id": "b1"})
        await real.twilio.frames(SILENCE_FRAME, 5)
        assert (admission.statistics().active, admission.statistics().pending) == (1, 3)
        assert [c.call_sid for c in admission.borrowers()] == [real.twilio.call_sid]
        for call in idle:
            code, _, _ = await call.closed()
            assert code == CloseCode.START_TIMEOUT
        await real.twilio.frames(SILENCE_FRAME, 5)
        await real.twilio.stop()
        code, _, _ = await real.closed()
    assert code == CloseCode.NORMAL
    assert reporter.records[0]["end_reason"] == "stopped"
    assert (admission.statistics().active, admission.statistics().pending) == (0, 0)


async def test_a_start_after_started_calls_took_every_slot_closes_1013(settings, autojump_clock):
    # Admitted while a slot was free, but calls that started first took it: refused at start.
    reporter = InMemoryReporter()
    admission = Admission(1, max_pending=2)
    shared = {"reporter": reporter, "admission": admission}
    async with open_memory_call(settings, **shared) as first:
        async with open_memory_call(settings, call_sid="CA" + "2" * 32, **shared) as late:
            await first.twilio.connected()
            await late.twilio.connected()
            await first.twilio.start({"business_id": "b1"})
            await first.twilio.frames(SILENCE_FRAME, 2)
            await late.twilio.start({"business_id": "b1"})
            code, reason, _ = await late.closed()
        assert (code, reason) == (CloseCode.TRY_AGAIN_LATER, "calls service full")
        assert admission.statistics().refused["full"] == 1
        assert late.stats.end_reasons == {"full": 1}
        assert {"type": "rejected", "call_sid": late.twilio.call_sid, "business_id": "b1",
                "reason": "full"} in reporter.events
        assert (admission.statistics().active, admission.statistics().pending) == (1, 0)
        await first.twilio.frames(SILENCE_FRAME, 2)  # the started call never noticed
        await first.twilio.stop()
        code, _, _ = await first.closed()
    assert code == CloseCode.NORMAL
    assert [r["call_sid"] for r in reporter.records] == [first.twilio.call_sid]


async def test_inbound_silence_ends_the_call(settings, autojump_clock):
    settings = replace(settings, inbound_silence_seconds=5)
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start()
        t0 = trio.current_time()
        await call.twilio.frames(SILENCE_FRAME, 50)  # 1 s of audio, then nothing
        code, reason, at = await call.closed()
    assert code == CloseCode.INBOUND_SILENCE
    assert reason == "no inbound audio for 5 s"
    assert 6 <= at - t0 <= 7  # checked once a second
    assert call.reporter.records[0]["end_reason"] == "inbound_silence"


async def test_maximum_call_length_ends_the_call(settings, autojump_clock):
    settings = replace(settings, max_call_seconds=3)
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start()
        t0 = trio.current_time()
        async with trio.open_nursery() as talk:
            talk.start_soon(call.twilio.frames_until_closed, SILENCE_FRAME, 500)
            code, reason, at = await call.closed()
    assert (code, reason) == (CloseCode.MAX_DURATION, "call longer than 3 s")
    assert at - t0 == pytest.approx(4)  # checked once a second
    assert call.reporter.records[0]["end_reason"] == "max_duration"


async def test_shutdown_closes_with_1001_and_still_finalizes(settings, autojump_clock):
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start()
        await call.twilio.frames(SILENCE_FRAME, 10)
        call.actor.shutdown()
        code, reason, _ = await call.closed()
    assert (code, reason) == (CloseCode.GOING_AWAY, "server restarting")
    assert call.reporter.records[0]["end_reason"] == "shutdown"
    assert call.reporter.live == {}


async def test_shutdown_before_start_closes_with_1001(settings, autojump_clock, caplog):
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        call.actor.shutdown()
        code, _, _ = await call.closed()
    assert code == CloseCode.GOING_AWAY
    assert call.reporter.records == []
    assert "call failed" not in caplog.text  # a shutdown is not a crash


@pytest.mark.parametrize(
    ("before_start", "send_bad", "code", "text"),
    [
        (False, lambda t: t.ws.send_message("{not json"), CloseCode.PROTOCOL_ERROR, "malformed JSON"),
        (False, lambda t: t.ws.send_message(b"\x00\x01"), CloseCode.UNSUPPORTED_DATA, "binary"),
        (False, lambda t: t.media(SILENCE_FRAME), CloseCode.UNEXPECTED_EVENT, "media event before start"),
        (False, lambda t: t.dtmf("1"), CloseCode.UNEXPECTED_EVENT, "dtmf event before start"),
        (
            False,
            lambda t: t.ws.send_message('{"event":"media","streamSid":"MZ1"}'),
            CloseCode.PROTOCOL_ERROR,
            "missing field",
        ),
        (
            True,
            lambda t: t.ws.send_message(
                '{"event":"media","sequenceNumber":"2","media":{"timestamp":"0"}}'
            ),
            CloseCode.PROTOCOL_ERROR,
            "payload",
        ),
        (True, lambda t: t.ws.send_message(b"\x00\x01"), CloseCode.UNSUPPORTED_DATA, "binary"),
        (True, lambda t: t.start(), CloseCode.UNEXPECTED_EVENT, "second start event"),
    ],
)
async def test_bad_input_closes_the_call_with_its_code(
    settings, autojump_clock, before_start, send_bad, code, text
):
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        if before_start:
            await call.twilio.start()
        await send_bad(call.twilio)
        got_code, reason, _ = await call.closed()
    assert got_code == code
    assert text in reason
    assert len(call.reporter.records) == (1 if before_start else 0)  # a call once started


async def test_oversize_message_closes_with_1009(settings, autojump_clock):
    async with open_memory_call(replace(settings, max_message_bytes=2048)) as call:
        await call.twilio.connected()
        await call.twilio.start()
        await call.twilio.ws.send_message('{"event":"media","x":"' + "a" * 4096 + '"}')
        code, _, _ = await call.closed()
    assert code == CloseCode.MESSAGE_TOO_BIG
    assert call.reporter.records[0]["end_reason"] == "message_too_big"


async def test_wrong_call_token_closes_with_policy_violation(settings, autojump_clock):
    settings = replace(settings, internal_secret=Secret("internal"))
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start(
            {"token": mint_call_token("internal", "CA-some-other-call"), "business_id": "b7"}
        )
        code, reason, _ = await call.closed()
    assert (code, reason) == (CloseCode.POLICY_VIOLATION, "invalid call token")
    assert call.admission.statistics().refused["token"] == 1
    assert call.reporter.events == [
        {"type": "rejected", "call_sid": call.twilio.call_sid, "business_id": "b7", "reason": "token"}
    ]
    assert call.reporter.records == []  # not a call: nothing to finalize


@pytest.mark.parametrize("token", ["é" * 64, "١٢٣"], ids=["latin", "arabic-digits"])
async def test_non_ascii_call_token_closes_with_policy_violation(settings, autojump_clock, token):
    settings = replace(settings, internal_secret=Secret("internal"))
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start({"token": token, "business_id": "b7"})
        code, reason, _ = await call.closed()
    assert (code, reason) == (CloseCode.POLICY_VIOLATION, "invalid call token")
    assert call.admission.statistics().refused["token"] == 1
    assert call.reporter.records == []


async def test_valid_call_token_is_accepted(settings, autojump_clock):
    settings = replace(settings, internal_secret=Secret("internal"))
    async with open_memory_call(settings) as call:
        await call.twilio.connected()
        await call.twilio.start({"token": mint_call_token("internal", call.twilio.call_sid)})
        await call.twilio.frames(SILENCE_FRAME, 5)
        await call.twilio.stop()
        code, _, _ = await call.closed()
    assert code == CloseCode.NORMAL
    assert call.reporter.records[0]["end_reason"] == "stopped"


async def test_call_record_holds_dtmf_transcript_and_metrics(settings, autojump_clock):
    async with open_memory_call(settings) as call:
        twilio = call.twilio
        await twilio.connected()
        await twilio.start({"business_id": "biz-7", "From": "+15550001111", "To": "+15550100000"})
        t_start = trio.current_time()
        await twilio.dtmf("1")
        await twilio.frames(SPEECH_FRAME, 25)
        await twilio.frames(SILENCE_FRAME, 25)
        await twilio.receive_until("mark")
        await trio.sleep(0.5)
        await twilio.mark("echo-1")  # what Twilio does once our audio has played
        await twilio.dtmf("#")
        await twilio.stop()
        code, _, at = await call.closed()
    assert code == CloseCode.NORMAL
    [record] = call.reporter.records
    assert record["call_sid"] == twilio.call_sid
    assert record["business_id"] == "biz-7"
    assert record["from"] == "+15550001111" and record["to"] == "+15550100000"
    assert record["end_reason"] == "stopped"
    assert [d["digit"] for d in record["dtmf"]] == ["1", "#"]
    assert [t["speaker"] for t in record["transcript"]] == ["caller", "agent"]
    assert record["duration_seconds"] == pytest.approx(at - t_start)  # on the call's clock
    metrics = record["metrics"]
    assert metrics["frames_in"] == 50 and metrics["sequence_gaps"] == 0
    assert metrics["marks_echoed"] == 1 and metrics["mark_rtt_ms_p50"] > 0
    assert call.reporter.event_types() == ["call_started", "call_ended"]
    assert call.reporter.live == {}


async def test_a_second_stream_for_a_live_call_sid_is_refused(settings, autojump_clock):
    # Twilio never opens two streams for one call; a copied handshake would. The copy is
    # refused and the live call keeps its lease, its state and its one record.
    sid = "CA" + "5" * 32
    reporter = InMemoryReporter()
    admission = Admission(10)
    shared = {"reporter": reporter, "admission": admission, "call_sid": sid}
    async with open_memory_call(settings, **shared) as live:
        await live.twilio.connected()
        await live.twilio.start({"business_id": "b1"})
        await live.twilio.frames(SILENCE_FRAME, 5)
        lease = reporter.live[sid]
        async with open_memory_call(settings, stream_sid="MZ" + "9" * 32, **shared) as copy:
            await copy.twilio.connected()
            await copy.twilio.start({"business_id": "b1"})
            code, reason, _ = await copy.closed()
        assert (code, reason) == (CloseCode.DUPLICATE_CALL, "call already live")
        assert admission.statistics().refused["duplicate"] == 1
        assert copy.stats.end_reasons == {"duplicate_call": 1}
        assert [e for e in reporter.events if e["type"] == "rejected"] == [
            {"type": "rejected", "call_sid": sid, "business_id": "b1", "reason": "duplicate"}
        ]
        assert reporter.live == {sid: lease}
        assert reporter.records == []
        # the live call never noticed
        await live.twilio.frames(SPEECH_FRAME, 25)
        await live.twilio.frames(SILENCE_FRAME, 25)
        assert (await live.twilio.receive_until("mark"))[-1]["event"] == "mark"
        await live.twilio.stop()
        code, _, _ = await live.closed()
    assert code == CloseCode.NORMAL
    [record] = reporter.records
    assert record["stream_sid"] == live.twilio.stream_sid
    assert record["end_reason"] == "stopped"
    assert reporter.event_types() == ["call_started", "rejected", "call_ended"]
    # once that call has ended its CallSid is no longer live (nothing leaks); a stream for it
    # now is refused as a call that ended (test_a_stream_for_a_call_that_already_ended_…)
    assert admission.claim_call_sid(sid)
    assert admission.has_ended(sid)


async def test_a_stream_for_a_call_that_already_ended_is_refused(settings, autojump_clock):
    # A replayed voice webhook answer (issue 10) carries the call's valid token after the
    # call is over: its stream is refused, here and on another instance, and is no call.
    settings = replace(settings, internal_secret=Secret("internal"))
    sid = "CA" + "4" * 32
    token = mint_call_token("internal", sid)
    reporter = InMemoryReporter()  # stands for Redis (calls:ended:{sid}), shared by instances
    admission = Admission(10)
    async with open_memory_call(settings, reporter=reporter, admission=admission, call_sid=sid) as call:
        await call.twilio.connected()
        await call.twilio.start({"token": token, "business_id": "b1"})
        await call.twilio.frames(SILENCE_FRAME, 5)
        await call.twilio.stop()
        assert (await call.closed())[0] == CloseCode.NORMAL
    assert admission.has_ended(sid) and sid in reporter.ended
    for instance in (admission, Admission(10)):  # this process, then another one
        async with open_memory_call(
            settings, reporter=reporter, admission=instance, call_sid=sid, stream_sid="MZ" + "8" * 32
        ) as replay:
            await replay.twilio.connected()
            await replay.twilio.start({"token": token, "business_id": "b1"})
            code, reason, _ = await replay.closed()
        assert (code, reason) == (CloseCode.CALL_ENDED, "call already ended")
        assert instance.statistics().refused["ended"] == 1
        assert replay.stats.end_reasons == {"already_ended": 1}
        assert (instance.statistics().active, instance.statistics().pending) == (0, 0)
    assert [r["stream_sid"] for r in reporter.records] == [call.twilio.stream_sid]
    assert [e["reason"] for e in reporter.events if e["type"] == "rejected"] == ["ended", "ended"]


def test_ended_call_sids_are_remembered_up_to_a_bound():
    admission = Admission(1)
    admission.claim_call_sid("CA-refused")
    admission.release_call_sid("CA-refused")  # a refused stream is no ended call
    assert not admission.has_ended("CA-refused")
    for i in range(MAX_ENDED_SIDS + 1):
        admission.release_call_sid(f"CA{i}", ended=True)
    assert not admission.has_ended("CA0")  # the oldest went first
    assert admission.has_ended("CA1") and admission.has_ended(f"CA{MAX_ENDED_SIDS}")
