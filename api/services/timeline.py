"""A lead's history: its calls and its WhatsApp and email messages, merged, newest first.

Paged like the lists (``page``, ``per_page``) over the merged sequence: page ``n`` reads at
most ``n * per_page`` rows of each kind (the route caps ``n``), merges them by time and keeps
the page's slice, so items with equal times are neither skipped nor repeated between pages.
A call's time is when it started (its creation while it has not: a rejected or unanswered
call); a message's is its ``created_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from api.db.models import Call, Lead, Message
from api.errors import NotFound
from api.services.common import Page, iso

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["SUMMARY_CHARS", "lead_timeline"]

SUMMARY_CHARS = 200  # a line of the timeline, not the message (the conversation view has it whole)


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def _call_item(call: Call) -> tuple[datetime, int, dict[str, Any]]:
    at = call.started_at or call.created_at
    return at, call.id, {
        "kind": "call", "id": call.id, "at": iso(at), "channel": "call", "direction": call.direction,
        "status": call.status, "summary": _short(call.summary or ""), "duration_seconds": call.duration_seconds,
        "has_recording": bool(call.recording_path),
    }


def _message_item(message: Message) -> tuple[datetime, int, dict[str, Any]]:
    return message.created_at, message.id, {
        "kind": "message", "id": message.id, "at": iso(message.created_at), "channel": message.channel,
        "direction": message.direction, "status": message.status,
        "summary": _short(message.subject or message.body or ""), "duration_seconds": None, "has_recording": None,
    }


def lead_timeline(session: Session, business_id: int, lead_id: int, *, page: int, per_page: int) -> dict[str, Any]:
    """One page of the lead's calls and messages, newest first.

    Raises:
        NotFound: no lead ``lead_id`` in ``business_id`` (another business's lead included).
    """
    lead = session.scalar(select(Lead.id).where(Lead.id == lead_id, Lead.business_id == business_id))
    if lead is None:
        raise NotFound(f"lead {lead_id} not found", code="lead_not_found")
    depth = page * per_page
    call_time = func.coalesce(Call.started_at, Call.created_at)
    calls = session.scalars(
        select(Call).where(Call.business_id == business_id, Call.lead_id == lead_id)
        .order_by(call_time.desc(), Call.id.desc()).limit(depth)
    ).all()
    messages = session.scalars(
        select(Message).where(Message.business_id == business_id, Message.lead_id == lead_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(depth)
    ).all()
    total = (session.scalar(select(func.count()).select_from(Call).where(
        Call.business_id == business_id, Call.lead_id == lead_id)) or 0) + (session.scalar(
        select(func.count()).select_from(Message).where(Message.business_id == business_id, Message.lead_id == lead_id)
    ) or 0)
    # Calls before messages at the same instant, then the larger id first: a stable order.
    merged = sorted(
        [(*_call_item(c), 1) for c in calls] + [(*_message_item(m), 0) for m in messages],
        key=lambda row: (row[0], row[3], row[1]), reverse=True,
    )
    items = [row[2] for row in merged[(page - 1) * per_page : depth]]
    return {"lead_id": lead_id, **Page(items, int(total), page, per_page).to_json()}
