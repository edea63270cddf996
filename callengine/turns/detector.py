"""Caller turn detection: WebRTC VAD plus a calibrated energy floor (pure, no I/O).

Every 20 ms frame of 8 kHz PCM16 goes through two tests: WebRTC's VAD (a GMM over sub-band
energies, good at rejecting steady noise) and an energy floor calibrated over the first
``calibration_ms`` of the call (the line's own noise), so that faint cross-talk or a noisy
line that fools the VAD does not count as the caller speaking.

- *Onset* (``SpeechStarted``): ``onset_frames`` voiced frames within a window of
  ``onset_window`` frames. While the agent is talking the bar is higher (``echo_onset_frames``
  and ``echo_margin`` × the floor): the agent's own audio leaking back from the handset is
  quieter than a caller who really talks over it. Both stay within the 200 ms barge-in budget.
- *End of turn* (``TurnEnded``): ``pause_ms`` of unvoiced frames after an onset. An utterance
  shorter than ``min_speech_ms`` of voiced audio is a noise (a cough, a click):
  ``NoiseIgnored`` instead, and the agent carries on.
- *Early end* (``TurnPaused``, when ``early_pause_ms`` is set): after that much of a pause the
  turn so far is offered as a candidate. Whoever judges it (the brain, with the question's
  "is this already a complete answer?" test) may call ``end_turn(pause_id, now)``: while the
  same pause lasts that ends the turn at once (``TurnEnded``); once the caller has resumed it
  returns None and nothing was cut. With ``early_pause_ms`` ≥ the kept tail (240 ms) the
  candidate's audio is exactly the audio the full pause would hand over, so a decode of it
  serves the final turn too.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import final

import webrtcvad

from callengine.audio.mulaw import FRAME_MS, rms

__all__ = [
    "NoiseIgnored",
    "PauseState",
    "SpeechStarted",
    "TurnConfig",
    "TurnDetector",
    "TurnEnded",
    "TurnEvent",
    "TurnPaused",
]

SAMPLE_RATE = 8000
FRAME_BYTES_PCM = 320  # 20 ms of PCM16 at 8 kHz: one of the three frame sizes WebRTC VAD takes


@dataclass(frozen=True, slots=True)
class TurnConfig:
    pause_ms: int = 700  # silence that ends a caller's turn
    vad_mode: int = 2  # WebRTC aggressiveness 0..3 (2: telephone lines with some noise)
    calibration_ms: int = 400  # the first frames measure the line's noise floor
    min_rms: int = 200  # never speech below this, whatever the calibration said
    margin: float = 2.5  # voiced needs rms > margin × calibrated floor
    onset_frames: int = 4  # 4 voiced of the last 5 frames: 80-100 ms, clicks don't pass
    onset_window: int = 5
    echo_onset_frames: int = 7  # while the agent talks: 7 of 8 (140-160 ms, under 200 ms)
    echo_onset_window: int = 8
    echo_margin: float = 2.0  # ...and twice as loud as the floor otherwise needs
    min_speech_ms: int = 200  # voiced audio shorter than this is a noise, not a turn
    max_utterance_ms: int = 15_000  # bounds memory; a longer turn is cut and handed over
    # Pause after which the turn so far is offered for an early end (0: never). 240 ms: the
    # audio then equals the full pause's (TAIL_FRAMES), and people leave ~200 ms between turns.
    early_pause_ms: int = 0


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The caller started to speak; ``onset_at`` is the first voiced frame's time."""

    at: float
    onset_at: float
    during_playback: bool


@dataclass(frozen=True, slots=True)
class TurnEnded:
    """The caller finished a turn.

    Attributes:
        pcm: The utterance (PCM16 8 kHz), from shortly before the onset to the last voiced frame
            plus a little tail.
        speech_end_at: Time of the last voiced frame (the caller's real end of speech).
        at: When the pause confirmed the end of the turn.
        voiced_ms: Voiced audio in the turn.
    """

    pcm: bytes
    speech_start_at: float
    speech_end_at: float
    at: float
    voiced_ms: int


@dataclass(frozen=True, slots=True)
class NoiseIgnored:
    at: float
    voiced_ms: int


@dataclass(frozen=True, slots=True)
class TurnPaused:
    """The caller has paused ``early_pause_ms``: a candidate end of turn (see the module doc).

    Attributes:
        pcm: The utterance so far (as ``TurnEnded.pcm`` would be if the turn ended now).
        pause_id: Names this pause for ``TurnDetector.end_turn`` and ``pause_state``.
    """

    pcm: bytes
    speech_start_at: float
    speech_end_at: float
    at: float
    voiced_ms: int
    pause_id: int


class PauseState(StrEnum):
    OPEN = "open"  # the caller is still silent; the turn can be ended now
    RESUMED = "resumed"  # the caller spoke again: the candidate was not the end
    ENDED = "ended"  # the turn ended in this pause (early or by the full pause)


TurnEvent = SpeechStarted | TurnPaused | TurnEnded | NoiseIgnored

PREROLL_FRAMES = 16  # kept before detection, of which LEAD_FRAMES before the first voiced frame
LEAD_FRAMES = 6  # 120 ms before the word: more or less cost recognition on the fixtures
TAIL_FRAMES = 12  # 240 ms of the pause kept: word ends fade below the VAD (200-300 ms tried)


@final
class TurnDetector:
    """Feed frames in order with their time (seconds); get at most one event per frame."""

    def __init__(self, config: TurnConfig | None = None) -> None:
        self.config = cfg = config or TurnConfig()
        self._vad = webrtcvad.Vad(cfg.vad_mode)
        self._calibration_frames = max(1, cfg.calibration_ms // FRAME_MS)
        self._pause_frames = max(1, cfg.pause_ms // FRAME_MS)
        self._early_frames = cfg.early_pause_ms // FRAME_MS  # 0: no candidates
        self._pause_id = 0  # the last candidate's id
        self._open_pause: int | None = None  # the candidate whose pause still lasts
        self._ended_pause: int | None = None  # the candidate whose pause ended its turn
        self._max_frames = cfg.max_utterance_ms // FRAME_MS
        self._noise: list[int] = []
        self.floor: float | None = None  # calibrated line noise rms
        self._recent: deque[tuple[bool, float]] = deque(maxlen=max(cfg.onset_window, cfg.echo_onset_window))
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self._utterance: list[bytes] = []
        self.speaking = False
        self._quiet_run = 0
        self._voiced_frames = 0
        self._speech_start = 0.0
        self._last_voiced_at = 0.0
        self.frames = 0

    def threshold(self, playing: bool) -> float:
        cfg = self.config
        floor = self.floor if self.floor is not None else cfg.min_rms / cfg.margin
        level = max(float(cfg.min_rms), floor * cfg.margin)
        return level * cfg.echo_margin if playing else level

    def is_voiced(self, pcm: bytes, *, playing: bool = False) -> bool:
        """One frame's verdict: VAD says speech and the energy clears the floor."""
        if len(pcm) != FRAME_BYTES_PCM:
            raise ValueError(f"expected {FRAME_BYTES_PCM} bytes of PCM16 (20 ms at 8 kHz), got {len(pcm)}")
        if rms(pcm) <= self.threshold(playing):
            return False
        return bool(self._vad.is_speech(pcm, SAMPLE_RATE))

    def update(self, pcm: bytes, now: float, *, playing: bool = False) -> TurnEvent | None:
        """Process one 20 ms frame received at ``now``; ``playing``: the agent is talking.

        Raises:
            ValueError: If ``pcm`` is not one 20 ms frame.
        """
        self.frames += 1
        if self.floor is None:
            self._noise.append(rms(pcm))
            if len(self._noise) >= self._calibration_frames:
                # The median, so a caller who talks from the first frame barely moves it.
                self.floor = float(sorted(self._noise)[len(self._noise) // 2])
        # The echo bar only guards the onset: once the caller talks, the agent has been cleared,
        # and a raised bar would clip the quiet end of the turn ("messa-", "-ge" lost).
        voiced = self.is_voiced(pcm, playing=playing and not self.speaking)
        if self.speaking:
            return self._in_speech(pcm, voiced, now)
        self._recent.append((voiced, now))
        self._preroll.append(pcm)
        cfg = self.config
        need, window = (
            (cfg.echo_onset_frames, cfg.echo_onset_window)
            if playing
            else (cfg.onset_frames, cfg.onset_window)
        )
        recent = list(self._recent)[-window:]
        hits = [t for v, t in recent if v]
        if len(hits) < need:
            return None
        self.speaking = True
        self._quiet_run = 0
        self._voiced_frames = len(hits)
        self._speech_start = hits[0]
        self._last_voiced_at = now
        first = next(i for i, (v, _) in enumerate(recent) if v)
        keep = len(recent) - first + LEAD_FRAMES  # the same lead-in for a normal or barge-in onset
        self._utterance = list(self._preroll)[-keep:]
        self._preroll.clear()
        self._recent.clear()
        return SpeechStarted(now, hits[0], playing)

    def _in_speech(self, pcm: bytes, voiced: bool, now: float) -> TurnEvent | None:
        cfg = self.config
        if voiced:
            self._quiet_run = 0
            self._voiced_frames += 1
            self._last_voiced_at = now
            self._open_pause = None  # the caller resumed: an earlier candidate was not the end
        else:
            self._quiet_run += 1
        if self._quiet_run <= TAIL_FRAMES or voiced:
            self._utterance.append(pcm)
        if self._quiet_run < self._pause_frames and len(self._utterance) < self._max_frames:
            if self._quiet_run == self._early_frames and self._early_frames:
                voiced_ms = self._voiced_frames * FRAME_MS
                if voiced_ms >= cfg.min_speech_ms:
                    self._pause_id += 1
                    self._open_pause = self._pause_id
                    return TurnPaused(
                        b"".join(self._utterance), self._speech_start, self._last_voiced_at, now,
                        voiced_ms, self._pause_id,
                    )
            return None
        return self._finish(now)

    def _finish(self, now: float) -> TurnEnded | NoiseIgnored:
        self.speaking = False
        self._ended_pause, self._open_pause = self._open_pause, None
        voiced_ms = self._voiced_frames * FRAME_MS
        audio = b"".join(self._utterance)
        self._utterance = []
        self._quiet_run = 0
        if voiced_ms < self.config.min_speech_ms:
            return NoiseIgnored(now, voiced_ms)
        return TurnEnded(audio, self._speech_start, self._last_voiced_at, now, voiced_ms)

    def pause_state(self, pause_id: int) -> PauseState:
        """What became of the candidate ``pause_id``."""
        if pause_id == self._open_pause:
            return PauseState.OPEN
        if pause_id == self._ended_pause:
            return PauseState.ENDED
        return PauseState.RESUMED

    def end_turn(self, pause_id: int, now: float) -> TurnEnded | None:
        """End the turn at the candidate ``pause_id`` now, if its pause still lasts.

        Returns:
            The turn (its audio is the candidate's), or None when the caller has resumed or
            the turn already ended.
        """
        if not self.speaking or pause_id != self._open_pause:
            return None
        event = self._finish(now)
        assert type(event) is TurnEnded  # candidates are offered only past min_speech_ms
        return event

    def cancel_turn(self) -> None:
        """Forget a turn in progress (e.g. the call moves on without it)."""
        self.speaking = False
        self._utterance = []
        self._quiet_run = 0
        self._open_pause = None
