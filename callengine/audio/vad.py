"""Energy voice-activity detection with onset and end-of-turn debouncing (pure).

Good enough for the echo brain and barge-in on telephone audio: a frame is voiced when its RMS
clears an adaptive noise floor by a margin. Speech *starts* after ``onset_frames`` voiced frames
in a row (guards against clicks), and *ends* after ``pause_frames`` unvoiced frames in a row
(the end of a turn). The voice agent issue replaces the energy test with WebRTC VAD.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import final

__all__ = ["EnergyVad", "VadConfig", "VadEvent"]


class VadEvent(Enum):
    SPEECH_STARTED = "speech_started"
    SPEECH_ENDED = "speech_ended"


@dataclass(frozen=True, slots=True)
class VadConfig:
    onset_frames: int = 3  # 60 ms of voice before we believe it (barge-in ≤ 200 ms total)
    pause_frames: int = 20  # 400 ms of quiet ends a turn
    min_rms: int = 300  # absolute floor: quieter than this is never speech
    margin: float = 3.0  # voiced = rms > margin × noise floor
    floor_alpha: float = 0.05  # how fast the noise floor follows quiet frames
    floor_fall: float = 0.1  # ...and drops to quieter ones
    floor_rise_voiced: float = 0.002  # ~10 s: steady line noise stops counting as speech


@final
class EnergyVad:
    """Feed it one frame's RMS at a time; it answers with a ``VadEvent`` or ``None``."""

    __slots__ = ("_cfg", "_floor", "_run", "speaking")

    def __init__(self, config: VadConfig | None = None) -> None:
        self._cfg = config or VadConfig()
        self._floor = float(self._cfg.min_rms) / self._cfg.margin
        self._run = 0  # consecutive frames disagreeing with the current state
        self.speaking = False

    @property
    def threshold(self) -> float:
        return max(float(self._cfg.min_rms), self._floor * self._cfg.margin)

    def update(self, energy: int) -> VadEvent | None:
        cfg = self._cfg
        voiced = energy > self.threshold
        # The noise floor falls fast, follows quiet frames, and creeps up under "speech" so
        # that a noisy line cannot hold the detector open forever while real (short)
        # utterances barely move it.
        if energy <= self._floor:
            rate = cfg.floor_fall
        elif voiced:
            rate = cfg.floor_rise_voiced
        else:
            rate = cfg.floor_alpha
        self._floor += (energy - self._floor) * rate
        if voiced == self.speaking:
            self._run = 0
            return None
        self._run += 1
        if self.speaking and self._run >= cfg.pause_frames:
            self.speaking = False
            self._run = 0
            return VadEvent.SPEECH_ENDED
        if not self.speaking and self._run >= cfg.onset_frames:
            self.speaking = True
            self._run = 0
            return VadEvent.SPEECH_STARTED
        return None
