"""Leads of one business: list/filter/search, detail, create, update, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Call, Lead
from api.errors import Conflict, NotFound
from api.services.common import Page, iso, paginate

__all__ = ["create_lead", "export_csv", "get_lead", "lead_json", "lead_query", "list_leads", "update_lead"]

CSV_COLUMNS = ("id", "phone_e164", "name", "email", "status", "source", "notes", "created_at", "last_contact_at")
SORTS = {
    "created_at": Lead.created_at.desc(),
    "-created_at": Lead.created_at.desc(),
    "+created_at": Lead.created_at.asc(),
    "name": Lead.name.asc(),
    "last_contact_at": Lead.last_contact_at.desc(),
}


def lead_json(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "business_id": lead.business_id,
        "phone_e164": lead.phone_e164,
        "name": lead.name,
        "email": lead.email,
        "status": lead.status,
        "source": lead.source,
        "notes": lead.notes,
        "created_at": iso(lead.created_at),
        "updated_at": iso(lead.updated_at),
        "last_contact_at": iso(lead.last_contact_at),
    }


def lead_query(business_id: int, status: str | None, source: str | None, q: str | None) -> Any:
    """The business's leads matching the GET /api/leads filters (broadcast audiences use it too)."""
    query = select(Lead).where(Lead.business_id == business_id)
    if status:
        query = query.where(Lead.status == status)
    if source:
        query = query.where(Lead.source == source)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(Lead.name.ilike(like, escape="\\"), Lead.phone_e164.ilike(like, escape="\\"), Lead.email.ilike(like, escape="\\"))
        )
    return query


def list_leads(
    session: Session, business_id: int, *, status: str | None, source: str | None, q: str | None,
    sort: str, page: int, per_page: int,
) -> Page:
    query = lead_query(business_id, status, source, q).order_by(SORTS[sort], Lead.id.desc())
    return paginate(session, query, page, per_page, lead_json)


def _get(session: Session, business_id: int, lead_id: int) -> Lead:
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.business_id == business_id))
    if lead is None:
        raise NotFound(f"lead {lead_id} not found", code="lead_not_found")
    return lead


def get_lead(session: Session, business_id: int, lead_id: int) -> dict[str, Any]:
    lead = _get(session, business_id, lead_id)
    calls = session.scalars(
        select(Call).where(Call.business_id == business_id, Call.lead_id == lead_id).order_by(Call.created_at.desc()).limit(20)
    ).all()
    return {
        **lead_json(lead),
        "recent_calls": [
            {"id": c.id, "call_sid": c.call_sid, "status": c.status, "direction": c.direction, "started_at": iso(c.started_at)}
            for c in calls
        ],
    }


def create_lead(session: Session, business_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    lead = Lead(business_id=business_id, **fields)
    try:
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:
        raise Conflict(
            f"a lead with phone {fields['phone_e164']} already exists", code="lead_exists",
            details={"phone_e164": fields["phone_e164"]},
        ) from None
    return lead_json(lead)


def update_lead(session: Session, business_id: int, lead_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    lead = _get(session, business_id, lead_id)
    for name, value in fields.items():
        setattr(lead, name, value)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("another lead has this phone number", code="lead_exists") from None
    return lead_json(lead)


def export_csv(session: Session, business_id: int, *, status: str | None, source: str | None, q: str | None) -> Iterator[str]:
    """The filtered leads as CSV text chunks (header first). Cells starting with = + - @ are
    prefixed with ' so spreadsheets do not run them as formulas."""
    query = lead_query(business_id, status, source, q).order_by(Lead.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for lead in session.scalars(query):
        row = lead_json(lead)
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text[1:].replace(" ", "").isdigit() else text
