"""Recording and capture: a replayed fixture is recorded and captured, and the capture replays
again as a session (over memory streams, on the autojump clock)."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import trio

from callengine.actor.files import Capture, Recording
from callengine.loadtest import load_session
from tests.fakes.memory_call import open_memory_call, replay

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"


async def test_replayed_call_is_recorded_and_captured_and_the_capture_replays(
    settings, tmp_path, autojump_clock
):
    capture_dir = tmp_path / "capture"
    settings = replace(settings, record_calls=True, capture_dir=capture_dir)
    original = load_session(FIXTURES / "barge_in.jsonl")
    async with open_memory_call(settings) as call:
        *talk, stop = original.events
        await replay(call.twilio, replace(original, events=tuple(talk)))
        # The files are written in worker threads, which the autojump clock cannot see: give
        # them (up to 1 s of real idle time) before the cleanup's virtual deadline fires.
        autojump_clock.autojump_threshold = 1.0
        await call.twilio.ws.send_message(json.dumps(stop.msg))
    autojump_clock.autojump_threshold = 0
    [record] = call.reporter.records
    assert record["end_reason"] == "stopped"
    assert record["metrics"]["barge_ins"] >= 1

    # the recording: stereo μ-law, as long as the caller's audio
    wav = await trio.Path(record["recording_path"]).read_bytes()
    assert wav[:4] == b"RIFF" and struct.unpack("<H", wav[20:22])[0] == 7
    frames = struct.unpack("<I", wav[46:50])[0]
    media = original.media_count()
    assert frames == media * 160
    assert len(wav) == 58 + frames * 2
    heard = wav[58 + 1 :: 2]
    assert heard.count(0xFF) < len(heard)  # the caller heard our echo on channel 2

    # the capture: the replay format, the same inbound messages, no token
    captured = load_session(Path(record["capture_path"]))
    got = [e.msg for e in captured.events]
    want = [e.msg for e in original.events]
    assert got == want
    assert "token" not in captured.custom_parameters
    for n in range(2):  # and it replays, as often as wanted
        again = replace(settings, record_calls=False, capture_dir=None)
        async with open_memory_call(again, call_sid=f"CAagain{n}") as call:
            await replay(call.twilio, captured, call_sid=f"CAagain{n}")
        [record] = call.reporter.records
        assert record["call_sid"] == f"CAagain{n}"
        assert record["metrics"]["frames_in"] == media
        assert record["metrics"]["barge_ins"] >= 1


async def test_a_flush_cancelled_as_the_call_ends_loses_nothing(tmp_path):
    # The report task flushes once a second; the call may end (cancelling it) just as a
    # flush begins. What that flush took must still reach the disk.
    capture = Capture(tmp_path / "c.jsonl", {"kind": "session", "version": 1, "name": "c"})
    recording = Recording(tmp_path / "r.wav")
    capture.add(0.0, '{"event":"connected","protocol":"Call","version":"1.0.0"}')
    recording.inbound(b"\x01" * 160)
    with trio.CancelScope() as scope:
        scope.cancel()
        await recording.flush()
    with trio.CancelScope() as scope:
        scope.cancel()
        await capture.flush()
    await capture.flush()
    await recording.close()
    assert len(load_session(tmp_path / "c.jsonl").events) == 1
    wav = (tmp_path / "r.wav").read_bytes()
    assert len(wav) == 58 + 160 * 2
