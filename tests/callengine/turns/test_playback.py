"""PlaybackTracker: marks → what the caller heard; barge-in truncation."""

from __future__ import annotations

from callengine.events import SendAudio, SendMark
from callengine.turns import MARK_EVERY_MS, PlaybackTracker, truncate_text

TEXT = "Thanks for calling. How can I help you today?"


def test_utterance_is_queued_in_marked_chunks() -> None:
    tracker = PlaybackTracker()
    commands = tracker.start(TEXT, b"\xff" * 12_000, now=0.0)  # 1.5 s
    assert [type(c) for c in commands] == [SendAudio, SendMark] * 3
    assert [c.name for c in commands if isinstance(c, SendMark)] == ["u1:500", "u1:1000", "u1:1500"]
    assert tracker.playing and tracker.current == "u1"


def test_last_mark_finishes_the_utterance_as_heard_in_full() -> None:
    tracker = PlaybackTracker()
    tracker.start(TEXT, b"\xff" * 12_000, now=0.0)
    assert tracker.on_mark("u1:500", 0.6) is None
    assert tracker.on_mark("u1:1000", 1.1) is None
    played = tracker.on_mark("u1:1500", 1.6)
    assert played is not None and not played.interrupted and played.text == TEXT
    assert played.heard_ms == 1500 and not tracker.playing


def test_barge_in_cuts_the_text_at_what_was_played() -> None:
    tracker = PlaybackTracker()
    tracker.start(TEXT, b"\xff" * 32_000, now=0.0)  # 4 s
    tracker.on_mark("u1:500", 0.5)
    tracker.on_mark("u1:1000", 1.0)
    played = tracker.interrupt(now=1.25)  # 250 ms after the last mark
    assert played is not None and played.interrupted
    assert played.heard_ms == 1250
    assert played.text == "Thanks for…"  # 14 of 46 characters: "Thanks for cal" → whole words
    assert played.full_text == TEXT


def test_heard_time_never_runs_past_the_next_mark() -> None:
    tracker = PlaybackTracker()
    tracker.start(TEXT, b"\xff" * 32_000, now=0.0)
    tracker.on_mark("u1:500", 0.5)
    assert tracker.heard_ms(now=5.0) == 500 + MARK_EVERY_MS  # marks stalled: no guessing further


def test_nothing_confirmed_means_nothing_heard() -> None:
    tracker = PlaybackTracker()
    tracker.start(TEXT, b"\xff" * 32_000, now=0.0)
    played = tracker.interrupt(now=0.3)
    assert played is not None and played.heard_ms == 0 and played.text == ""


def test_marks_of_a_cleared_utterance_are_ignored() -> None:
    tracker = PlaybackTracker()
    tracker.start("first", b"\xff" * 8000, now=0.0)
    tracker.interrupt(now=0.1)
    tracker.start("second", b"\xff" * 8000, now=0.2)
    assert tracker.on_mark("u1:500", 0.25) is None  # Twilio flushing u1's marks after clear
    assert tracker.on_mark("u1:1000", 0.25) is None
    assert tracker.current == "u2"


def test_truncate_text_drops_a_half_said_word() -> None:
    assert truncate_text("alpha beta gamma", 500, 1000) == "alpha…"
    assert truncate_text("alpha beta gamma", 1000, 1000) == "alpha beta gamma"
    assert truncate_text("alpha beta gamma", 0, 1000) == ""
