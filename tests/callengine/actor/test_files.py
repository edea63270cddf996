"""Recording and capture, end to end: a replayed fixture is recorded, captured, and the capture
replays again through the load harness."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import trio

from callengine.loadtest import LoadTestConfig, load_session, run_load_test
from tests.conftest import start_engine
from tests.fakes.memory_reporter import InMemoryReporter

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"


async def test_replayed_call_is_recorded_and_captured_and_the_capture_replays(
    nursery, settings, tmp_path
):
    capture_dir = tmp_path / "capture"
    settings = replace(settings, record_calls=True, capture_dir=capture_dir)
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter)
    url = f"ws://127.0.0.1:{server.port}/ws/twilio"
    fixture = FIXTURES / "barge_in.jsonl"
    original = load_session(fixture)

    results = await run_load_test(LoadTestConfig(url=url, calls=1, sessions=(fixture,)))
    assert results["calls"]["completed"] == 1, results["calls"]
    with trio.fail_after(10):
        while not reporter.records:
            await trio.sleep(0.05)
    record = reporter.records[0]
    assert record["end_reason"] == "stopped"
    assert record["metrics"]["barge_ins"] >= 1
    assert results["barge_in"]["cleared"] >= 1

    # the recording: stereo μ-law, as long as the caller's audio
    wav = await trio.Path(record["recording_path"]).read_bytes()
    assert wav[:4] == b"RIFF" and struct.unpack("<H", wav[20:22])[0] == 7
    frames = struct.unpack("<I", wav[46:50])[0]
    media = sum(1 for e in original.events if e.msg.get("event") == "media")
    assert frames == media * 160
    assert len(wav) == 58 + frames * 2
    heard = wav[58 + 1 :: 2]
    assert heard.count(0xFF) < len(heard)  # the caller heard our echo on channel 2

    # the capture: the replay format, the same inbound messages
    captured = load_session(Path(record["capture_path"]))
    kinds = [e.msg.get("event") for e in captured.events]
    assert kinds.count("media") == media
    assert "token" not in captured.custom_parameters
    again = await run_load_test(
        LoadTestConfig(url=url, calls=2, sessions=(Path(record["capture_path"]),))
    )
    assert again["calls"]["completed"] == 2
    assert again["inbound"]["media_sent"] == 2 * media
