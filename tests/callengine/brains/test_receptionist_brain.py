"""ReceptionistBrain's shell: setup from Redis (db TEST_REDIS_URL), barge-in, the record."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import orjson
import pytest
import trio
import trio.testing

from callengine.brains.base import CallInfo
from callengine.brains.receptionist import build_services, receptionist_config
from callengine.brains.receptionist.brain import ReceptionistBrain, ReceptionistConfig, Services
from callengine.brains.receptionist.settings import ReceptionistSettings
from callengine.events import (
    ClearPlayback,
    Command,
    DtmfReceived,
    InboundEvent,
    MarkReached,
    MediaReceived,
    SendMark,
)
from callengine.settings import Settings
from contracts.call_setup import read_setup
from tests.conftest import SHARED_REDIS

CALL_SID = "CA" + "1" * 32


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    settings = Settings(redis_url=SHARED_REDIS, receptionist=ReceptionistSettings(asr_threads=1))
    shared = build_services(settings)
    yield shared
    shared.close()


def _pcm(samples: list[float]) -> bytes:
    return b"".join(max(-32768, min(32767, int(s))).to_bytes(2, "little", signed=True) for s in samples)


def voice_frame(k: int) -> bytes:
    out = []
    for i in range(160):
        t = (k * 160 + i) / 8000
        out.append(2400 * sum(math.sin(2 * math.pi * 140 * h * t) / h for h in range(1, 12)))
    return _pcm(out)


def frame(pcm: bytes, k: int) -> MediaReceived:
    return MediaReceived(ulaw=b"\xff" * 160, pcm=pcm, timestamp_ms=k * 20, chunk=k, sequence_number=k + 2)


async def start_brain(
    nursery: trio.Nursery, brain: ReceptionistBrain, params: dict[str, str], setup: bytes | None = None
) -> tuple[trio.MemorySendChannel[InboundEvent], trio.MemoryReceiveChannel[Command]]:
    inbound_tx, inbound_rx = trio.open_memory_channel[InboundEvent](16)
    commands_tx, commands_rx = trio.open_memory_channel[Command](256)
    info = CallInfo(CALL_SID, "MZ1", "b1", params, setup=read_setup(setup))
    nursery.start_soon(brain.run, info, inbound_rx, commands_tx)
    return inbound_tx, commands_rx


async def next_marks(commands: trio.MemoryReceiveChannel[Command], n: int) -> list[str]:
    marks: list[str] = []
    with trio.fail_after(10):
        while len(marks) < n:
            command = await commands.receive()
            if isinstance(command, SendMark):
                marks.append(command.name)
    return marks


def test_settings_build_a_working_config() -> None:
    config = receptionist_config(Settings(turn_pause_ms=500, receptionist=ReceptionistSettings(silence_seconds=3)))
    assert config.turns.pause_ms == 500 and config.silence_seconds == 3


async def test_greeting_and_menu_come_from_the_call_setup(services: Services) -> None:
    setup = orjson.dumps({
        "business_id": "b1", "greeting": "Welcome to Acme Plumbing.",
        "menu": [{"digit": "3", "label": "billing questions", "intent": "billing"}],
    })
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        _, commands = await start_brain(nursery, brain, {"from": "+15551230000"}, setup)
        await next_marks(commands, 1)
        nursery.cancel_scope.cancel()
    first = brain.summary()["transcript"][0]
    assert first["speaker"] == "agent"
    assert first["text"].startswith("Welcome to Acme Plumbing. How can I help?")
    assert "press 3 for billing questions" in first["text"]


async def test_no_setup_uses_defaults_and_dtmf_drives_the_call(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        inbound, commands = await start_brain(nursery, brain, {"from": "+15551230000"})
        marks = await next_marks(commands, 1)
        await inbound.send(MarkReached(marks[-1], 3))
        await inbound.send(DtmfReceived("2", 4))  # support, pressed over the prompt
        with trio.fail_after(10):
            while brain.summary()["state"] == "need":
                await commands.receive()
        nursery.cancel_scope.cancel()
    summary = brain.summary()
    assert summary["lead"]["reason"] == "support" and summary["lead"]["intent_source"] == "dtmf"
    greeting = summary["transcript"][0]
    assert greeting["text"].startswith("Thanks") and greeting["interrupted"]  # cut at the key
    [press] = [e for e in summary["transcript"] if "dtmf" in e]
    assert (press["speaker"], press["dtmf"]) == ("caller", "2")
    # Each entry says when it began, from the call's start: the SPA draws the timeline by it.
    times = [e["at_ms"] for e in summary["transcript"]]
    assert times[0] < 1000 and times == sorted(times) and press["at_ms"] >= greeting["at_ms"]
    assert summary["metrics"]["dtmf_interrupts"] == 1
    assert summary["state"] == "name"


async def test_caller_speech_over_the_prompt_clears_it_within_the_frame(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        inbound, commands = await start_brain(nursery, brain, {})
        marks = await next_marks(commands, 2)
        await inbound.send(MarkReached(marks[0], 3))  # the first 500 ms were played
        await trio.sleep(0.05)
        quiet = _pcm([0.0] * 160)
        for k in range(25):  # calibration: a quiet line
            assert brain.on_media(frame(quiet, k)) == ()
        cleared_at = None
        for k in range(25, 40):
            if brain.on_media(frame(voice_frame(k), k)) == (ClearPlayback(),):
                cleared_at = k
                break
        nursery.cancel_scope.cancel()
    assert cleared_at is not None and (cleared_at - 25 + 1) * 20 <= 200
    summary = brain.summary()
    agent = summary["transcript"][0]
    assert agent["interrupted"] is True
    assert 500 <= agent["heard_ms"] < agent["audio_ms"]
    assert agent["text"].endswith("…") and len(agent["text"]) < 40
    assert summary["metrics"]["barge_ins"][0]["agent_heard_ms"] == agent["heard_ms"]


async def test_tts_renders_real_audio(services: Services) -> None:
    audio = await services.voice.render("Thanks for calling.")
    assert len(audio) > 4000  # over half a second of 8 kHz μ-law
    assert audio == await services.voice.render("Thanks for calling.")  # cached


async def test_silence_after_the_question_gets_a_reprompt(services: Services) -> None:
    # Real time (espeak-ng is a real subprocess): a 1 s silence timeout keeps it short.
    brain = ReceptionistBrain(services, replace(ReceptionistConfig(), silence_seconds=1.0))
    async with trio.open_nursery() as nursery:
        inbound, commands = await start_brain(nursery, brain, {})
        with trio.fail_after(15):
            while len(brain.summary()["transcript"]) < 2:
                command = await commands.receive()
                if isinstance(command, SendMark):  # played at once: Twilio echoes it
                    await inbound.send(MarkReached(command.name, 3))
        nursery.cancel_scope.cancel()
    second = brain.summary()["transcript"][1]
    assert second["speaker"] == "agent" and second["text"].startswith("Are you still there?")


async def test_services_report_the_recognition_load(services: Services, nursery) -> None:
    limiter = services.limiter  # one worker here: hold its token, a turn must queue
    await limiter.acquire()
    try:
        assert services.statistics()["borrowed"] == 1
        done = trio.Event()

        async def turn() -> None:
            await services.recognize(b"\0" * 3200, None)
            done.set()

        nursery.start_soon(turn)
        await trio.testing.wait_all_tasks_blocked()
        assert services.statistics()["waiting"] == 1
    finally:
        limiter.release()
    with trio.fail_after(30):
        await done.wait()
    load = services.statistics()
    assert (load["borrowed"], load["waiting"], load["transcribing"]) == (0, 0, 0)


def test_each_business_gets_its_need_model_once(services: Services) -> None:
    from callengine.brains.receptionist.dialogue import Dialogue
    from callengine.brains.receptionist.setup import parse_setup

    clinic = orjson.dumps(
        {
            "menu": [{"digit": "1", "label": "appointments", "intent": "appointment"}],
            "brain_settings": {"intent_words": {"appointment": ["cleaning"]}},
        }
    )
    first = services.need_model(Dialogue(parse_setup(clinic)))
    assert services.need_model(Dialogue(parse_setup(clinic))) is first  # built once, shared
    assert " cleaning " in first and " refund " not in first
    default = services.need_model(Dialogue(parse_setup(None)))
    assert default != first and " cleaning " not in default
