"""Recorded Twilio sessions (tests/fixtures/twilio) replayed into the real ``CallActor`` over
memory streams, on the autojump clock: each plays at its recorded pace in no real time."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import trio

from callengine.events import CloseCode
from callengine.loadtest import load_session
from tests.fakes.memory_call import open_memory_call, received, replay

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
SESSIONS = sorted(p.stem for p in FIXTURES.glob("*.jsonl"))


async def play(settings: Any, name: str) -> tuple[Any, list[tuple[float, dict[str, Any]]]]:
    """Replay fixture ``name`` to its end; the call and every message the actor sent."""
    got: list[tuple[float, dict[str, Any]]] = []
    async with open_memory_call(settings) as call:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(received, call.twilio, got)
            await replay(call.twilio, load_session(FIXTURES / f"{name}.jsonl"))
    return call, got


def test_every_fixture_is_replayed():
    assert SESSIONS == ["appointment", "barge_in", "dtmf_menu", "long_silence", "noisy_line"]


@pytest.mark.parametrize("name", SESSIONS)
async def test_recorded_session_plays_through_to_stop(settings, autojump_clock, name):
    session = load_session(FIXTURES / f"{name}.jsonl")
    t0 = trio.current_time()
    call, got = await play(settings, name)
    assert call.twilio.ws.closed is not None
    assert call.twilio.ws.closed.code == CloseCode.NORMAL
    [record] = call.reporter.records
    assert record["end_reason"] == "stopped"
    assert record["call_sid"] == session.events[1].msg["start"]["callSid"]
    metrics = record["metrics"]
    assert metrics["frames_in"] == session.media_count()
    assert metrics["sequence_gaps"] == 0 and metrics["unknown_events"] == 0
    digits = [e.msg["dtmf"]["digit"] for e in session.events if e.event == "dtmf"]
    assert [d["digit"] for d in record["dtmf"]] == digits
    assert trio.current_time() - t0 == pytest.approx(session.events[-1].t_ms / 1000, abs=0.01)
    # the echo answered, and never ran more than the lead + one chunk ahead of playout
    media = [(t, m) for t, m in got if m["event"] == "media"]
    assert media and record["metrics"]["audio_out_ms"] > 0
    lead_s = (settings.outbound_lead_ms + settings.outbound_chunk_ms + 10) / 1000
    playout = 0.0
    for t, msg in media:
        playout = max(playout, t) + len(base64.b64decode(msg["media"]["payload"])) / 8000
        assert playout - t <= lead_s + 1e-9


async def test_barge_in_session_clears_the_reply(settings, autojump_clock):
    call, got = await play(settings, "barge_in")
    kinds = [m["event"] for _, m in got]
    assert "clear" in kinds
    first_clear = kinds.index("clear")
    assert "media" in kinds[:first_clear]  # the reply had started
    [record] = call.reporter.records
    assert record["metrics"]["barge_ins"] == kinds.count("clear") >= 1
    assert [t["interrupted"] for t in record["transcript"] if t["speaker"] == "agent"][0]


async def test_audio_silence_is_not_inbound_silence(settings, autojump_clock):
    # long_silence: 10 s of a quiet line. Frames keep coming, so the 5 s deadline never fires.
    call, _ = await play(replace(settings, inbound_silence_seconds=5), "long_silence")
    assert call.reporter.records[0]["end_reason"] == "stopped"
