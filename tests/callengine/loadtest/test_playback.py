"""Twilio playout-buffer model with explicit times."""

from __future__ import annotations

import pytest

from callengine.loadtest.playback import PlaybackModel


def test_media_plays_at_8000_bytes_per_second_from_arrival() -> None:
    pb = PlaybackModel()
    first = pb.media(10.0, 1600)  # 200 ms
    assert first.lead_s == 0.0 and first.pacing_error_s is None
    second = pb.media(10.1, 800)
    assert second.lead_s == pytest.approx(0.1)
    assert second.underrun_s == 0.0
    assert pb.play_end == pytest.approx(10.3)
    assert pb.playing(10.29) and not pb.playing(10.3)


def test_underrun_when_buffer_runs_dry_mid_utterance() -> None:
    pb = PlaybackModel()
    pb.media(0.0, 160)  # plays until 0.02
    late = pb.media(0.05, 160)
    assert late.underrun_s == pytest.approx(0.03)
    assert late.pacing_error_s == pytest.approx(0.03)


def test_no_underrun_after_a_long_gap_or_a_mark() -> None:
    pb = PlaybackModel()
    pb.media(0.0, 160)
    assert pb.media(1.5, 160).underrun_s == 0.0  # new utterance: previous chunk > 1 s ago
    pb.mark(1.6, b"end")
    assert pb.media(1.7, 160).underrun_s == 0.0  # a mark ends the utterance
    pb.clear(1.8)
    assert pb.media(1.9, 160).pacing_error_s is None


def test_mark_on_empty_buffer_is_due_at_once() -> None:
    pb = PlaybackModel()
    pb.mark(5.0, b"probe")
    assert [m.name for m in pb.pop_due(5.0)] == [b"probe"]


def test_marks_fall_due_when_audio_before_them_has_played() -> None:
    pb = PlaybackModel()
    pb.media(0.0, 800)  # 100 ms
    pb.mark(0.01, b"a")
    pb.media(0.02, 800)  # +100 ms
    pb.mark(0.03, b"b")
    assert pb.next_due() == pytest.approx(0.1)
    assert pb.pop_due(0.09) == []
    assert [m.name for m in pb.pop_due(0.1)] == [b"a"]
    due = pb.pop_due(0.2)
    assert [m.name for m in due] == [b"b"]
    assert due[0].arrived_at == 0.03 and due[0].due_at == pytest.approx(0.2)
    assert pb.next_due() is None


def test_clear_empties_buffer_and_releases_pending_marks() -> None:
    pb = PlaybackModel()
    pb.media(0.0, 8000)  # 1 s
    pb.mark(0.1, b"x")
    pb.mark(0.2, b"y")
    pb.clear(0.3)
    assert not pb.playing(0.3)
    assert [(m.name, m.due_at) for m in pb.pop_due(0.3)] == [(b"x", 0.3), (b"y", 0.3)]
    assert pb.pending_marks == 0
    assert pb.media(0.4, 160).lead_s == 0.0
