"""Admission control: the process-wide call slots (MAX_CONCURRENT_CALLS) and, apart from them,
the few handshakes still waiting for Twilio's ``start`` (CALLS_MAX_PENDING_STARTS).

Two ``trio.CapacityLimiter``s, never waited on. A handshake is admitted with
``try_admit_nowait`` *before* the WebSocket upgrade: it is refused at once (HTTP 503) while
draining, when every call slot is taken (``full``), or when the pending-start cap is reached
(``pending_full``); otherwise it takes a *pending* slot only. The call slot is taken when its
``start`` is accepted (``start_nowait``), so a connection that never sends ``start`` (a
replayed signed handshake: the signature covers only the URL) holds a pending slot for at
most CALLS_START_TIMEOUT_SECONDS and can never make a real call get 503. If started calls took
the last slot between a handshake and its ``start``, that start is refused (close 1013,
counted ``full``). ``release`` gives back whichever slot the ticket holds, whatever way the
connection ends; the limiters' borrower tracking makes a double release an error, not a leak.

Once its ``start`` arrives a call also claims its CallSid (``claim_call_sid``): Twilio never
opens two streams for one call, so a second live stream for the same CallSid (a copied
handshake) is refused (``duplicate``) and never disturbs the live one. A CallSid whose call
ended here is remembered (``has_ended``; Redis's ``calls:ended:{sid}`` tells other instances).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import final

import trio

from callengine.errors import AdmissionRefused
from callengine.events import RefusalReason

__all__ = ["DEFAULT_MAX_PENDING", "Admission", "AdmissionStatistics", "Ticket"]

# Twilio sends ``start`` some 20-40 ms after the upgrade (tests/fixtures/twilio/*.jsonl), so
# at the load harness's 10 ms ramp about four handshakes wait at once; 20 leaves room for
# bursts while a flood of handshakes that never start can hold only these, never a call slot.
DEFAULT_MAX_PENDING = 20
# CallSids of calls that ended here, remembered so a stream for one is refused at once even
# before (or without) Redis's ``calls:ended:{sid}``; ~100 bytes each.
MAX_ENDED_SIDS = 10_000


@final
class Ticket:
    """Proof of an admitted connection; ``call_sid`` is filled in once its ``start`` is accepted
    and the ticket holds a call slot instead of a pending one."""

    __slots__ = ("call_sid", "id")
    _ids = itertools.count(1)

    def __init__(self) -> None:
        self.id = next(self._ids)
        self.call_sid: str | None = None

    @property
    def started(self) -> bool:
        return self.call_sid is not None

    def __repr__(self) -> str:
        return f"Ticket({self.id}, {self.call_sid or 'pending'})"


@dataclass(frozen=True, slots=True)
class AdmissionStatistics:
    active: int  # started calls (each holds a call slot)
    capacity: int
    pending: int  # admitted handshakes still waiting for ``start``
    max_pending: int
    draining: bool
    admitted_total: int
    refused: dict[str, int]


@final
class Admission:
    def __init__(self, capacity: int, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self._limiter = trio.CapacityLimiter(capacity)
        self._pending = trio.CapacityLimiter(max_pending)
        self._refused: Counter[str] = Counter({reason.value: 0 for reason in RefusalReason})
        self._admitted = 0
        self._live_sids: set[str] = set()
        self._ended_sids: dict[str, None] = {}  # insertion-ordered: the oldest go first
        self.draining = False

    def try_admit_nowait(self) -> Ticket:
        """Admit a handshake now (it takes a pending slot) or refuse.

        Raises:
            AdmissionRefused: ``draining``, ``full`` (no call slot free) or ``pending_full``
                (too many handshakes waiting for ``start``); already counted.
        """
        if self.draining:
            self.refuse(RefusalReason.DRAINING)
        if self._limiter.available_tokens < 1:
            self.refuse(RefusalReason.FULL)
        ticket = Ticket()
        try:
            self._pending.acquire_on_behalf_of_nowait(ticket)
        except trio.WouldBlock:
            self.refuse(RefusalReason.PENDING_FULL)
        self._admitted += 1
        return ticket

    def start_nowait(self, ticket: Ticket, call_sid: str) -> bool:
        """The ticket's ``start`` was accepted: trade its pending slot for a call slot.

        Returns False (the ticket stays pending, nothing is counted: the caller counts and
        reports the ``full`` refusal) when started calls hold every slot.
        """
        try:
            self._limiter.acquire_on_behalf_of_nowait(ticket)
        except trio.WouldBlock:
            return False
        self._pending.release_on_behalf_of(ticket)
        ticket.call_sid = call_sid
        return True

    def release(self, ticket: Ticket) -> None:
        """Give back the slot ``ticket`` holds (its call slot once started, else its pending one).

        Raises:
            RuntimeError: the ticket was already released.
        """
        (self._limiter if ticket.started else self._pending).release_on_behalf_of(ticket)

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

    def release_call_sid(self, call_sid: str, *, ended: bool = False) -> None:
        """The stream that claimed ``call_sid`` is gone; ``ended``: it was the call itself,
        so the CallSid is remembered (the last ``MAX_ENDED_SIDS``) and ``has_ended`` says so."""
        self._live_sids.discard(call_sid)
        if ended:
            self._ended_sids[call_sid] = None
            if len(self._ended_sids) > MAX_ENDED_SIDS:
                del self._ended_sids[next(iter(self._ended_sids))]

    def has_ended(self, call_sid: str) -> bool:
        """Whether a call with this CallSid ended in this process (lately)."""
        return call_sid in self._ended_sids

    def count_refusal(self, reason: RefusalReason) -> None:
        """Count a refusal decided after admission (e.g. a bad per-call token)."""
        self._refused[reason.value] += 1

    def borrowers(self) -> list[Ticket]:
        """The tickets of started calls."""
        return list(self._limiter.statistics().borrowers)  # type: ignore[arg-type]

    def statistics(self) -> AdmissionStatistics:
        return AdmissionStatistics(
            active=int(self._limiter.borrowed_tokens),
            capacity=int(self._limiter.total_tokens),
            pending=int(self._pending.borrowed_tokens),
            max_pending=int(self._pending.total_tokens),
            draining=self.draining,
            admitted_total=self._admitted,
            refused=dict(self._refused),
        )
