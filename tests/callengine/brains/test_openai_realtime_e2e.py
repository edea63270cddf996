"""The ``openai_realtime`` brain end to end: fake Twilio → real engine → brain → fake vendor.

Every test runs the real calls server (``start_engine``) with the brain built by
``brain_factory`` from settings that point at the fake Realtime server on loopback, and the
call setup stored in the test Redis database, exactly as the API would store it.
"""

from __future__ import annotations

import base64
import json
import logging
import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis
import trio
from trio_websocket import ConnectionClosed

from callengine.brains.openai_realtime.clips import load_apology
from callengine.brains.openai_realtime.settings import OpenAIRealtimeSettings
from callengine.loadtest.audio import mulaw_frames, noise_pcm
from callengine.settings import Secret, Settings
from contracts import keys
from tests.conftest import start_engine
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.openai_realtime import FakeRealtime, Reply, Script, open_fake_realtime, tone
from tests.fakes.twilio_ws import SILENCE_FRAME, SPEECH_FRAME, FakeTwilio, open_call

CALL_SID = "CA" + "1" * 32
API_KEY = "sk-test-SECRET-never-logged-0123456789"


class Phone:
    """Twilio's side of the call: collects what the engine sends and echoes marks.

    Marks are echoed at once (the audio "played") while ``echo`` is set, else held; ``clear``
    echoes every held mark at once, as Twilio does.
    """

    def __init__(self, call: FakeTwilio) -> None:
        self.call = call
        self.messages: list[dict[str, Any]] = []
        self.held: list[str] = []
        self.echo = True
        self.echo_limit: int | None = None  # echo at most this many marks in total
        self.echoed = 0
        self.closed: ConnectionClosed | None = None
        self.done = trio.Event()

    @property
    def audio(self) -> bytes:
        return b"".join(
            base64.b64decode(m["media"]["payload"]) for m in self.messages if m["event"] == "media"
        )

    def count(self, event: str) -> int:
        return sum(1 for m in self.messages if m["event"] == event)

    async def listen(self) -> None:
        try:
            while True:
                msg = await self.call.receive()
                self.messages.append(msg)
                if msg["event"] == "mark":
                    name = msg["mark"]["name"]
                    if self.echo and (self.echo_limit is None or self.echoed < self.echo_limit):
                        self.echoed += 1
                        await self.call.mark(name)
                    else:
                        self.held.append(name)
                elif msg["event"] == "clear":
                    held, self.held = self.held, []
                    for name in held:  # Twilio echoes flushed marks at once
                        await self.call.mark(name)
        except ConnectionClosed as exc:
            self.closed = exc
        finally:
            self.done.set()

    async def wait(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        with trio.fail_after(timeout):
            while not condition():
                await trio.sleep(0.01)

    async def talk(self, speech_ms: int, silence_ms: int) -> None:
        await self.call.frames(SILENCE_FRAME, 20)  # the line before the caller speaks
        await self.call.frames(SPEECH_FRAME, speech_ms // 20)
        await self.call.frames(SILENCE_FRAME, silence_ms // 20)

    async def ended(self, timeout: float = 15) -> ConnectionClosed:
        """Keep the line alive with silence until the engine closes the call."""
        with trio.fail_after(timeout):
            while not self.done.is_set():
                try:
                    await self.call.media(SILENCE_FRAME)
                except ConnectionClosed:
                    break
                await trio.sleep(0.02)
            await self.done.wait()
        assert self.closed is not None
        return self.closed


def realtime_settings(settings: Settings, fake: FakeRealtime, **changes: Any) -> Settings:
    """The engine's settings with the realtime brain pointed at ``fake``; ``changes`` are
    ``OpenAIRealtimeSettings`` fields."""
    changes.setdefault("connect_timeout_seconds", 2.0)
    return replace(
        settings,
        brain="openai_realtime",
        openai_realtime=OpenAIRealtimeSettings(api_key=Secret(API_KEY), url=fake.url, **changes),
    )


def store_setup(client: redis.Redis, **fields: Any) -> None:
    client.set(keys.call_setup(CALL_SID), json.dumps(fields), ex=600)


async def record_of(reporter: InMemoryReporter) -> dict[str, Any]:
    with trio.fail_after(10):
        await reporter.finalized.wait()
    return reporter.records[0]


GREETING = Reply("Thanks for calling Acme Plumbing, how can I help?", tone(400))
ANSWER_AUDIO = tone(200, amplitude=3000)  # unlike the greeting's audio, so waits can tell them apart


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_greeting_lead_capture_and_hang_up(nursery, settings, shared_redis, dialect):
    store_setup(
        shared_redis,
        business_name="Acme Plumbing",
        greeting="Thanks for calling Acme Plumbing, how can I help?",
        brain_settings={"prompt": "You are Acme Plumbing's receptionist."},
        language="en-US",
        **{"from": "+15551230000"},
    )
    fake = await open_fake_realtime(
        nursery,
        Script(
            api_key=API_KEY,
            replies=[
                GREETING,
                Reply(
                    tool_calls=[
                        (
                            "update_lead",
                            {
                                "name": "Jane Doe",
                                "reason": "leaking sink",
                                "callback_number": "+1 (555) 123-4567",
                            },
                        )
                    ]
                ),
                Reply(
                    "Thanks Jane, a plumber will call you back. Goodbye!",
                    tone(300),
                    tool_calls=[("hang_up", {"reason": "caller done"})],
                ),
            ],
            caller_transcripts=["Hi, I'm Jane Doe, my sink is leaking. Call me at 555 123 4567."],
        ),
    )
    reporter = InMemoryReporter()
    server = await start_engine(
        nursery, realtime_settings(settings, fake, api=dialect), reporter
    )
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: len(phone.audio) >= 3200)  # the whole greeting reached Twilio
        await phone.talk(speech_ms=600, silence_ms=700)
        closed = await phone.ended()
    assert closed.reason.reason == "brain finished"
    assert phone.audio[:3200] == GREETING.audio
    assert len(phone.audio) == 3200 + 2400  # greeting + goodbye, nothing else
    record = await record_of(reporter)
    summary = record["brain_summary"]
    assert record["end_reason"] == "hangup"
    assert summary["end"] == "hang_up"
    assert summary["hangup_reason"] == "caller done"
    assert summary["lead"] == {
        "name": "Jane Doe",
        "reason": "leaking sink",
        "callback_number": "+15551234567",
    }
    assert summary["caller_id"] == "+15551230000"
    assert summary["summary"] == "Jane Doe; about: leaking sink; call back +15551234567"
    assert [(t["speaker"], t["text"]) for t in record["transcript"]] == [
        ("agent", "Thanks for calling Acme Plumbing, how can I help?"),
        ("caller", "Hi, I'm Jane Doe, my sink is leaking. Call me at 555 123 4567."),
        ("agent", "Thanks Jane, a plumber will call you back. Goodbye!"),
    ]
    assert summary["vendor"]["dialect"] == dialect
    [turn] = summary["metrics"]["turns"]  # the caller's one turn, answered by the goodbye
    # the fake's VAD ends the turn after 500 ms of silence (silence_duration_ms)
    assert 480 <= turn["endpoint_ms"] <= 700
    assert 0 <= turn["brain_ms"] < 500
    assert summary["metrics"]["listen_ms"] >= 500
    assert summary["metrics"]["talk_ms"] == 400 + 300  # every mark echoed
    assert summary["vendor"]["errors"] == []
    # What the vendor saw: the session, the caller's audio, the tool results.
    conn = fake.connections[0]
    assert conn.path == "/v1/realtime?model=gpt-realtime"
    assert conn.beta is (dialect == "beta")
    update = conn.of_type("session.update")[0]["session"]
    assert "Acme Plumbing's receptionist" in update["instructions"]
    assert "+15551230000" in update["instructions"]
    assert {t["name"] for t in update["tools"]} == {"update_lead", "hang_up"}
    appended = b"".join(base64.b64decode(e["audio"]) for e in conn.of_type("input_audio_buffer.append"))
    assert SPEECH_FRAME * 30 in appended  # the caller's μ-law, untouched
    outputs = [json.loads(e["item"]["output"]) for e in conn.of_type("conversation.item.create")]
    assert outputs[0]["ok"] is True and outputs[0]["lead"]["name"] == "Jane Doe"
    assert outputs[1] == {"ok": True}
    # greeting (with the business's words), the follow-up after update_lead; not after hang_up
    creates = conn.of_type("response.create")
    assert len(creates) == 2
    assert "Thanks for calling Acme Plumbing" in creates[0]["response"]["instructions"]


async def test_barge_in_clears_cancels_and_truncates_at_what_was_heard(nursery, settings, shared_redis):
    store_setup(shared_redis, business_name="Acme Plumbing")
    long_greeting = Reply(
        "Welcome to Acme Plumbing, we fix leaks, drains and water heaters every day of the week.",
        tone(3000),
    )
    fake = await open_fake_realtime(
        nursery,
        Script(
            api_key=API_KEY,
            replies=[long_greeting, Reply("Sure, go ahead.", ANSWER_AUDIO)],
            caller_transcripts=["Sorry, I need someone now"],
            delta_interval=0.1,  # the vendor streams in real time: the response is still active
        ),
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        phone.echo_limit = 5  # the caller has heard 5 × 100 ms when they start talking
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: phone.count("mark") >= 8)
        assert phone.echoed == 5
        await call.frames(SPEECH_FRAME, 10)
        await phone.wait(lambda: phone.count("clear") == 1, timeout=2)
        conn = fake.connections[0]
        await phone.wait(lambda: bool(conn.of_type("conversation.item.truncate")))
        phone.echo_limit = None
        await call.frames(SILENCE_FRAME, 40)
        await phone.wait(lambda: phone.audio.endswith(ANSWER_AUDIO))  # the answer to the caller
        await call.stop()
        await phone.ended()
    truncate = conn.of_type("conversation.item.truncate")
    assert len(truncate) == 1
    assert truncate[0]["audio_end_ms"] == 500
    assert truncate[0]["content_index"] == 0
    assert conn.of_type("response.cancel")
    assert [e for e in conn.sent if e["type"] == "conversation.item.truncated"][0]["audio_end_ms"] == 500
    # clear left right after the vendor's speech_started: no greeting audio after it
    clear_at = next(i for i, m in enumerate(phone.messages) if m["event"] == "clear")
    after = b"".join(
        base64.b64decode(m["media"]["payload"])
        for m in phone.messages[clear_at:]
        if m["event"] == "media"
    )
    assert after == ANSWER_AUDIO  # only the next answer
    record = await record_of(reporter)
    summary = record["brain_summary"]
    assert record["end_reason"] == "stopped"
    assert record["metrics"]["barge_ins"] == 1
    assert summary["barge_ins"] == 1
    assert summary["truncations"][0]["audio_end_ms"] == 500
    agent = record["transcript"][0]
    assert agent["speaker"] == "agent" and agent["interrupted"] is True
    assert agent["heard_ms"] == 500
    assert long_greeting.transcript.startswith(agent["text"])
    assert 0 < len(agent["text"]) < len(long_greeting.transcript) // 2
    assert record["transcript"][1] == {"speaker": "caller", "text": "Sorry, I need someone now"}
    assert record["transcript"][2]["text"] == "Sure, go ahead."


async def test_local_barge_in_clears_before_the_vendor_hears_the_caller(nursery, settings, shared_redis):
    """A vendor whose VAD has not reacted (here: never does): our own detector clears Twilio
    within the 200 ms budget, then tells the vendor; with no speech confirmed, the agent
    goes on after the false-alarm pause."""
    noise = mulaw_frames(noise_pcm(10, random.Random(3)))
    # Real synthetic speech (espeak-ng, the shipped clip without its lead-in): WebRTC VAD
    # rejects the load harness's harmonic stand-in while the agent talks.
    voice = load_apology()[1600:]
    speech = [voice[i : i + 160] for i in range(0, 8000, 160)]
    long_greeting = Reply("Welcome to Acme Plumbing, how can I help you today?", tone(3000))
    after = Reply("Sorry, go on.", ANSWER_AUDIO)
    fake = await open_fake_realtime(
        nursery,
        Script(api_key=API_KEY, replies=[long_greeting, after], delta_interval=0.1, vad_rms=1 << 20),
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        phone.echo_limit = 4
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await call.stream(noise[:25])  # the line's noise: the detector calibrates on it
        await phone.wait(lambda: phone.count("mark") >= 8)
        t_speech = trio.current_time()
        await call.stream(speech, until=lambda: phone.count("clear") > 0)
        assert phone.count("clear") == 1
        assert trio.current_time() - t_speech < 0.3
        conn = fake.connections[0]
        await call.stream(noise[25:250], until=lambda: phone.audio.endswith(after.audio))
        await call.stop()
        await phone.ended()
    assert not conn.of_type("input_audio_buffer.speech_started")
    [truncate] = conn.of_type("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 400
    assert conn.of_type("response.cancel")
    assert len(conn.of_type("response.create")) == 2  # the greeting, then "go on"
    assert phone.audio.endswith(after.audio)
    record = await record_of(reporter)
    summary = record["brain_summary"]
    assert summary["local_barge_ins"] == 1
    assert summary["false_barge_ins"] == 1
    [barge_in] = summary["metrics"]["barge_ins"]
    assert 0 < barge_in["latency_ms"] <= 200  # first voiced frame → clear
    assert barge_in["agent_heard_ms"] == 400
    assert record["transcript"][0]["heard_ms"] == 400


async def test_vendor_failure_mid_call_apologises_and_hangs_up(nursery, settings, shared_redis):
    fake = await open_fake_realtime(
        nursery, Script(api_key=API_KEY, replies=[GREETING], drop_after_deltas=3)
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        closed = await phone.ended()
    assert closed.reason.reason == "vendor failure"
    # what the caller heard: the greeting up to the crash, then the apology, in full
    assert phone.audio == GREETING.audio[:2400] + load_apology()
    assert fake.attempts == 1  # the caller had heard us: no silent reconnect
    record = await record_of(reporter)
    summary = record["brain_summary"]
    assert record["end_reason"] == "hangup"
    assert summary["end"] == "vendor_failure"
    assert summary["summary"] == "Unknown caller (the AI service failed; caller heard an apology)"
    assert summary["vendor"]["failures"][0]["category"] == "network"


@pytest.mark.parametrize(
    ("code", "fatal"),
    [("session_expired", True), ("conversation_already_has_active_response", False)],
)
async def test_vendor_error_events_mid_call(nursery, settings, shared_redis, code, fatal):
    fake = await open_fake_realtime(
        nursery, Script(api_key=API_KEY, replies=[GREETING], error_after_first_response=code)
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: len(phone.audio) >= 3200)
        if not fatal:
            await trio.sleep(0.3)  # the error came and went: the call carries on
            assert not phone.done.is_set()
            await call.stop()
        closed = await phone.ended()
    summary = (await record_of(reporter))["brain_summary"]
    assert summary["vendor"]["errors"][0]["code"] == code
    if fatal:
        assert closed.reason.reason == "vendor failure"
        assert phone.audio == GREETING.audio + load_apology()
        assert summary["end"] == "vendor_failure"
    else:
        assert phone.audio == GREETING.audio
        assert summary["end"] == "caller_hung_up"
        assert summary["vendor"]["failures"] == []


async def test_connect_retries_with_backoff_before_the_call_is_answered(nursery, settings, shared_redis):
    fake = await open_fake_realtime(
        nursery, Script(api_key=API_KEY, refuse=2, refuse_status=503, replies=[GREETING])
    )
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        t0 = trio.current_time()
        await phone.wait(lambda: len(phone.audio) >= 3200)
        assert trio.current_time() - t0 >= 0.5 + 1.0  # backoff 0.5 s, then 1 s
        await call.stop()
        await phone.ended()
    assert phone.audio == GREETING.audio
    assert fake.attempts == 3
    summary = (await record_of(reporter))["brain_summary"]
    assert summary["vendor"]["attempts"] == 3
    assert [f["category"] for f in summary["vendor"]["failures"]] == ["server", "server"]
    assert summary["end"] == "caller_hung_up"


@pytest.mark.parametrize(
    ("script", "changes", "attempts", "category"),
    [
        # the vendor refuses every time: give up after the configured attempts
        (Script(api_key=API_KEY, refuse=99, refuse_status=503), {}, 2, "server"),
        # a wrong key: retrying cannot help, apologise at once
        (Script(api_key="another-key"), {}, 1, "auth"),
        # the session never starts in time
        (Script(api_key=API_KEY, session_delay=5), {"connect_timeout_seconds": 0.3}, 2, "timeout"),
        # the session starts but never speaks: the first-audio watchdog fires
        (Script(api_key=API_KEY, silent=True), {"first_audio_seconds": 0.5}, 2, "timeout"),
        # the vendor rejects the session configuration
        (Script(api_key=API_KEY, reject_session_update=True), {}, 1, "protocol"),
    ],
    ids=["refused", "bad-key", "slow-session", "no-audio", "session-rejected"],
)
async def test_vendor_unavailable_before_answer_apologises(
    nursery, settings, shared_redis, script, changes, attempts, category
):
    fake = await open_fake_realtime(nursery, script)
    reporter = InMemoryReporter()
    server = await start_engine(
        nursery,
        realtime_settings(settings, fake, connect_attempts=2, **changes),
        reporter,
    )
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        closed = await phone.ended(timeout=20)
    assert closed.reason.reason == "vendor failure"
    assert phone.audio == load_apology()
    assert fake.attempts == attempts
    summary = (await record_of(reporter))["brain_summary"]
    assert summary["end"] == "vendor_failure"
    assert summary["vendor"]["attempts"] == attempts
    assert {f["category"] for f in summary["vendor"]["failures"]} == {category}


async def test_slow_first_audio_within_the_watchdog_is_fine(nursery, settings, shared_redis):
    fake = await open_fake_realtime(
        nursery, Script(api_key=API_KEY, replies=[GREETING], first_delta_delay=0.6)
    )
    reporter = InMemoryReporter()
    server = await start_engine(
        nursery, realtime_settings(settings, fake, first_audio_seconds=1.5), reporter
    )
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: len(phone.audio) >= 3200)
        await call.stop()
        await phone.ended()
    assert phone.audio == GREETING.audio
    assert fake.attempts == 1
    assert (await record_of(reporter))["brain_summary"]["vendor"]["failures"] == []


async def test_keys_pressed_are_told_to_the_model(nursery, settings, shared_redis):
    answer = Reply("Got it, 5 5 5 1 2 3 4.", ANSWER_AUDIO)
    fake = await open_fake_realtime(nursery, Script(api_key=API_KEY, replies=[GREETING, answer]))
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: len(phone.audio) >= 3200)
        for digit in "5551234":
            await call.dtmf(digit)
        await phone.wait(lambda: len(phone.audio) >= 3200 + 1600)
        await call.stop()
        await phone.ended()
    conn = fake.connections[0]
    [message] = conn.of_type("conversation.item.create")
    assert message["item"]["content"][0]["text"].endswith("keypad: 5 5 5 1 2 3 4]")
    assert len(conn.of_type("response.create")) == 2
    assert phone.audio == GREETING.audio + answer.audio
    record = await record_of(reporter)
    assert "".join(d["digit"] for d in record["dtmf"]) == "5551234"


async def test_missing_call_setup_uses_defaults(nursery, settings, shared_redis):
    fake = await open_fake_realtime(nursery, Script(api_key=API_KEY, replies=[GREETING]))
    reporter = InMemoryReporter()
    server = await start_engine(nursery, realtime_settings(settings, fake), reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme", "from": "+15559870000"})
        await phone.wait(lambda: len(phone.audio) >= 3200)
        await call.stop()
        await phone.ended()
    conn = fake.connections[0]
    instructions = conn.of_type("session.update")[0]["session"]["instructions"]
    assert "receptionist of the business" in instructions
    assert "+15559870000" in instructions  # caller ID from the stream's parameters
    summary = (await record_of(reporter))["brain_summary"]
    assert summary["setup_problems"] == ["no call setup stored"]
    assert summary["caller_id"] == "+15559870000"


async def test_api_key_never_appears_in_logs_or_records(nursery, settings, shared_redis, caplog):
    caplog.set_level(logging.DEBUG)
    fake = await open_fake_realtime(nursery, Script(api_key=API_KEY, replies=[GREETING], refuse=1))
    reporter = InMemoryReporter()
    engine_settings = realtime_settings(settings, fake)
    server = await start_engine(nursery, engine_settings, reporter)
    async with open_call(server.port, call_sid=CALL_SID) as call:
        phone = Phone(call)
        nursery.start_soon(phone.listen)
        await call.connected()
        await call.start({"business_id": "acme"})
        await phone.wait(lambda: len(phone.audio) >= 3200)
        await call.stop()
        await phone.ended()
    record = await record_of(reporter)
    assert fake.connections[0].headers["authorization"] == f"Bearer {API_KEY}"  # it was sent
    # The fake vendor's own trio-websocket connection ("server-N") logs the handshake it
    # received at DEBUG, headers included: that is the vendor's side, not ours.
    ours = [r for r in caplog.records if not (r.args and str(r.args[0]).startswith("server-"))]
    assert any("vendor session" in r.getMessage() for r in ours)
    assert any("vendor session 1 failed" in r.getMessage() for r in ours)
    for r in ours:
        assert API_KEY not in r.getMessage()
        assert "SECRET-never-logged" not in r.getMessage()
    assert API_KEY not in json.dumps(record)
    assert API_KEY not in repr(engine_settings)
