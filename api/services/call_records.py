"""Store a finished call's record (from the calls service) and upsert its lead.

Idempotent by ``call_sid``: the second delivery of the same record finds ``finalized_at`` set
and changes nothing. Works whether or not the voice webhook created the row first, and never
downgrades a final status that Twilio's status callback already reported.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Business, Call, CallDirection, CallStatus, Lead, LeadSource, utcnow
from api.phones import normalize_e164
from api.services.telephony import TERMINAL

if TYPE_CHECKING:
    from contracts.call_record import CallRecord

__all__ = ["UnusableRecord", "apply_captured", "captured_lead", "describe", "store_call_record", "upsert_lead"]

# What brains capture about the caller (``brain_summary.lead``), as this module stores it.
CAPTURED_FIELDS = ("name", "email", "reason", "understood", "callback_number", "message")
MAX_CAPTURED = 500
MAX_UNDERSTOOD = 120  # the need sentence as heard, in the one-line summary


class UnusableRecord(ValueError):
    """The record cannot be stored (unknown business, tenant mismatch); retrying cannot help."""


def upsert_lead(session: Session, business_id: int, phone: str, *, source: str, when: datetime) -> Lead:
    """The lead of (business, phone), created when missing; ``last_contact_at`` moves forward."""
    return _upsert_lead(session, business_id, phone, source=source, when=when)[0]


def _upsert_lead(session: Session, business_id: int, phone: str, *, source: str, when: datetime) -> tuple[Lead, bool]:
    """The lead and whether this call created it.

    A concurrent insert of the same pair (two calls from one number finishing together) loses
    the unique-constraint race inside a savepoint and reads the winner's row (not created here).
    """
    created = False
    lead = session.scalar(select(Lead).where(Lead.business_id == business_id, Lead.phone_e164 == phone))
    if lead is None:
        try:
            with session.begin_nested():
                lead = Lead(business_id=business_id, phone_e164=phone, source=source, last_contact_at=when)
                session.add(lead)
            created = True
        except IntegrityError:
            lead = session.scalar(select(Lead).where(Lead.business_id == business_id, Lead.phone_e164 == phone))
            assert lead is not None
    if lead.last_contact_at is None or lead.last_contact_at < when:
        lead.last_contact_at = when
    return lead, created


def captured_lead(raw: Any) -> dict[str, str]:
    """The lead fields a brain captured, as short clean strings (pure; junk is dropped)."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, str] = {}
    for key in CAPTURED_FIELDS:
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = " ".join(value.split())[:MAX_CAPTURED]
    if "understood" in out:
        out["understood"] = out["understood"][:MAX_UNDERSTOOD]
    certainty = _certainty(raw)
    if certainty and "reason" in out:
        out["certainty"] = certainty
    return out


def _certainty(raw: dict[str, Any]) -> str:
    """How sure the agent was of the reason: "by keypad", "82 % sure", "confirmed by the caller"
    (it asked "Is that about …?" and heard yes); empty when the brain did not say."""
    source = raw.get("intent_source")
    if source == "dtmf":
        return "by keypad"
    parts = []
    confidence = raw.get("intent_confidence")
    if isinstance(confidence, int | float) and not isinstance(confidence, bool) and 0 <= confidence <= 1:
        parts.append(f"{round(confidence * 100)} % sure")
    if source == "speech_confirmed":
        parts.append("confirmed by the caller")
    return ", ".join(parts)


def describe(captured: dict[str, str]) -> str:
    """One line for the call list: "David: sales; call back +15551230000", with what the agent
    understood and how sure it was when the brain said: "Dana: appointment (heard "i'd like to
    book an appointment", 64 % sure, confirmed by the caller); call back +15551230000"."""
    parts = []
    if "reason" in captured:
        how = [f'heard "{captured["understood"]}"'] if "understood" in captured else []
        how += [captured["certainty"]] if captured.get("certainty") else []
        parts.append(f"{captured['reason']} ({', '.join(how)})" if how else captured["reason"])
    if "callback_number" in captured:
        parts.append(f"call back {captured['callback_number']}")
    if "message" in captured:
        parts.append(f"message: {captured['message']}")
    who = captured.get("name", "caller")
    return f"{who}: {'; '.join(parts)}" if parts else who


def apply_captured(lead: Lead, captured: dict[str, str], *, call_sid: str, when: datetime) -> None:
    """Fill what the lead lacks (name, email) and note the rest; never overwrite what a
    person typed. Runs once per call (the caller guarantees idempotence by call_sid)."""
    if not captured:
        return
    if captured.get("name") and not lead.name:
        lead.name = captured["name"][:200]
    if captured.get("email") and not lead.email and "@" in captured["email"]:
        lead.email = captured["email"][:254]
    note = f"{when:%Y-%m-%d %H:%M} call {call_sid}: {describe(captured)}"
    lead.notes = f"{lead.notes}\n{note}" if lead.notes else note


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def store_call_record(session: Session, record: CallRecord) -> dict[str, Any]:
    """Store ``record`` (read by ``contracts.call_record.read_record``).

    Returns:
        ``{"call_sid", "status": "stored"|"already_stored", "call_id", "lead_id", "business_id",
        "lead_created"}`` (``lead_created``: this call made the lead, for the ``lead_created`` webhook).

    Raises:
        UnusableRecord: unknown business, or the row belongs to another business.
    """
    call_sid = record.call_sid
    raw_business = record.business_id
    if not raw_business.isdigit():
        raise UnusableRecord(f"business_id {raw_business!r} is not a business of this system")
    business_id = int(raw_business)
    if session.get(Business, business_id) is None:
        raise UnusableRecord(f"business {business_id} does not exist")
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is not None and call.business_id != business_id:
        raise UnusableRecord(f"call {call_sid} belongs to another business")
    if call is not None and call.finalized_at is not None:
        return {"call_sid": call_sid, "status": "already_stored", "call_id": call.id, "lead_id": call.lead_id,
                "business_id": business_id, "lead_created": False}

    direction = CallDirection(record.direction.value)
    # A browser test call (docs/ARCHITECTURE.md §11): marked by the calls service's /ws/browser
    # (record.test) or by the API that opened the row. Its numbers are the row's (the browser
    # could send any "from"), and it never makes or touches a lead.
    test = record.test or bool(call is not None and (call.events or {}).get("test"))
    if test and call is not None:
        caller, called = call.from_number, call.to_number
    else:
        caller = str(record.caller or (call.from_number if call else "") or "")
        called = str(record.called or (call.to_number if call else "") or "")
    started, ended = _when(record.started_at), _when(record.ended_at)
    now = utcnow()
    peer = None if test else normalize_e164(caller if direction == CallDirection.INBOUND else called)
    lead, lead_created = (
        _upsert_lead(session, business_id, peer, source=LeadSource.CALL, when=ended or now) if peer else (None, False)
    )

    if call is None:
        call = Call(call_sid=call_sid, business_id=business_id, direction=direction, status=CallStatus.COMPLETED)
        session.add(call)
    call.direction = direction
    call.from_number, call.to_number = caller[:32], called[:32]
    if call.status not in TERMINAL:
        call.status = CallStatus.COMPLETED
    call.end_reason = record.end_reason[:64]
    call.started_at = started or call.started_at
    call.ended_at = ended or call.ended_at or now
    call.duration_seconds = record.duration_seconds
    call.transcript = [dict(turn) for turn in record.transcript]
    call.recording_path = record.recording_path
    call.brain = record.brain[:32] if record.brain else call.brain
    call.events = {
        **(call.events or {}),
        "stream_sid": record.stream_sid,
        "dtmf": [{"digit": d.digit, "at_ms": d.at_ms} for d in record.dtmf],
        "close_code": record.close_code,
        "instance": record.instance,
        "metrics": dict(record.metrics),
        "brain_summary": dict(record.brain_summary),
        **({"test": True} if test else {}),
    }
    brain_summary = record.brain_summary
    captured = captured_lead(brain_summary.get("lead"))
    summary = brain_summary.get("summary")
    if isinstance(summary, str) and summary:
        call.summary = summary[:1000]
    elif captured:
        call.summary = describe(captured)
    if lead is not None:
        call.lead_id = lead.id
        apply_captured(lead, captured, call_sid=call_sid, when=ended or now)
    call.finalized_at = now
    session.flush()
    return {"call_sid": call_sid, "status": "stored", "call_id": call.id, "lead_id": call.lead_id,
            "business_id": business_id, "lead_created": lead_created}
