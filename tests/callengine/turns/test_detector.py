"""TurnDetector on synthetic 8 kHz frames: calibration, onset, end of turn, noise, echo."""

from __future__ import annotations

import math
import random

import pytest

from callengine.turns import (
    NoiseIgnored,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
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
