"""The ``echo`` brain: plays each caller utterance back after a pause, with barge-in.

Used by tests and benchmarks. ``EchoTurns`` is the pure turn-taking logic; ``EchoBrain`` is
the thin async shell that feeds it from the inbound channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

from callengine.audio.mulaw import FRAME_MS, rms
from callengine.audio.vad import EnergyVad, VadConfig, VadEvent
from callengine.events import (
    ClearPlayback,
    Command,
    DtmfReceived,
    MarkReached,
    MediaReceived,
    SendAudio,
    SendMark,
)

if TYPE_CHECKING:
    import trio

    from callengine.brains.base import CallInfo
    from callengine.events import InboundEvent

__all__ = ["EchoBrain", "EchoTurns"]

MAX_UTTERANCE_FRAMES = 500  # 10 s: bounds memory per call whatever the caller does


@final
class EchoTurns:
    """Pure echo turn-taking: frames in, commands out."""

    def __init__(self, *, pause_ms: int = 400, vad: VadConfig | None = None) -> None:
        cfg = vad or VadConfig()
        self._vad = EnergyVad(
            VadConfig(cfg.onset_frames, pause_ms // FRAME_MS, cfg.min_rms, cfg.margin)
        )
        self._onset = cfg.onset_frames
        self._pause_frames = pause_ms // FRAME_MS
        self._preroll: list[bytes] = []  # the onset frames, so the echo is not clipped
        self._utterance: list[bytes] = []
        self._talking_mark: str | None = None
        self._turns = 0
        self.turns: list[dict[str, Any]] = []
        self.barge_ins = 0
        self.dtmf: list[str] = []

    @property
    def talking(self) -> bool:
        return self._talking_mark is not None

    def on_media(self, frame: MediaReceived) -> list[Command]:
        event = self._vad.update(rms(frame.pcm))
        if self._vad.speaking or event is VadEvent.SPEECH_ENDED:
            if len(self._utterance) < MAX_UTTERANCE_FRAMES:
                self._utterance.append(frame.ulaw)
        else:
            self._preroll.append(frame.ulaw)
            excess = len(self._preroll) - (self._onset - 1)
            if excess > 0:
                del self._preroll[:excess]
        if event is VadEvent.SPEECH_STARTED:
            self._utterance = self._preroll + self._utterance
            self._preroll = []
            if self.talking:
                # Barge-in: the caller talks over us; stop our audio at once.
                self.barge_ins += 1
                self._talking_mark = None
                if self.turns:
                    self.turns[-1]["interrupted"] = True
                return [ClearPlayback()]
            return []
        if event is VadEvent.SPEECH_ENDED:
            return self._reply()
        return []

    def _reply(self) -> list[Command]:
        # Drop the trailing pause that ended the turn: echo the speech, not the silence.
        audio = b"".join(self._utterance[: -self._pause_frames or None])
        self._utterance = []
        self._turns += 1
        duration_ms = len(audio) * 1000 // 8000
        self.turns.append({"speaker": "caller", "audio_ms": duration_ms})
        self.turns.append({"speaker": "agent", "audio_ms": duration_ms, "interrupted": False})
        self._talking_mark = f"echo-{self._turns}"
        return [SendAudio(audio), SendMark(self._talking_mark)]

    def on_mark(self, mark: MarkReached) -> None:
        if mark.name == self._talking_mark:
            self._talking_mark = None

    def on_dtmf(self, dtmf: DtmfReceived) -> None:
        self.dtmf.append(dtmf.digit)


@final
class EchoBrain:
    """Async shell around ``EchoTurns``."""

    name = "echo"

    def __init__(self, *, pause_ms: int = 400) -> None:
        self._turns = EchoTurns(pause_ms=pause_ms)
        self.on_media = self._turns.on_media  # the per-frame path is pure turn-taking

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        turns = self._turns
        async for event in inbound:
            if type(event) is MarkReached:
                turns.on_mark(event)
            elif type(event) is DtmfReceived:
                turns.on_dtmf(event)

    def summary(self) -> dict[str, Any]:
        return {
            "transcript": self._turns.turns,
            "barge_ins": self._turns.barge_ins,
            "dtmf": self._turns.dtmf,
        }
