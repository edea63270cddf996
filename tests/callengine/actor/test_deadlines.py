"""The call's deadlines as a pure decision: silence first, then length, both strict."""

from __future__ import annotations

from callengine.actor.deadlines import deadline_ending
from callengine.events import CloseCode, EndReason


def ending_at(now: float, last_media: float = 0.0, started_at: float = 0.0):
    return deadline_ending(
        now, last_media=last_media, started_at=started_at, silence_seconds=5, max_seconds=60
    )


def test_no_deadline_while_frames_flow_and_the_call_is_short():
    assert ending_at(59.0, last_media=58.98) is None


def test_silence_is_strictly_longer_than_the_deadline():
    assert ending_at(5.0) is None
    ending = ending_at(5.01)
    assert ending is not None
    assert (ending.reason, ending.code) == (EndReason.INBOUND_SILENCE, CloseCode.INBOUND_SILENCE)
    assert ending.text == "no inbound audio for 5 s"


def test_length_ends_a_call_whose_frames_still_flow():
    ending = ending_at(60.5, last_media=60.48)
    assert ending is not None
    assert (ending.reason, ending.code, ending.text) == (
        EndReason.MAX_DURATION,
        CloseCode.MAX_DURATION,
        "call longer than 60 s",
    )


def test_a_dead_stream_past_both_deadlines_is_silence():
    ending = ending_at(100.0, last_media=10.0)
    assert ending is not None and ending.reason is EndReason.INBOUND_SILENCE
