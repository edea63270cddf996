"""Audio helpers for the harness: μ-law coding, synthetic caller audio, voiced flags.

Pure module (no trio). μ-law coding and frame energy come from ``callengine.audio.mulaw``,
the one place that imports ``audioop``.
"""

from __future__ import annotations

import array
import math
import sys
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import random
    from collections.abc import Sequence

from callengine.audio.mulaw import pcm_to_ulaw, rms, ulaw_to_pcm

__all__ = [
    "MULAW_SILENCE",
    "ONSET_GAP_FRAMES",
    "SAMPLE_RATE",
    "VOICED_RMS",
    "frame_rms",
    "mulaw_frames",
    "noise_pcm",
    "onset_flags",
    "speech_pcm",
    "pcm_to_ulaw",
    "ulaw_to_pcm",
]

SAMPLE_RATE: Final = 8000
MULAW_SILENCE: Final = 0xFF
# RMS (16-bit PCM) above which a 20 ms frame counts as voiced: ~-40 dBFS, well above the
# background noise we synthesise (RMS ≈ 20-60) and below any syllable nucleus.
VOICED_RMS: Final = 300
# An utterance onset is the first voiced frame after at least this many unvoiced frames (200 ms).
ONSET_GAP_FRAMES: Final = 10


def frame_rms(ulaw_frame: bytes) -> int:
    """Return the RMS of a μ-law frame's decoded 16-bit PCM."""
    return rms(ulaw_to_pcm(ulaw_frame))


def onset_flags(voiced: Sequence[bool], gap_frames: int = ONSET_GAP_FRAMES) -> list[bool]:
    """Mark utterance onsets: a voiced frame preceded by ≥ ``gap_frames`` unvoiced frames.

    The stream start counts as a long enough silence, so a caller who speaks at once has an
    onset on the first voiced frame.
    """
    out: list[bool] = []
    quiet = gap_frames
    for flag in voiced:
        out.append(flag and quiet >= gap_frames)
        quiet = 0 if flag else quiet + 1
    return out


def _clip16(x: float) -> int:
    return max(-32768, min(32767, int(x)))


def noise_pcm(seconds: float, rng: random.Random, level: float = 30.0) -> bytes:
    """Low-level Gaussian background noise (line hiss), 16-bit PCM at 8 kHz.

    Args:
        seconds: Length.
        rng: Random source (seeded by the caller for reproducibility).
        level: Standard deviation in 16-bit units (30 ≈ -61 dBFS).
    """
    n = int(round(seconds * SAMPLE_RATE))
    gauss = rng.gauss
    samples = [_clip16(gauss(0.0, level)) for _ in range(n)]
    return _pack(samples)


def speech_pcm(seconds: float, rng: random.Random, *, f0: float = 140.0, level: float = 6000.0) -> bytes:
    """A speech-like voiced signal: harmonic source, formant-ish spectrum, syllable envelope.

    Syllables of 120-260 ms with a raised-cosine envelope are separated by 20-70 ms dips, at
    roughly 4-5 syllables per second; pitch glides slowly around ``f0``. It is not speech, but
    an energy/VAD detector sees it the way it sees a talking caller.

    Args:
        seconds: Length.
        rng: Random source.
        f0: Mean fundamental frequency in Hz.
        level: Peak amplitude in 16-bit units.
    """
    n = int(round(seconds * SAMPLE_RATE))
    env = [0.0] * n
    i = 0
    while i < n:
        syl = int(rng.uniform(0.12, 0.26) * SAMPLE_RATE)
        gap = int(rng.uniform(0.02, 0.07) * SAMPLE_RATE)
        peak = rng.uniform(0.55, 1.0)
        for j in range(min(syl, n - i)):
            env[i + j] = peak * 0.5 * (1.0 - math.cos(2.0 * math.pi * j / syl))
        i += syl + gap
    # Harmonic amplitudes shaped by two broad "formant" bumps near 500 Hz and 1500 Hz.
    harmonics = []
    k = 1
    while k * f0 < 3400:
        freq = k * f0
        amp = (1.0 / k) + 0.8 * math.exp(-(((freq - 500) / 250) ** 2)) + 0.5 * math.exp(-(((freq - 1500) / 400) ** 2))
        harmonics.append((k, amp))
        k += 1
    norm = sum(a for _, a in harmonics)
    phase = 0.0
    two_pi = 2.0 * math.pi
    samples = []
    glide = rng.uniform(0.0, two_pi)
    for t in range(n):
        f = f0 * (1.0 + 0.08 * math.sin(two_pi * 0.7 * t / SAMPLE_RATE + glide))
        phase += two_pi * f / SAMPLE_RATE
        e = env[t]
        if e < 1e-4:
            samples.append(0)
            continue
        s = 0.0
        for k, amp in harmonics:
            s += amp * math.sin(k * phase)
        samples.append(_clip16(level * e * s / norm))
    return _pack(samples)


def mulaw_frames(pcm: bytes, frame_bytes: int = 160) -> list[bytes]:
    """Encode PCM to μ-law and cut it into frames, padding the last one with silence."""
    ulaw = pcm_to_ulaw(pcm)
    frames = [ulaw[i : i + frame_bytes] for i in range(0, len(ulaw), frame_bytes)]
    if frames and len(frames[-1]) < frame_bytes:
        frames[-1] = frames[-1] + bytes([MULAW_SILENCE]) * (frame_bytes - len(frames[-1]))
    return frames


def _pack(samples: list[int]) -> bytes:
    arr = array.array("h", samples)
    if sys.byteorder == "big":  # pragma: no cover
        arr.byteswap()
    return arr.tobytes()
