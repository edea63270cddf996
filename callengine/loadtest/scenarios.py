"""Synthetic caller scenarios, generated in pure Python and encoded once per run.

* ``talk``: speech-like audio for ``speech_s`` then background noise for ``pause_s``, repeated.
  Against the engine's ``echo`` brain (which replays each utterance after end of turn) the
  caller's next utterance overlaps the bot's reply, so every cycle is a barge-in.
* ``silence``: background noise only (Twilio streams frames continuously, silence included).
* ``dtmf``: background noise with a DTMF digit every 1.5 s.
"""

from __future__ import annotations

import random
import warnings
from typing import Final

from callengine.loadtest.audio import mulaw_frames, noise_pcm, speech_pcm
from callengine.loadtest.errors import ConfigError
from callengine.loadtest.session import FRAME_MS, Session, build_session

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

__all__ = ["SCENARIOS", "build_scenario"]

SCENARIOS: Final = ("talk", "silence", "dtmf")
# Distinct utterances synthesised for ``talk`` and cycled, so calls do not all say the same thing
# yet generation stays cheap (each utterance costs ~30 ms of pure Python per second of audio).
_UTTERANCE_VARIANTS: Final = 3
_DTMF_PERIOD_MS: Final = 1500
_DTMF_DIGITS: Final = "1234567890*#"
# Noise is generated in loops of this length and repeated (cheap, and inaudible as a loop).
_NOISE_LOOP_S: Final = 2.0


def build_scenario(
    name: str,
    *,
    duration_s: float,
    speech_s: float = 1.4,
    pause_s: float = 1.4,
    seed: int = 0,
) -> Session:
    """Build a synthetic session.

    Args:
        name: One of ``talk``, ``silence``, ``dtmf``.
        duration_s: Total stream length in seconds.
        speech_s: ``talk`` utterance length.
        pause_s: ``talk`` pause length.
        seed: Random seed (audio and jitter are reproducible).

    Returns:
        A session the harness replays like a recorded one.

    Raises:
        ConfigError: Unknown scenario or non-positive lengths.
    """
    if name not in SCENARIOS:
        raise ConfigError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    if duration_s <= 0 or speech_s <= 0 or pause_s <= 0:
        raise ConfigError("duration, speech and pause must be positive")
    rng = random.Random(seed)
    n_frames = max(1, int(round(duration_s * 1000 / FRAME_MS)))
    noise = mulaw_frames(noise_pcm(_NOISE_LOOP_S, rng))
    dtmf: list[tuple[float, str]] = []
    if name == "talk":
        frames = _talk_frames(n_frames, speech_s, pause_s, rng)
        desc = f"synthetic: {speech_s:g} s speech-like audio / {pause_s:g} s noise, repeated"
    elif name == "silence":
        frames = [noise[i % len(noise)] for i in range(n_frames)]
        desc = "synthetic: background noise only"
    else:
        frames = [noise[i % len(noise)] for i in range(n_frames)]
        t = 1000
        i = 0
        while t < n_frames * FRAME_MS:
            dtmf.append((float(t), _DTMF_DIGITS[i % len(_DTMF_DIGITS)]))
            t += _DTMF_PERIOD_MS
            i += 1
        desc = "synthetic: background noise with a DTMF digit every 1.5 s"
    return build_session(f"synthetic-{name}", desc, frames, dtmf=dtmf)


def _talk_frames(n_frames: int, speech_s: float, pause_s: float, rng: random.Random) -> list[bytes]:
    utterances: list[list[bytes]] = []
    for v in range(_UTTERANCE_VARIANTS):
        speech = speech_pcm(speech_s, rng, f0=120.0 + 35.0 * v)
        hiss = noise_pcm(speech_s, rng)
        utterances.append(mulaw_frames(audioop.add(speech, hiss[: len(speech)], 2)))
    pause = mulaw_frames(noise_pcm(pause_s, rng))
    frames: list[bytes] = []
    v = 0
    while len(frames) < n_frames:
        frames.extend(utterances[v % len(utterances)])
        frames.extend(pause)
        v += 1
    return frames[:n_frames]
