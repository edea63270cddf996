"""Database side of the Twilio webhooks (sync; the routes run these in threads)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Business, Call, CallDirection, CallStatus, Lead, utcnow

__all__ = [
    "ENDED",
    "TERMINAL",
    "apply_status",
    "business_for_number",
    "business_for_test_call",
    "call_has_ended",
    "lead_for_caller",
    "mark_rejected",
    "open_call",
    "status_rank",
]

TERMINAL = frozenset(
    {CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.NO_ANSWER, CallStatus.FAILED, CallStatus.CANCELED, CallStatus.REJECTED}
)
# A call in one of these is over, as Twilio (status callback) or finalize_call (the calls
# service's record) said. Not REJECTED: that is our own answer to a webhook, which Twilio
# retries only if the answer never reached it, and the retry deserves a fresh decision.
ENDED = TERMINAL - {CallStatus.REJECTED}
_PROGRESS = {CallStatus.QUEUED: 0, CallStatus.INITIATED: 1, CallStatus.RINGING: 2, CallStatus.IN_PROGRESS: 3}


def status_rank(status: str) -> int:
    """Order of a call's statuses: progress states rise, any terminal state outranks them."""
    return 10 if status in TERMINAL else _PROGRESS.get(CallStatus(status), 0)


def business_for_number(session: Session, to_e164: str) -> dict[str, Any] | None:
    """The active business owning ``to_e164`` and the caller's lead, as plain dicts."""
    business = session.scalar(select(Business).where(Business.phone_e164 == to_e164, Business.is_active.is_(True)))
    if business is None:
        return None
    return {
        "id": business.id,
        "name": business.name,
        "greeting": business.greeting,
        "brain": business.brain,
        "brain_settings": dict(business.brain_settings or {}),
        "language": business.language,
        "timezone": business.timezone,
        "max_concurrent_calls": business.max_concurrent_calls,
    }


def business_for_test_call(session: Session, business_id: int) -> dict[str, Any] | None:
    """The business as ``business_for_number`` gives it, plus its number; ``None`` when it
    does not exist. ``is_active`` is included: an inactive business takes no calls."""
    business = session.get(Business, business_id)
    if business is None:
        return None
    found = business_for_number(session, business.phone_e164) if business.is_active else None
    return {**(found or {"id": business.id}), "phone_e164": business.phone_e164, "is_active": found is not None}


def lead_for_caller(session: Session, business_id: int, phone: str | None) -> dict[str, Any] | None:
    if not phone:
        return None
    lead = session.scalar(select(Lead).where(Lead.business_id == business_id, Lead.phone_e164 == phone))
    return None if lead is None else {"id": lead.id, "name": lead.name, "status": lead.status}


def open_call(
    session: Session,
    *,
    call_sid: str,
    business_id: int,
    direction: str,
    caller: str,
    called: str,
    status: str,
    end_reason: str | None = None,
    lead_id: int | None = None,
    test: bool = False,
) -> None:
    """Create the call row when the voice webhook answers (idempotent: Twilio may retry).

    ``test``: a browser test call (``POST /api/test-calls``), marked ``events.test`` so the
    worker never makes a lead of it and the calls list shows it.
    """
    if session.scalar(select(Call.id).where(Call.call_sid == call_sid)) is not None:
        return
    now = utcnow()
    call = Call(
        call_sid=call_sid,
        business_id=business_id,
        lead_id=lead_id,
        direction=direction if direction in CallDirection.__members__.values() else CallDirection.INBOUND,
        from_number=caller[:32],
        to_number=called[:32],
        status=status,
        end_reason=end_reason,
        started_at=now,
        ended_at=now if status in TERMINAL else None,
        events={"test": True} if test else {},
    )
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        pass  # a concurrent retry of the same webhook created it first


def call_has_ended(session: Session, call_sid: str) -> bool:
    """Whether the call ``call_sid`` is over (``ENDED``): a voice webhook for it is a replay.

    Twilio retries the voice webhook only before the call is answered, so one that arrives
    after the call completed or failed would hand out a fresh ``<Connect>`` with the call's
    token; the webhook answers ``<Reject/>`` instead.
    """
    status = session.scalar(select(Call.status).where(Call.call_sid == call_sid))
    return status is not None and status in ENDED


def mark_rejected(session: Session, call_sid: str, reason: str) -> None:
    """The webhook refused the call after opening its row (capacity): make that final."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is not None and call.status not in TERMINAL:
        call.status = CallStatus.REJECTED
        call.end_reason = reason
        call.ended_at = utcnow()


def apply_status(
    session: Session, *, call_sid: str, status: str, duration: int | None, sequence: int | None, at: datetime | None
) -> str:
    """Reconcile Twilio's status callback with the stored call.

    Out-of-order and repeated callbacks are harmless: a lower ``SequenceNumber`` or a status
    ranked below the stored one changes nothing, and a terminal status is never replaced.
    Returns what happened: ``updated``, ``stale`` or ``unknown_call``.
    """
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        return "unknown_call"
    events = dict(call.events or {})
    last_seq = events.get("status_sequence")
    if sequence is not None and isinstance(last_seq, int) and sequence <= last_seq:
        return "stale"
    current = call.status
    changed = False
    if current in TERMINAL:
        pass  # final already (ours or Twilio's); only the duration may still arrive
    elif status_rank(status) > status_rank(current):
        call.status = status
        changed = True
    if status in TERMINAL:
        if duration is not None and call.billed_duration_seconds != duration:
            call.billed_duration_seconds = duration
            changed = True
        if call.ended_at is None:
            call.ended_at = at or utcnow()
            changed = True
    history = list(events.get("twilio_statuses", []))
    history.append(status)
    events["twilio_statuses"] = history[-20:]
    if sequence is not None:
        events["status_sequence"] = sequence
    call.events = events
    return "updated" if changed else "stale"
