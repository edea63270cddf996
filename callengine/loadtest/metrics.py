"""Per-call measurement recorder (pure; the trio client writes, :mod:`stats` reads).

Samples are kept in ``array('d')`` (8 bytes each) so a 100-call, 5-minute run stays a few MB.
All durations are stored in milliseconds.
"""

from __future__ import annotations

from array import array
from enum import StrEnum

__all__ = ["CallMetrics", "ClosedBy", "Outcome"]


class Outcome(StrEnum):
    """How a call ended (leaves the process in the JSON results)."""

    PENDING = "pending"
    CONNECTED = "connected"  # upgraded and running; final only if the run was cut short
    COMPLETED = "completed"
    HUNG_UP = "hung_up"  # the server ended the call normally (1000) before the session did
    REFUSED = "refused"
    FAILED = "failed"


class ClosedBy(StrEnum):
    """Which side initiated the WebSocket close."""

    SERVER = "server"
    HARNESS = "harness"


class CallMetrics:
    """Everything measured for one call."""

    __slots__ = (
        "barge_in_missed",
        "barge_in_ms",
        "binary_in",
        "call_sid",
        "clears_in",
        "close_code",
        "close_reason",
        "closed_by",
        "connect_ms",
        "dtmf_sent",
        "ended_at",
        "fail_reason",
        "first_audio_ms",
        "index",
        "lateness_ms",
        "lead_ms",
        "mark_hold_ms",
        "marks_echoed",
        "marks_in",
        "media_bytes",
        "media_in",
        "media_sent",
        "messages_sent",
        "onsets",
        "onsets_during_playback",
        "other_in",
        "outcome",
        "pacing_ms",
        "pings",
        "refused_reason",
        "refused_status",
        "retry_after",
        "session",
        "started_at",
        "underrun_ms",
        "underruns",
        "unknown_in",
        "webhook_ms",
        "wrong_stream_sid",
    )

    def __init__(self, index: int, session: str, call_sid: str) -> None:
        self.index = index
        self.session = session
        self.call_sid = call_sid
        self.outcome = Outcome.PENDING
        self.refused_status: int | None = None
        self.refused_reason: str | None = None
        self.retry_after: str | None = None
        self.fail_reason: str | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.closed_by: ClosedBy | None = None
        self.webhook_ms: float | None = None
        self.connect_ms: float | None = None
        self.started_at: float | None = None  # trio clock (s) when ``start`` was sent
        self.ended_at: float | None = None
        # inbound (harness → server)
        self.media_sent = 0
        self.dtmf_sent = 0
        self.messages_sent = 0
        self.marks_echoed = 0
        self.lateness_ms = array("d")
        self.onsets = 0
        self.onsets_during_playback = 0
        # outbound (server → harness)
        self.media_in = 0
        self.media_bytes = 0
        self.marks_in = 0
        self.clears_in = 0
        self.other_in = 0
        self.unknown_in = 0
        self.binary_in = 0
        self.pings = 0
        self.wrong_stream_sid = 0
        self.underruns = 0
        self.underrun_ms = 0.0
        self.lead_ms = array("d")
        self.pacing_ms = array("d")
        self.mark_hold_ms = array("d")
        self.barge_in_ms = array("d")
        self.barge_in_missed = 0
        self.first_audio_ms: float | None = None

    def call_seconds(self) -> float:
        """Seconds from ``start`` to the end of the call (0 if it never started)."""
        if self.started_at is None or self.ended_at is None:
            return 0.0
        return max(0.0, self.ended_at - self.started_at)
