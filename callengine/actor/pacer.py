"""Outbound pacing against Twilio's playout buffer (pure; times are plain floats).

Twilio plays outbound audio at its own clock and buffers whatever arrives early ("media
messages are buffered and played in the order received"). So instead of hitting every 20 ms
slot we keep Twilio's buffer a little ahead: while its estimated content is below ``lead`` we
send another chunk, so it holds between ``lead`` and ``lead`` + one chunk during an utterance
(the first ``lead`` goes out at once). Scheduler stalls
shorter than the lead become inaudible, and ``clear`` still silences the caller at once.
Marks go out right after the audio they follow; nothing waits behind the lead.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import final

__all__ = ["Pacer", "PacerItem"]

BYTES_PER_SECOND = 8000
EPSILON = 1e-6  # float slack: "buffered == lead" at the due time must count as due


@dataclass(frozen=True, slots=True)
class PacerItem:
    """One message to send now: ``audio`` bytes, or a mark ``name``."""

    audio: bytes | None = None
    mark: str | None = None


@final
class Pacer:
    """Queue of audio and marks, released as Twilio's estimated buffer needs them."""

    __slots__ = ("_chunk", "_lead", "_queue", "_queued_bytes", "playout_end", "sent_bytes")

    def __init__(self, *, chunk_bytes: int, lead_seconds: float, slack_seconds: float = 0.0) -> None:
        """
        Args:
            chunk_bytes: audio per outbound message.
            lead_seconds: keep at least this much audio queued at Twilio while talking.
            slack_seconds: release a chunk this much before it is strictly due. When the
                caller releases on a clock of its own (Twilio's 20 ms inbound frames), half a
                tick keeps the release on one side of the due time despite arrival jitter,
                so chunks leave at a steady cadence instead of flipping between two ticks.
        """
        if chunk_bytes <= 0:
            raise ValueError("chunk_bytes must be positive")
        self._chunk = chunk_bytes
        self._lead = lead_seconds + slack_seconds
        self._queue: deque[bytes | str] = deque()  # bytes = audio, str = mark name
        self._queued_bytes = 0
        self.playout_end = 0.0  # when Twilio's buffer runs dry, as far as we know
        self.sent_bytes = 0

    @property
    def queued_seconds(self) -> float:
        """Audio accepted but not yet sent."""
        return self._queued_bytes / BYTES_PER_SECOND

    def buffered_seconds(self, now: float) -> float:
        """Audio sent but (by our estimate) not yet played by Twilio."""
        return max(0.0, self.playout_end - now)

    @property
    def idle(self) -> bool:
        return not self._queue

    def push_audio(self, ulaw: bytes) -> None:
        if ulaw:
            self._queue.append(ulaw)
            self._queued_bytes += len(ulaw)

    def push_mark(self, name: str) -> None:
        self._queue.append(name)

    def clear(self, now: float) -> list[str]:
        """Drop everything unsent; Twilio's buffer is cleared too. Returns dropped mark names."""
        dropped = [item for item in self._queue if isinstance(item, str)]
        self._queue.clear()
        self._queued_bytes = 0
        self.playout_end = now
        return dropped

    def next_due(self, now: float) -> float:
        """The time the next item must be sent (``inf`` when nothing is queued)."""
        if not self._queue:
            return math.inf
        if isinstance(self._queue[0], str):
            return now
        return max(now, self.playout_end - self._lead)

    def pop_due(self, now: float) -> list[PacerItem]:
        """Everything that must go out at ``now``, in order."""
        out: list[PacerItem] = []
        queue = self._queue
        while queue:
            head = queue[0]
            if isinstance(head, str):
                queue.popleft()
                out.append(PacerItem(mark=head))
                continue
            if self.playout_end - now >= self._lead + EPSILON:
                break
            chunk = head[: self._chunk]
            if len(chunk) == len(head):
                queue.popleft()
            else:
                queue[0] = head[self._chunk :]
            self._queued_bytes -= len(chunk)
            self.sent_bytes += len(chunk)
            self.playout_end = max(self.playout_end, now) + len(chunk) / BYTES_PER_SECOND
            out.append(PacerItem(audio=chunk))
        return out
