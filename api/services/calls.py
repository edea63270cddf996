"""Calls of one business: list, detail with transcript and events, recording lookup, outbound rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.db.models import Business, Call, CallDirection, CallStatus, Lead
from api.errors import NotFound
from api.services.common import Page, iso, page_rows
from api.services.leads import lead_json

__all__ = ["call_json", "dtmf_presses", "get_call", "list_calls", "outbound_target", "recording_file", "record_outbound"]


def call_json(call: Call, lead: Lead | None = None) -> dict[str, Any]:
    return {
        "id": call.id,
        "call_sid": call.call_sid,
        "business_id": call.business_id,
        "lead_id": call.lead_id,
        "lead": {"id": lead.id, "name": lead.name, "phone_e164": lead.phone_e164, "status": lead.status} if lead else None,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "status": call.status,
        "end_reason": call.end_reason,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "billed_duration_seconds": call.billed_duration_seconds,
        "has_recording": bool(call.recording_path),
        "summary": call.summary,
        "created_at": iso(call.created_at),
        "test": bool((call.events or {}).get("test")),
    }


def list_calls(
    session: Session, business_id: int, *, status: str | None, direction: str | None, lead_id: int | None,
    page: int, per_page: int, created_from: datetime | None = None, created_to: datetime | None = None,
    number: str | None = None,
) -> Page:
    """A page of the business's calls, newest first.

    Args:
        created_from: calls created at or after this time; ``created_to``: before this time.
        number: digits (and ``+``) that the caller's or the called number contains.
    """
    query = select(Call).where(Call.business_id == business_id)
    if status:
        query = query.where(Call.status == status)
    if direction:
        query = query.where(Call.direction == direction)
    if lead_id:
        query = query.where(Call.lead_id == lead_id)
    if created_from is not None:
        query = query.where(Call.created_at >= created_from)
    if created_to is not None:
        query = query.where(Call.created_at < created_to)
    if number:  # only digits and +: nothing for LIKE to interpret
        query = query.where(or_(Call.from_number.contains(number), Call.to_number.contains(number)))
    query = query.order_by(Call.created_at.desc(), Call.id.desc())
    rows, total = page_rows(session, query, page, per_page)
    lead_ids = {c.lead_id for c in rows if c.lead_id}
    found = {lead.id: lead for lead in session.scalars(select(Lead).where(Lead.id.in_(lead_ids)))} if lead_ids else {}
    items = [call_json(c, found.get(c.lead_id) if c.lead_id else None) for c in rows]
    return Page(items, total, page, per_page)


def _get(session: Session, business_id: int, call_id: int) -> Call:
    call = session.scalar(select(Call).where(Call.id == call_id, Call.business_id == business_id))
    if call is None:
        raise NotFound(f"call {call_id} not found", code="call_not_found")
    return call


def get_call(session: Session, business_id: int, call_id: int) -> dict[str, Any]:
    call = _get(session, business_id, call_id)
    lead = session.get(Lead, call.lead_id) if call.lead_id else None
    transcript = [turn for turn in call.transcript or [] if isinstance(turn, dict)]
    return {
        **call_json(call, lead),
        "transcript": transcript,
        "dtmf": dtmf_presses((call.events or {}).get("dtmf")),
        "barge_ins": sum(1 for turn in transcript if turn.get("interrupted") is True),
        "events": call.events,
    }


def dtmf_presses(raw: Any) -> list[dict[str, Any]]:
    """``events.dtmf`` as ``[{digit, at_ms}]`` (older rows hold bare digits: at 0)."""
    presses: list[dict[str, Any]] = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str) and item:
            presses.append({"digit": item, "at_ms": 0})
        elif isinstance(item, dict) and isinstance(item.get("digit"), str):
            at_ms = item.get("at_ms")
            presses.append({"digit": item["digit"], "at_ms": at_ms if isinstance(at_ms, int) and not isinstance(at_ms, bool) else 0})
    return presses


def recording_file(session: Session, business_id: int, call_id: int, recordings_dir: Path) -> Path:
    """The call's recording, only if it lies inside ``recordings_dir`` and exists.

    Raises:
        NotFound: no call, no recording, or a path outside the recordings directory.
    """
    call = _get(session, business_id, call_id)
    if not call.recording_path:
        raise NotFound("this call has no recording", code="recording_not_found")
    root = recordings_dir.resolve()
    path = Path(call.recording_path)
    path = (path if path.is_absolute() else root / path.name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("the recording file is not available", code="recording_not_found")
    return path


def outbound_target(session: Session, business_id: int, lead_id: int) -> tuple[dict[str, Any], str]:
    """(lead, business phone) for an outbound call; 404 for a lead of another business."""
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.business_id == business_id))
    if lead is None:
        raise NotFound(f"lead {lead_id} not found", code="lead_not_found")
    business = session.get(Business, business_id)
    assert business is not None
    return lead_json(lead), business.phone_e164


def record_outbound(session: Session, business_id: int, lead_id: int, call_sid: str, caller: str, called: str, status: str) -> dict[str, Any]:
    known = CallStatus(status) if status in tuple(CallStatus) else CallStatus.QUEUED
    call = Call(call_sid=call_sid, business_id=business_id, lead_id=lead_id, direction=CallDirection.OUTBOUND,
                from_number=caller, to_number=called, status=known)
    session.add(call)
    session.flush()
    return call_json(call, session.get(Lead, lead_id))
