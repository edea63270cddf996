"""Session parsing, synthetic scenarios and per-call rewriting of pre-built frames."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from callengine.loadtest.audio import MULAW_SILENCE, onset_flags
from callengine.loadtest.errors import ConfigError, SessionFormatError
from callengine.loadtest.plan import KIND_DTMF, KIND_MEDIA, CallIds, build_plan
from callengine.loadtest.scenarios import build_scenario
from callengine.loadtest.session import build_session, dump_session, load_session, parse_session

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"
IDS = CallIds("MZ" + "a" * 32, "CA" + "b" * 32, "AC" + "c" * 32)
LOUD = bytes([0x00, 0x80]) * 80  # μ-law full-scale alternating samples: clearly voiced
QUIET = bytes([MULAW_SILENCE]) * 160


def ws_payload(frame: bytes) -> dict:
    """Strip the (zero-masked) client header from a pre-built frame and decode the JSON."""
    n = frame[1] & 0x7F
    offset = 2 + (2 if n == 126 else 8 if n == 127 else 0) + 4
    return orjson.loads(frame[offset:])


def test_fixture_files_parse_and_meet_the_brief() -> None:
    files = sorted(FIXTURES.glob("*.jsonl"))
    assert len(files) >= 4
    for path in files:
        assert path.stat().st_size < 300 * 1024
        session = load_session(path)
        plan = build_plan(session)
        assert 6.0 <= plan.stop_offset_s <= 20.0, path.name
        assert plan.voiced_frames > 0
        events = [e.event for e in session.events]
        assert events[:2] == ["connected", "start"] and events[-1] == "stop"
        seqs = [int(e.msg["sequenceNumber"]) for e in session.events[1:]]
        assert seqs == list(range(1, len(seqs) + 1))
    assert any(step.kind == KIND_DTMF for step in build_plan(load_session(FIXTURES / "dtmf_menu.jsonl")).steps)


def test_dump_and_parse_round_trip() -> None:
    session = build_session("s", "d", [QUIET, LOUD], dtmf=[(20.0, "5")], custom_parameters={"a": "1"})
    again = parse_session(dump_session(session).splitlines())
    assert again == session


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ['{"kind":"other","version":1}'],
        ['{"kind":"session","version":2}'],
        ['{"kind":"session","version":1}', "not json"],
        ['{"kind":"session","version":1}', '{"t_ms":0,"msg":{"event":"clear"}}'],
        ['{"kind":"session","version":1}', '{"t_ms":0,"msg":{"event":"media","media":{}}}'],
    ],
)
def test_parse_rejects_malformed_sessions(lines: list[str]) -> None:
    with pytest.raises(SessionFormatError):
        parse_session(lines)


def test_plan_rewrites_ids_and_numbers_one_sequence_from_start() -> None:
    session = build_session(
        "s", "d", [QUIET] * 3, dtmf=[(30.0, "7")], marks=[(10.0, "old-mark")], custom_parameters={"business_id": "1"}
    )
    plan = build_plan(session)
    assert [s.kind for s in plan.steps] == [KIND_MEDIA, KIND_MEDIA, KIND_DTMF, KIND_MEDIA]  # recorded mark dropped
    assert [s.offset_s for s in plan.steps] == [0.0, 0.02, 0.03, 0.04]
    start = ws_payload(plan.start_frame(IDS, {"business_id": "1", "token": "t"}))
    assert start["sequenceNumber"] == "1" and start["streamSid"] == IDS.stream_sid
    assert start["start"]["callSid"] == IDS.call_sid and start["start"]["accountSid"] == IDS.account_sid
    assert start["start"]["customParameters"] == {"business_id": "1", "token": "t"}
    sid = IDS.stream_sid.encode()
    msgs = [ws_payload(step.template.frame(b"%d" % (i + 2), sid)) for i, step in enumerate(plan.steps)]
    assert [m["sequenceNumber"] for m in msgs] == ["2", "3", "4", "5"]
    assert all(m["streamSid"] == IDS.stream_sid for m in msgs)
    assert msgs[0]["media"] == session.events[2].msg["media"]  # chunk/timestamp/payload untouched
    assert msgs[2] == {
        "event": "dtmf",
        "sequenceNumber": "4",
        "dtmf": {"track": "inbound_track", "digit": "7"},
        "streamSid": IDS.stream_sid,
    }
    stop = ws_payload(plan.stop_template(IDS).frame(b"6", sid))
    assert stop == {
        "event": "stop",
        "sequenceNumber": "6",
        "streamSid": IDS.stream_sid,
        "stop": {"accountSid": IDS.account_sid, "callSid": IDS.call_sid},
    }
    assert plan.stop_offset_s == pytest.approx(0.06)


def test_frames_with_long_payloads_use_extended_length() -> None:
    plan = build_plan(build_session("s", "d", [LOUD * 4]))
    frame = plan.steps[0].template.frame(b"2", b"MZ1")
    assert frame[1] == 0x80 | 126
    assert base64.b64decode(ws_payload(frame)["media"]["payload"]) == LOUD * 4


def test_voiced_and_onset_flags() -> None:
    frames = [LOUD] + [QUIET] * 10 + [LOUD, QUIET, LOUD]
    plan = build_plan(build_session("s", "d", frames))
    assert [s.voiced for s in plan.steps] == [True] + [False] * 10 + [True, False, True]
    assert [i for i, s in enumerate(plan.steps) if s.onset] == [0, 11]
    assert onset_flags([False] * 3 + [True], gap_frames=10) == [False, False, False, True]


def test_scenarios_have_the_requested_shape() -> None:
    talk = build_plan(build_scenario("talk", duration_s=5.6, speech_s=1.4, pause_s=1.4, seed=1))
    assert talk.media_frames == 280
    assert [round(s.offset_s, 1) for s in talk.steps if s.onset] == [0.0, 2.8]
    assert build_plan(build_scenario("silence", duration_s=2.0)).voiced_frames == 0
    dtmf = build_plan(build_scenario("dtmf", duration_s=4.0))
    assert [s.offset_s for s in dtmf.steps if s.kind == KIND_DTMF] == [1.0, 2.5]
    with pytest.raises(ConfigError):
        build_scenario("sing", duration_s=1.0)
