"""WhatsApp broadcasts of one business: create (from a lead filter or a list of lead ids), the
lifecycle transitions, and the list/detail with progress counts.

Lifecycle (docs/ARCHITECTURE.md §5)::

    accepted --start--> running --pause--> paused --resume--> running
    accepted|running|paused --cancel--> cancelled        running --(nothing left)--> completed

Any other transition is a 409 naming the current state and the allowed actions. The route
queues ``run_broadcast`` after ``start`` and ``resume`` commit; a queue that fails is caught up by
the watchdog (``jobs.maintenance.broadcast_watchdog``), which resumes a running broadcast
without a live job.

Idempotency: a client key (header ``Idempotency-Key`` or field ``idempotency_key``) is stored as
``"{business_id}:{key}"`` in ``broadcast.idempotency_key`` (unique), so the same key twice in one
business returns the first broadcast, and two businesses never collide.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import (
    Attachment,
    AttachmentStatus,
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Business,
    Channel,
    Lead,
    WhatsAppOptOut,
    utcnow,
)
from api.errors import Conflict, NotFound, Unprocessable
from api.services.common import Page, iso, page_rows
from api.services.leads import lead_query

__all__ = [
    "ACTIONS",
    "MAX_RECIPIENTS",
    "broadcast_json",
    "create_broadcast",
    "get_broadcast",
    "list_broadcasts",
    "recipient_key",
    "record_job",
    "transition",
]

MAX_RECIPIENTS = 10_000
# action -> (states it is allowed from, the state it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((BroadcastStatus.ACCEPTED,), BroadcastStatus.RUNNING),
    "pause": ((BroadcastStatus.RUNNING,), BroadcastStatus.PAUSED),
    "resume": ((BroadcastStatus.PAUSED,), BroadcastStatus.RUNNING),
    "cancel": ((BroadcastStatus.ACCEPTED, BroadcastStatus.RUNNING, BroadcastStatus.PAUSED), BroadcastStatus.CANCELLED),
}
STATUSES = ("pending", "sending", "sent", "failed", "skipped")


def recipient_key(broadcast_id: int, lead_id: int) -> str:
    """The gateway idempotency key of one recipient: stable across every retry and restart."""
    return f"broadcast-{broadcast_id}-lead-{lead_id}"


def _progress(session: Session, broadcast_ids: list[int]) -> dict[int, dict[str, int]]:
    out = {bid: dict.fromkeys(STATUSES, 0) for bid in broadcast_ids}
    if broadcast_ids:
        rows = session.execute(
            select(BroadcastRecipient.broadcast_id, BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id.in_(broadcast_ids))
            .group_by(BroadcastRecipient.broadcast_id, BroadcastRecipient.status)
        ).all()
        for bid, status, count in rows:
            out[bid][status] = int(count)
    return out


def broadcast_json(b: Broadcast, counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    return {
        "id": b.id,
        "business_id": b.business_id,
        "name": b.name,
        "text": b.body,
        "attachment_id": b.attachment_id,
        "status": b.status,
        "progress": {
            "total": total,
            "sent": counts.get("sent", 0),
            "failed": counts.get("failed", 0),
            "skipped": counts.get("skipped", 0),
            "pending": counts.get("pending", 0) + counts.get("sending", 0),
        },
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
        "started_at": iso(b.started_at),
        "finished_at": iso(b.finished_at),
    }


def _get(session: Session, business_id: int, broadcast_id: int, *, lock: bool = False) -> Broadcast:
    query = select(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.business_id == business_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"broadcast {broadcast_id} not found", code="broadcast_not_found")
    return row


def get_broadcast(session: Session, business_id: int, broadcast_id: int) -> dict[str, Any]:
    row = _get(session, business_id, broadcast_id)
    return broadcast_json(row, _progress(session, [row.id])[row.id])


def list_broadcasts(session: Session, business_id: int, *, status: str | None, page: int, per_page: int) -> Page:
    query = select(Broadcast).where(Broadcast.business_id == business_id)
    if status:
        query = query.where(Broadcast.status == status)
    rows, total = page_rows(session, query.order_by(Broadcast.created_at.desc(), Broadcast.id.desc()), page, per_page)
    progress = _progress(session, [r.id for r in rows])
    return Page([broadcast_json(r, progress[r.id]) for r in rows], total, page, per_page)


def _audience(session: Session, business_id: int, lead_ids: list[int] | None,
              status: str | None, source: str | None, q: str | None) -> list[tuple[int, str]]:
    if lead_ids is not None:
        wanted = sorted(set(lead_ids))
        found = dict(session.execute(
            select(Lead.id, Lead.phone_e164).where(Lead.business_id == business_id, Lead.id.in_(wanted))
        ).all())
        missing = [i for i in wanted if i not in found]
        if missing:
            raise Unprocessable(f"lead ids not found in this business: {missing[:20]}", code="unknown_leads",
                                details={"missing": missing[:100]})
        return [(i, found[i]) for i in wanted]
    query = lead_query(business_id, status, source, q).with_only_columns(Lead.id, Lead.phone_e164).order_by(Lead.id)
    return [(int(i), str(p)) for i, p in session.execute(query.limit(MAX_RECIPIENTS + 1)).all()]


def create_broadcast(
    session: Session, business_id: int, *, text: str, name: str = "", attachment_id: int | None = None,
    lead_ids: list[int] | None = None, status: str | None = None, source: str | None = None,
    q: str | None = None, idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """The broadcast (``accepted``, recipients listed) and whether it is new. Opted-out phones are
    listed as ``skipped`` at once (and checked again before each send)."""
    if session.get(Business, business_id) is None:
        raise NotFound(f"business {business_id} not found", code="business_not_found")
    stored_key = f"{business_id}:{idempotency_key or uuid.uuid4().hex}"
    existing = session.scalar(select(Broadcast).where(Broadcast.idempotency_key == stored_key))
    if existing is not None:
        return broadcast_json(existing, _progress(session, [existing.id])[existing.id]), False
    if attachment_id is not None:
        attachment = session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                             Attachment.business_id == business_id))
        if attachment is None:
            raise Unprocessable(f"attachment {attachment_id} not found in this business", code="unknown_attachment")
        if attachment.status == AttachmentStatus.FAILED:
            raise Unprocessable(f"attachment {attachment_id} failed processing: {attachment.error}",
                                code="attachment_failed")
    audience = _audience(session, business_id, lead_ids, status, source, q)
    if not audience:
        raise Unprocessable("the broadcast has no recipients (no lead matches)", code="no_recipients")
    if len(audience) > MAX_RECIPIENTS:
        raise Unprocessable(f"a broadcast may have at most {MAX_RECIPIENTS} recipients", code="too_many_recipients",
                            details={"limit": MAX_RECIPIENTS})
    opted_out = set(session.scalars(
        select(WhatsAppOptOut.phone_e164).where(WhatsAppOptOut.business_id == business_id)
    ).all())
    broadcast = Broadcast(business_id=business_id, name=name, channel=Channel.WHATSAPP, body=text,
                          attachment_id=attachment_id, idempotency_key=stored_key, total=len(audience))
    try:
        with session.begin_nested():
            session.add(broadcast)
            session.flush()
    except IntegrityError:  # a concurrent double-submit won the key
        winner = session.scalar(select(Broadcast).where(Broadcast.idempotency_key == stored_key))
        if winner is None:
            raise
        return broadcast_json(winner, _progress(session, [winner.id])[winner.id]), False
    now = utcnow()
    session.execute(insert(BroadcastRecipient), [
        {"broadcast_id": broadcast.id, "lead_id": lead_id, "address": phone,
         "status": "skipped" if phone in opted_out else "pending",
         "last_error": "opted_out" if phone in opted_out else "",
         "idempotency_key": recipient_key(broadcast.id, lead_id), "updated_at": now, "attempts": 0}
        for lead_id, phone in audience
    ])
    return broadcast_json(broadcast, _progress(session, [broadcast.id])[broadcast.id]), True


def transition(session: Session, business_id: int, broadcast_id: int, action: str) -> dict[str, Any]:
    """Apply ``action``; 409 ``illegal_transition`` naming the state when it is not allowed."""
    allowed_from, target = ACTIONS[action]
    row = _get(session, business_id, broadcast_id, lock=True)
    if row.status not in allowed_from:
        possible = sorted(a for a, (froms, _) in ACTIONS.items() if row.status in froms)
        raise Conflict(
            f"cannot {action} a broadcast that is {row.status} (allowed from {', '.join(allowed_from)})",
            code="illegal_transition",
            details={"status": row.status, "action": action, "allowed_actions": possible},
        )
    now = utcnow()
    row.status = target
    row.cancel_requested = target == BroadcastStatus.CANCELLED
    if action == "start":
        row.started_at = now
    if target == BroadcastStatus.CANCELLED:
        row.finished_at = now
        session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == row.id, BroadcastRecipient.status == "pending")
            .values(status="skipped", last_error="cancelled", updated_at=now)
        )
    session.flush()
    return broadcast_json(row, _progress(session, [row.id])[row.id])


def record_job(session: Session, business_id: int, broadcast_id: int, job_id: str) -> None:
    """Remember the job the route queued (the watchdog checks it is alive before queuing another)."""
    session.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.business_id == business_id)
                    .values(job_id=job_id, updated_at=Broadcast.updated_at))  # not progress
