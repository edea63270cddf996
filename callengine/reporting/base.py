"""The Reporter seam: how calls tell the rest of the system they exist.

``open_redis_reporter`` is the production implementation; tests use an in-memory one.
All methods but ``finalize`` are non-blocking and never fail: a call must not notice Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["FinalizeOutcome", "LiveCall", "Reporter"]


@dataclass(frozen=True, slots=True)
class LiveCall:
    call_sid: str
    stream_sid: str
    business_id: str
    started_at: float  # unix seconds


class FinalizeOutcome:
    ENQUEUED = "enqueued"
    SPOOLED = "spooled"


class Reporter(Protocol):
    @property
    def reachable(self) -> bool:
        """Whether the last Redis round trip succeeded."""
        ...

    def call_started(self, call: LiveCall) -> None: ...

    def call_ended(self, call_sid: str) -> None:
        """The call ended: drop its lease, and remember its CallSid as ended (``keys.call_ended``)."""
        ...

    async def has_ended(self, call_sid: str) -> bool:
        """Whether a call with this CallSid already ended (on any instance).

        Bounded in time; False when it cannot be told (Redis down): the caller also keeps
        the CallSids that ended in this process.
        """
        ...

    def publish(self, kind: str, fields: dict[str, str]) -> None:
        """Append an event to ``calls:events`` (buffered while Redis is down)."""
        ...

    async def finalize(self, record: dict[str, Any]) -> str:
        """Hand the call record to ``jobs.calls.finalize_call``; spool it if Redis is down.

        Returns a ``FinalizeOutcome`` value. Never raises for Redis trouble; the caller
        runs it shielded under a deadline.
        """
        ...
