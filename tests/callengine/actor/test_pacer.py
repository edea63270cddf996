from __future__ import annotations

import math

import pytest

from callengine.actor.pacer import Pacer, PacerItem


def make() -> Pacer:
    return Pacer(chunk_bytes=800, lead_seconds=0.2)  # 100 ms chunks, at least 200 ms ahead


def test_idle_pacer_has_nothing_due():
    assert make().next_due(10.0) == math.inf


def test_utterance_start_sends_the_lead_at_once_then_one_chunk_per_chunk_time():
    pacer = make()
    pacer.push_audio(b"\x01" * 8000)  # 1 s
    first = pacer.pop_due(0.0)
    assert [len(i.audio or b"") for i in first] == [800, 800, 800]  # lead + one chunk
    assert pacer.buffered_seconds(0.0) == pytest.approx(0.3)
    assert pacer.next_due(0.0) == pytest.approx(0.1)  # when the buffer falls to the lead
    assert pacer.pop_due(0.05) == []
    # once 100 ms have played the buffer is at the lead: one chunk tops it up
    assert pacer.pop_due(0.1) == [PacerItem(audio=b"\x01" * 800)]
    assert pacer.next_due(0.1) == pytest.approx(0.2)
    assert pacer.pop_due(0.15) == []


def test_due_time_always_releases_something():
    pacer = make()
    pacer.push_audio(b"\x01" * 80000)
    now = 0.0
    while not pacer.idle:
        assert pacer.pop_due(now), f"nothing released at its due time {now}"
        now = pacer.next_due(now)
    assert pacer.sent_bytes == 80000


def test_marks_follow_their_audio_without_waiting():
    pacer = make()
    pacer.push_audio(b"\x01" * 1600)
    pacer.push_mark("end")
    items = pacer.pop_due(0.0)
    assert items == [PacerItem(audio=b"\x01" * 800), PacerItem(audio=b"\x01" * 800), PacerItem(mark="end")]
    assert pacer.idle


def test_clear_drops_unsent_audio_and_marks_and_resets_playout():
    pacer = make()
    pacer.push_audio(b"\x01" * 8000)
    pacer.push_mark("m")
    pacer.pop_due(0.0)
    assert pacer.clear(0.1) == ["m"]
    assert pacer.idle and pacer.queued_seconds == 0
    assert pacer.buffered_seconds(0.1) == 0
    pacer.push_audio(b"\x02" * 800)
    assert pacer.pop_due(0.1) == [PacerItem(audio=b"\x02" * 800)]


def test_late_wakeup_catches_up_without_bursting_past_the_lead():
    pacer = make()
    pacer.push_audio(b"\x01" * 16000)
    pacer.pop_due(0.0)
    # a 250 ms stall: the buffer nearly ran dry, refill to the lead again
    items = pacer.pop_due(0.25)
    assert sum(len(i.audio or b"") for i in items) == 1600
    assert pacer.buffered_seconds(0.25) == pytest.approx(0.25)
