"""ReceptionistBrain's shell: setup from Redis (db TEST_REDIS_URL), barge-in, the record."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest
import trio
import trio.testing

from callengine.audio.mulaw import rms, ulaw_to_pcm
from callengine.brains.base import CallInfo
from callengine.brains.receptionist import build_services, receptionist_config
from callengine.brains.receptionist.brain import ReceptionistBrain, ReceptionistConfig, Services
from callengine.brains.receptionist.dialogue import State
from callengine.brains.receptionist.grammars import read_digits, yes_no_grammar
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
    done = trio.Event()
    async with services.slots.hold(trio.current_time()):  # one worker here: a turn must queue
        assert services.statistics()["borrowed"] == 1

        async def turn() -> None:
            await services.recognize(b"\0" * 3200, yes_no_grammar())
            done.set()

        nursery.start_soon(turn)
        await trio.testing.wait_all_tasks_blocked()
        assert services.statistics()["waiting"] == 1
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


# --- answering sooner: early end of turn, mid-sentence pauses, the filler --------------------

QUIET = b"\x00\x00" * 160


async def said(services: Services, text: str) -> list[bytes]:
    """``text`` spoken (espeak-ng through μ-law, as a caller's line delivers it), in 20 ms
    frames, without the synthesiser's leading and trailing silence (the tests time pauses)."""
    pcm = ulaw_to_pcm(await services.voice.render(text))
    pcm += b"\x00" * (-len(pcm) % 320)
    frames = [pcm[i : i + 320] for i in range(0, len(pcm), 320)]
    loud = [k for k, f in enumerate(frames) if rms(f) > 100]
    return frames[loud[0] : loud[-1] + 1]


class Line:
    """The caller's side: frames into ``on_media`` with a running chunk number, and every mark
    echoed at once (the agent's audio plays instantly)."""

    def __init__(self, brain: ReceptionistBrain) -> None:
        self.brain = brain
        self.k = 0

    def send(self, frames: list[bytes]) -> None:
        for pcm in frames:
            self.brain.on_media(frame(pcm, self.k))
            self.k += 1

    def pause(self, ms: int) -> None:
        self.send([QUIET] * (ms // 20))


async def echo_marks(inbound: trio.MemorySendChannel[InboundEvent], commands: trio.MemoryReceiveChannel[Command]) -> None:
    async for command in commands:
        if isinstance(command, SendMark):
            await inbound.send(MarkReached(command.name, 3))


async def until(condition: Callable[[], object], seconds: float = 15) -> None:
    with trio.fail_after(seconds):
        while not condition():
            await trio.sleep(0.01)


def caller_turns(brain: ReceptionistBrain) -> list[dict[str, Any]]:
    return [e for e in brain.summary()["transcript"] if e["speaker"] == "caller" and "expect" in e]


async def talking_to(
    nursery: trio.Nursery, brain: ReceptionistBrain, state: State
) -> Line:
    """A call whose greeting has played, then moved on to ``state``'s question."""
    inbound, commands = await start_brain(nursery, brain, {"from": "+15551230000"})
    nursery.start_soon(echo_marks, inbound, commands)
    await until(lambda: brain.summary()["transcript"] and "heard_ms" in brain.summary()["transcript"][0])
    assert brain.dialogue is not None
    brain.dialogue.state = state
    line = Line(brain)
    line.pause(400)  # the line's noise floor is calibrated on the first 400 ms
    return line


async def test_a_complete_yes_ends_the_turn_at_the_short_pause(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NUMBER)  # "Call you back at …?"
        line.send(await said(services, "yes"))
        line.pause(240)  # and not one frame more: only the early end can finish this turn
        await until(lambda: caller_turns(brain) and "reply_ms" in caller_turns(brain)[0])
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)
    assert turn["early"] is True and turn["heard"] in ("yes", "yeah", "yep")
    assert turn["endpoint_ms"] < 700 and turn["reply_ms"] < 700 + turn["endpoint_ms"]
    summary = brain.summary()
    assert summary["lead"]["callback_number"] == "+15551230000"
    assert (summary["early_ends"], summary["fillers"]) == (1, 0)
    assert not any(e.get("filler") for e in summary["transcript"])


async def test_a_number_said_in_groups_is_not_cut_at_its_pauses(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.ENTER_NUMBER)
        line.send(await said(services, "three one two"))
        line.pause(400)  # mid-sentence: the short pause offers "three one two" …
        await until(lambda: brain.summary()["candidates_decoded"] == 1)
        assert caller_turns(brain) == [], caller_turns(brain)  # … not a whole number: the turn goes on
        line.send(await said(services, "five five five"))
        line.pause(320)
        await until(lambda: brain.summary()["candidates_decoded"] == 2)
        assert caller_turns(brain) == []
        line.send(await said(services, "oh one four seven"))
        line.pause(240)
        await until(lambda: caller_turns(brain))
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)  # one turn, all of it
    assert read_digits(turn["heard"]) == "3125550147"
    assert turn["early"] is True and turn["audio_ms"] > 2000
    assert brain.summary()["state"] == "confirm_digits"


async def test_an_incomplete_answer_waits_for_the_full_pause_and_is_decoded_once(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.ENTER_NUMBER)
        line.send(await said(services, "five five five one two three four"))  # seven digits
        line.pause(240)
        await until(lambda: brain.summary()["candidates_decoded"] == 1)
        assert caller_turns(brain) == []  # not the expected ten: no early end
        line.pause(500)  # the full 700 ms pause ends it
        await until(lambda: caller_turns(brain))
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)
    assert turn["early"] is False and turn["endpoint_ms"] >= 0
    assert turn["decoded_at_candidate"] is True  # the same audio: no second decode
    assert brain.summary()["early_ends"] == 0


async def test_the_filler_plays_only_while_a_turn_waits_for_recognition(services: Services) -> None:
    brain = ReceptionistBrain(services, replace(ReceptionistConfig(), filler_after_seconds=0.3))
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NUMBER)
        async with services.slots.hold(0.0):  # the only worker is busy with another call's turn
            line.send(await said(services, "yes"))
            line.pause(800)  # the full pause ends the turn; its decode still waits
            await until(lambda: any(e.get("filler") for e in brain.summary()["transcript"]))
            assert caller_turns(brain) == []
        await until(lambda: caller_turns(brain) and "reply_ms" in caller_turns(brain)[0])
        nursery.cancel_scope.cancel()
    summary = brain.summary()
    [filler] = [e for e in summary["transcript"] if e.get("filler") and e["speaker"] == "agent"]
    assert filler["text"] == "One moment."
    [turn] = caller_turns(brain)
    assert turn["filler"] is True and turn["first_audio_ms"] < turn["reply_ms"]
    assert summary["fillers"] == 1
    # The answer follows the filler as its own utterance; the filler played in full.
    agents = [e for e in summary["transcript"] if e["speaker"] == "agent"]
    assert agents[-1]["text"].startswith("Thanks") and filler["interrupted"] is False


async def test_no_filler_while_the_caller_may_go_on_but_one_once_the_turn_ends(services: Services) -> None:
    brain = ReceptionistBrain(services, replace(ReceptionistConfig(), filler_after_seconds=0.3))
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NUMBER)
        async with services.slots.hold(0.0):
            line.send(await said(services, "yes"))
            line.pause(240)  # a candidate, waiting for the busy worker; the caller may go on
            await trio.sleep(0.5)  # past the filler's time: still no filler (not a turn yet)
            assert not any(e.get("filler") for e in brain.summary()["transcript"])
            line.pause(500)  # the full pause: now it is the caller's turn, and it waits
            await until(lambda: any(e.get("filler") for e in brain.summary()["transcript"]))
        await until(lambda: caller_turns(brain) and "reply_ms" in caller_turns(brain)[0])
        nursery.cancel_scope.cancel()
    assert brain.summary()["fillers"] == 1 and caller_turns(brain)[0]["filler"] is True


async def test_a_candidate_the_caller_talked_past_does_not_hold_up_their_turn(services: Services) -> None:
    brain = ReceptionistBrain(services, replace(ReceptionistConfig(), filler_after_seconds=0.3))
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NUMBER)
        async with services.slots.hold(0.0):  # every worker busy: the candidate queues
            line.send(await said(services, "no"))
            line.pause(300)  # a candidate …
            await until(lambda: services.statistics()["waiting"] == 1)
            line.send(await said(services, "that's wrong"))  # … the caller talked past
            line.pause(800)  # their turn ends, and waits for the busy worker: the filler
            await until(lambda: any(e.get("filler") for e in brain.summary()["transcript"]))
            assert services.statistics()["waiting"] == 1  # the turn's decode, not the candidate's
        await until(lambda: caller_turns(brain) and "reply_ms" in caller_turns(brain)[0])
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)
    assert turn["filler"] is True and turn["heard"] is not None and turn["heard"].endswith("wrong")
    # Decoded once: the second candidate (the whole answer) served the turn; the first, stale
    # one was dropped from the queue without a decode.
    assert turn["decoded_at_candidate"] is True and brain.summary()["candidates_decoded"] == 1


async def test_candidates_never_crowd_out_a_finished_turn(services: Services) -> None:
    # The brain task is busy (not running here): a caller who pauses briefly five times
    # offers five candidates, yet the turn that the full pause ends is still queued.
    brain = ReceptionistBrain(services)
    line = Line(brain)
    line.pause(400)
    for _ in range(5):
        line.send([voice_frame(k) for k in range(20)])
        line.pause(300)
    line.pause(500)
    assert brain.turns_dropped == 0
    assert brain.summary()["metrics"]["listen_ms"] > 0  # the turn ended (and was not dropped)


async def test_a_complete_need_ends_the_turn_at_the_short_pause(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NEED)
        line.send(await said(services, "i want to buy your premium plan please"))
        line.pause(240)  # only the early end can finish this turn
        await until(lambda: caller_turns(brain) and "reply_ms" in caller_turns(brain)[0], 30)
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)
    assert turn["early"] is True and turn["decoded_at_candidate"] is True
    assert "premium plan" in turn["sentence"]  # the need model's decode, made at the candidate
    summary = brain.summary()
    assert summary["lead"]["reason"] == "sales" and summary["lead"]["intent_asked"] is False
    assert summary["early_ends"] == 1


async def test_a_need_sentence_paused_in_the_middle_is_not_cut(services: Services) -> None:
    brain = ReceptionistBrain(services)
    async with trio.open_nursery() as nursery:
        line = await talking_to(nursery, brain, State.NEED)
        line.send(await said(services, "i would like"))
        line.pause(400)  # mid-sentence: the short pause offers "i would like" …
        await until(lambda: brain.summary()["candidates_decoded"] == 1, 30)
        await trio.sleep(0.3)  # … and its need-model decode: names no need, the turn goes on
        assert caller_turns(brain) == [], caller_turns(brain)
        line.send(await said(services, "a price for your premium plan"))
        line.pause(800)
        await until(lambda: caller_turns(brain), 30)
        nursery.cancel_scope.cancel()
    [turn] = caller_turns(brain)  # one turn, all of it
    assert turn["audio_ms"] > 1500
    assert brain.summary()["early_ends"] == 0 or turn["early"] is True
