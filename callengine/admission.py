"""Admission control: one process-wide ``trio.CapacityLimiter`` sized by MAX_CONCURRENT_CALLS.

A handshake takes a slot with ``try_admit_nowait`` *before* the WebSocket upgrade and never
waits: when the limiter is full, or the service is draining, it is refused at once (HTTP 503)
and the refusal is counted by reason. The slot is given back with ``release`` whatever way the
call ends; the limiter's borrower tracking makes a double release an error, not a leak.

Once its ``start`` arrives a call also claims its CallSid (``claim_call_sid``): Twilio never
opens two streams for one call, so a second live stream for the same CallSid (a copied
handshake) is refused (``duplicate``) and never disturbs the live one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import final

import trio

from callengine.errors import AdmissionRefused
from callengine.events import RefusalReason

__all__ = ["Admission", "AdmissionStatistics", "Ticket"]


@final
class Ticket:
    """Proof of an admitted connection; ``call_sid`` is filled in once ``start`` arrives."""

    __slots__ = ("call_sid", "id")
    _ids = itertools.count(1)

    def __init__(self) -> None:
        self.id = next(self._ids)
        self.call_sid: str | None = None

    def __repr__(self) -> str:
        return f"Ticket({self.id}, {self.call_sid or 'pending'})"


@dataclass(frozen=True, slots=True)
class AdmissionStatistics:
    active: int
    capacity: int
    draining: bool
    admitted_total: int
    refused: dict[str, int]


@final
class Admission:
    def __init__(self, capacity: int) -> None:
        self._limiter = trio.CapacityLimiter(capacity)
        self._refused: Counter[str] = Counter({reason.value: 0 for reason in RefusalReason})
        self._admitted = 0
        self._live_sids: set[str] = set()
        self.draining = False

    def try_admit_nowait(self) -> Ticket:
        """Take a slot now or refuse.

        Raises:
            AdmissionRefused: ``draining`` or ``full`` (already counted).
        """
        if self.draining:
            self.refuse(RefusalReason.DRAINING)
        ticket = Ticket()
        try:
            self._limiter.acquire_on_behalf_of_nowait(ticket)
        except trio.WouldBlock:
            self.refuse(RefusalReason.FULL)
        self._admitted += 1
        return ticket

    def release(self, ticket: Ticket) -> None:
        self._limiter.release_on_behalf_of(ticket)

    def refuse(self, reason: RefusalReason) -> None:
        """Count a refusal and raise it.

        Raises:
            AdmissionRefused: always.
        """
        self._refused[reason.value] += 1
        raise AdmissionRefused(reason.value)

    def claim_call_sid(self, call_sid: str) -> bool:
        """Mark ``call_sid`` live; False (and nothing changes) when it already is."""
        if call_sid in self._live_sids:
            return False
        self._live_sids.add(call_sid)
        return True

    def release_call_sid(self, call_sid: str) -> None:
        """The call that claimed ``call_sid`` has ended."""
        self._live_sids.discard(call_sid)

    def count_refusal(self, reason: RefusalReason) -> None:
        """Count a refusal decided after admission (e.g. a bad per-call token)."""
        self._refused[reason.value] += 1

    def borrowers(self) -> list[Ticket]:
        return list(self._limiter.statistics().borrowers)  # type: ignore[arg-type]

    def statistics(self) -> AdmissionStatistics:
        return AdmissionStatistics(
            active=int(self._limiter.borrowed_tokens),
            capacity=int(self._limiter.total_tokens),
            draining=self.draining,
            admitted_total=self._admitted,
            refused=dict(self._refused),
        )
