"""Model of Twilio's outbound playout buffer for one call (pure; times are explicit seconds).

Twilio documents that server ``media`` is "buffered and played in the order received", any
size, and that a ``mark`` is echoed when the audio queued before it has played, at once when
nothing is buffered, and immediately for every pending mark on ``clear``
(https://www.twilio.com/docs/voice/media-streams/websocket-messages). This class reproduces that
at 8000 μ-law bytes per second from each chunk's arrival, and measures what a caller would hear:

* **lead**: audio still buffered when a chunk arrives;
* **underrun**: a chunk arrives after the buffer ran dry *mid-utterance*, i.e. the previous
  chunk came less than ``utterance_gap_s`` earlier and no mark/clear arrived in between;
* **pacing error**: arrival gap minus the previous chunk's duration, positive part, within an
  utterance (same condition as underruns).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

__all__ = ["DueMark", "MediaArrival", "PlaybackModel"]

BYTES_PER_SECOND: Final = 8000
# Chunks further apart than this belong to different utterances, not an underrun.
UTTERANCE_GAP_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class MediaArrival:
    """What one outbound ``media`` chunk tells us.

    Attributes:
        lead_s: Audio still buffered when it arrived (0 if the buffer was empty).
        underrun_s: Length of the silence it ended, if it ended an underrun, else 0.
        pacing_error_s: Arrival gap minus the previous chunk's duration, clipped at 0;
            None when the chunk starts a new utterance.
    """

    lead_s: float
    underrun_s: float
    pacing_error_s: float | None


@dataclass(frozen=True, slots=True)
class DueMark:
    """A mark ready to be echoed.

    Attributes:
        name: Raw JSON-escaped name bytes, echoed verbatim.
        arrived_at: When the server's mark arrived.
        due_at: When the audio before it finished (or the clear/arrival time).
    """

    name: bytes
    arrived_at: float
    due_at: float


class PlaybackModel:
    """Twilio's playout buffer for one stream."""

    __slots__ = ("_bps", "_boundary", "_gap_s", "_last_at", "_last_dur", "_pending", "play_end")

    def __init__(self, bytes_per_second: int = BYTES_PER_SECOND, utterance_gap_s: float = UTTERANCE_GAP_S) -> None:
        self._bps = float(bytes_per_second)
        self._gap_s = utterance_gap_s
        self.play_end = float("-inf")
        self._last_at: float | None = None
        self._last_dur = 0.0
        self._boundary = True
        self._pending: deque[DueMark] = deque()

    def playing(self, now: float) -> bool:
        """Return True while buffered audio is still playing at ``now``."""
        return self.play_end > now

    def buffered_s(self, now: float) -> float:
        """Return how much audio is buffered at ``now``."""
        return max(0.0, self.play_end - now)

    def media(self, now: float, nbytes: int) -> MediaArrival:
        """Account for a ``media`` chunk of ``nbytes`` μ-law bytes arriving at ``now``."""
        dur = nbytes / self._bps
        lead = self.play_end - now
        in_utterance = self._last_at is not None and not self._boundary and now - self._last_at < self._gap_s
        underrun = 0.0
        pacing: float | None = None
        if in_utterance:
            assert self._last_at is not None
            pacing = max(0.0, (now - self._last_at) - self._last_dur)
            if lead < 0.0:
                underrun = -lead
        self.play_end = max(now, self.play_end) + dur
        self._last_at = now
        self._last_dur = dur
        self._boundary = False
        return MediaArrival(max(0.0, lead), underrun, pacing)

    def mark(self, now: float, name: bytes) -> None:
        """Queue a server ``mark``; it is due when the audio before it has played."""
        self._pending.append(DueMark(name, now, max(now, self.play_end)))
        self._boundary = True

    def clear(self, now: float) -> None:
        """Handle ``clear``: drop buffered audio; every pending mark becomes due at once."""
        self.play_end = min(self.play_end, now)
        if self._pending:
            self._pending = deque(DueMark(m.name, m.arrived_at, min(m.due_at, now)) for m in self._pending)
        self._boundary = True

    def next_due(self) -> float | None:
        """Return when the oldest pending mark is due, or None."""
        return self._pending[0].due_at if self._pending else None

    def pop_due(self, now: float) -> list[DueMark]:
        """Remove and return, in order, the marks due at or before ``now``."""
        out: list[DueMark] = []
        pending = self._pending
        while pending and pending[0].due_at <= now:
            out.append(pending.popleft())
        return out

    @property
    def pending_marks(self) -> int:
        """Number of marks not yet echoed."""
        return len(self._pending)
