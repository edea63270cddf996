"""TurnDetector on synthetic 8 kHz frames: calibration, onset, end of turn, noise, echo."""

from __future__ import annotations

import math
import random

import pytest

from callengine.turns import (
    NoiseIgnored,
    PauseState,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
    TurnPaused,
)

FRAME = 160  # samples per 20 ms


def _pack(samples: list[float]) -> bytes:
    return b"".join(max(-32768, min(32767, int(s))).to_bytes(2, "little", signed=True) for s in samples)


def noise(rng: random.Random, level: float = 30.0) -> bytes:
    return _pack([rng.gauss(0, level) for _ in range(FRAME)])


def voice(k: int, level: float = 6000.0) -> bytes:
    """A voiced, speech-like frame: harmonics of 140 Hz with a slow formant wobble."""
    out = []
    for i in range(FRAME):
        t = (k * FRAME + i) / 8000
        s = sum(math.sin(2 * math.pi * 140 * h * t) / h for h in range(1, 12))
        out.append(level * 0.4 * s * (0.7 + 0.3 * math.sin(2 * math.pi * 3 * t)))
    return _pack(out)


def feed(det: TurnDetector, frames: list[bytes], *, start: int = 0, playing: bool = False) -> list[tuple[int, TurnEvent]]:
    events = []
    for k, pcm in enumerate(frames, start):
        event = det.update(pcm, k * 0.02, playing=playing)
        if event is not None:
            events.append((k, event))
    return events


def test_speech_onset_then_end_of_turn_after_the_pause() -> None:
    rng = random.Random(1)
    det = TurnDetector(TurnConfig(pause_ms=400))
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(40)] + [noise(rng) for _ in range(40)]
    events = feed(det, frames)
    assert det.floor is not None and det.floor < 60
    (k1, started), (k2, ended) = events
    assert isinstance(started, SpeechStarted) and not started.during_playback
    assert 30 <= k1 <= 30 + 5  # within 100 ms of the first voiced frame
    assert started.onset_at == pytest.approx(0.6)
    assert isinstance(ended, TurnEnded)
    assert k2 == 69 + 20  # last voiced frame + 400 ms
    assert ended.speech_end_at == pytest.approx(69 * 0.02)
    assert ended.voiced_ms >= 760
    assert len(ended.pcm) == (6 + 40 + 12) * 320  # 120 ms lead-in + speech + 240 ms tail


def test_short_noise_is_ignored_not_a_turn() -> None:
    rng = random.Random(2)
    det = TurnDetector()
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(6)] + [noise(rng) for _ in range(50)]
    events = feed(det, frames)
    assert [type(e) for _, e in events] == [SpeechStarted, NoiseIgnored]


def test_clicks_shorter_than_the_onset_never_start_speech() -> None:
    rng = random.Random(3)
    det = TurnDetector()
    frames: list[bytes] = [noise(rng) for _ in range(30)]
    for k in range(10):  # a click every 100 ms: one loud frame in five
        frames += [voice(k)] + [noise(rng) for _ in range(4)]
    assert feed(det, frames) == []


def test_barge_in_needs_more_while_the_agent_talks_but_stays_under_200_ms() -> None:
    rng = random.Random(4)
    det = TurnDetector()
    feed(det, [noise(rng) for _ in range(30)])
    quiet_echo = [voice(k, level=350) for k in range(20)]  # our own audio leaking back faintly
    assert feed(det, quiet_echo, start=30, playing=True) == []
    events = feed(det, [voice(k) for k in range(20)], start=50, playing=True)
    k, started = events[0]
    assert isinstance(started, SpeechStarted) and started.during_playback
    assert (k - 50 + 1) * 20 <= 200


def test_calibration_raises_the_floor_on_a_noisy_line() -> None:
    rng = random.Random(5)
    quiet, loud = TurnDetector(), TurnDetector()
    feed(quiet, [noise(rng, 20) for _ in range(25)])
    feed(loud, [noise(rng, 400) for _ in range(25)])
    assert loud.threshold(False) > quiet.threshold(False) * 3


def test_wrong_frame_size_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="320 bytes"):
        TurnDetector().update(b"\x00" * 100, 0.0)


def test_a_barge_in_turn_keeps_the_same_lead_in_as_a_normal_one() -> None:
    rng = random.Random(6)
    turns = []
    for playing in (False, True):
        det = TurnDetector(TurnConfig(pause_ms=400))
        feed(det, [noise(rng) for _ in range(30)])
        feed(det, [voice(k) for k in range(40)], start=30, playing=playing)
        events = feed(det, [noise(rng) for _ in range(30)], start=70)
        turns.append(next(e for _, e in events if isinstance(e, TurnEnded)))
    normal, barge_in = turns
    assert len(normal.pcm) == len(barge_in.pcm)  # the stricter onset does not clip the word


EARLY = TurnConfig(pause_ms=700, early_pause_ms=240)


def test_a_short_pause_offers_the_turn_so_far_and_the_full_pause_still_ends_it() -> None:
    rng = random.Random(7)
    det = TurnDetector(EARLY)
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(30)] + [noise(rng) for _ in range(50)]
    events = feed(det, frames)
    assert [type(e) for _, e in events] == [SpeechStarted, TurnPaused, TurnEnded]
    (_, _), (k_paused, paused), (k_ended, ended) = events
    assert isinstance(paused, TurnPaused) and isinstance(ended, TurnEnded)
    assert k_paused == 59 + 12  # last voiced frame + 240 ms
    assert k_ended == 59 + 35
    # The candidate's audio is the full pause's (the kept tail is 240 ms): one decode serves both.
    assert paused.pcm == ended.pcm
    assert paused.speech_end_at == ended.speech_end_at
    assert det.pause_state(paused.pause_id) is PauseState.ENDED


def test_ending_at_the_candidate_ends_the_turn_at_once_with_its_audio() -> None:
    rng = random.Random(8)
    det = TurnDetector(EARLY)
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(30)] + [noise(rng) for _ in range(14)]
    events = feed(det, frames)
    paused = events[-1][1]
    assert isinstance(paused, TurnPaused)
    assert det.pause_state(paused.pause_id) is PauseState.OPEN
    ended = det.end_turn(paused.pause_id, 73 * 0.02)
    assert isinstance(ended, TurnEnded)
    assert ended.pcm == paused.pcm and ended.at == pytest.approx(73 * 0.02)
    assert not det.speaking and det.pause_state(paused.pause_id) is PauseState.ENDED
    assert det.end_turn(paused.pause_id, 74 * 0.02) is None  # only once
    # The rest of the pause is silence after a finished turn: no second end.
    assert feed(det, [noise(rng) for _ in range(60)], start=74) == []


@pytest.mark.parametrize("pause_ms", [300, 400, 500])
def test_a_caller_who_resumes_after_a_mid_sentence_pause_is_never_cut(pause_ms: int) -> None:
    rng = random.Random(pause_ms)
    det = TurnDetector(EARLY)
    gap = pause_ms // 20
    frames = (
        [noise(rng) for _ in range(30)]
        + [voice(k) for k in range(25)]  # "five five five"
        + [noise(rng) for _ in range(gap)]
        + [voice(k) for k in range(25)]  # "one two three four"
        + [noise(rng) for _ in range(50)]
    )
    events = feed(det, frames)
    kinds = [type(e) for _, e in events]
    assert kinds == [SpeechStarted, TurnPaused, TurnPaused, TurnEnded]
    first, second, ended = events[1][1], events[2][1], events[3][1]
    assert isinstance(first, TurnPaused) and isinstance(second, TurnPaused) and isinstance(ended, TurnEnded)
    # The brain's judgement of the first candidate came back after the caller went on.
    assert det.pause_state(first.pause_id) is PauseState.RESUMED
    assert det.end_turn(first.pause_id, 200 * 0.02) is None
    assert ended.voiced_ms >= 50 * 20 - 100  # both halves in one turn
    assert len(ended.pcm) > len(first.pcm) + 25 * 320


def test_a_late_judgement_cannot_end_a_resumed_turn() -> None:
    rng = random.Random(9)
    det = TurnDetector(EARLY)
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(25)] + [noise(rng) for _ in range(13)]
    paused = feed(det, frames)[-1][1]
    assert isinstance(paused, TurnPaused)
    feed(det, [voice(k) for k in range(3)], start=68)  # the caller goes on
    assert det.speaking
    assert det.end_turn(paused.pause_id, 71 * 0.02) is None
    assert det.speaking  # the turn is still the caller's


def test_no_candidates_without_early_pause_or_for_noises() -> None:
    rng = random.Random(10)
    det = TurnDetector(TurnConfig(pause_ms=700))
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(30)] + [noise(rng) for _ in range(50)]
    assert [type(e) for _, e in feed(det, frames)] == [SpeechStarted, TurnEnded]
    det = TurnDetector(EARLY)
    frames = [noise(rng) for _ in range(30)] + [voice(k) for k in range(6)] + [noise(rng) for _ in range(50)]
    assert [type(e) for _, e in feed(det, frames)] == [SpeechStarted, NoiseIgnored]
