"""Per-turn timing for the call record (pure).

For each caller turn that the agent answers:

- ``endpoint_ms``: caller's last voiced frame → end of turn decided (the configured pause plus
  a frame). This is added by turn-taking, i.e. the engine.
- ``brain_ms``: end of turn → the agent's first reply audio queued (recognition, decision,
  synthesis). This is the brain's part.
- ``response_ms``: their sum, the caller's end of speech → first reply audio.

Barge-ins record ``latency_ms``: the caller's first voiced frame → ``clear`` issued (within the
same frame as the detection). Talk time is the agent audio the caller heard; listen time the
caller's speech.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, final

__all__ = ["TurnMetrics"]


@dataclass(slots=True)
class _Pending:
    speech_end_at: float
    turn_end_at: float


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _pct(values: list[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@final
@dataclass
class TurnMetrics:
    turns: list[dict[str, int]] = field(default_factory=list)
    barge_ins: list[dict[str, int]] = field(default_factory=list)
    talk_ms: int = 0
    listen_ms: int = 0
    noises_ignored: int = 0
    dtmf_interrupts: int = 0  # key presses that cut the agent off (no speech latency to report)
    _pending: _Pending | None = None

    def caller_turn(self, speech_start_at: float, speech_end_at: float, turn_end_at: float) -> None:
        self.listen_ms += max(0, _ms(speech_end_at - speech_start_at))
        self._pending = _Pending(speech_end_at, turn_end_at)

    def reply_queued(self, now: float) -> None:
        """The agent's first audio after a caller turn was queued at ``now``."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        endpoint = _ms(pending.turn_end_at - pending.speech_end_at)
        brain = _ms(now - pending.turn_end_at)
        self.turns.append(
            {"endpoint_ms": endpoint, "brain_ms": brain, "response_ms": endpoint + brain}
        )

    def barge_in(self, onset_at: float, cleared_at: float, heard_ms: int) -> None:
        self.barge_ins.append(
            {"latency_ms": _ms(cleared_at - onset_at), "agent_heard_ms": heard_ms}
        )

    def agent_heard(self, heard_ms: int) -> None:
        self.talk_ms += heard_ms

    def summary(self) -> dict[str, Any]:
        response = [t["response_ms"] for t in self.turns]
        brain = [t["brain_ms"] for t in self.turns]
        barge = [b["latency_ms"] for b in self.barge_ins]
        return {
            "turns": self.turns,
            "barge_ins": self.barge_ins,
            "talk_ms": self.talk_ms,
            "listen_ms": self.listen_ms,
            "noises_ignored": self.noises_ignored,
            "dtmf_interrupts": self.dtmf_interrupts,
            "response_ms_p50": _pct(response, 0.5),
            "response_ms_max": max(response) if response else None,
            "brain_ms_p50": _pct(brain, 0.5),
            "barge_in_latency_ms_max": max(barge) if barge else None,
        }
