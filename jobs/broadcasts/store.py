"""The broadcast job's reads and conditional writes (one short transaction each).

Every change of a recipient is a conditional UPDATE on its current status, so two jobs of the
same broadcast (a retry racing a watchdog re-enqueue) never take the same recipient: only the
job whose ``pending → sending`` claim changed one row sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from api.db.models import (
    Attachment,
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Business,
    WhatsAppOptOut,
)
from jobs.db import job_session

__all__ = [
    "BroadcastRow",
    "Recipient",
    "finish_broadcast_if_done",
    "load",
    "mark",
    "next_due",
    "take",
    "pacer_state_inputs",
    "record_job",
    "refresh_counts",
    "requeue_orphans",
    "stale_running",
    "status_of",
    "backoff",
    "retry_later",
]


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    business_id: int
    status: str
    body: str
    media: dict[str, Any] | None
    timezone: str
    pacer_overrides: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    address: str
    idempotency_key: str
    attempts: int


def load(broadcast_id: int) -> BroadcastRow | None:
    with job_session() as session:
        row = session.execute(
            select(Broadcast, Business.timezone, Business.brain_settings)
            .join(Business, Business.id == Broadcast.business_id)
            .where(Broadcast.id == broadcast_id)
        ).first()
        if row is None:
            return None
        broadcast, timezone, brain = row
        media = None
        if broadcast.attachment_id is not None:
            attachment = session.get(Attachment, broadcast.attachment_id)
            if attachment is not None:
                media = {"url": None, "path": attachment.path, "mime": attachment.mime, "caption": ""}
        overrides = (brain or {}).get("broadcasts") if isinstance(brain, dict) else None
        return BroadcastRow(broadcast.id, broadcast.business_id, broadcast.status, broadcast.body, media,
                            timezone or "UTC", overrides if isinstance(overrides, dict) else {})


def status_of(broadcast_id: int) -> str | None:
    with job_session() as session:
        return session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))


def record_job(broadcast_id: int, job_id: str) -> None:
    """Remember the run_broadcast job queued next (the watchdog checks it is alive)."""
    with job_session() as session:
        # updated_at kept: queuing a job is not progress (the watchdog reads it)
        session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                        .values(job_id=job_id, updated_at=Broadcast.updated_at))


def take(broadcast_id: int, business_id: int, now: datetime) -> tuple[str, Recipient | None]:
    """In one transaction, the next thing to do: ``("stopped", None)`` (not running),
    ``("none", None)`` (no recipient due), ``("skipped", r)`` (opted out: marked ``skipped``),
    ``("claimed", r)`` (``pending → sending``: send it) or ``("lost", r)`` (another chunk
    claimed it first)."""
    with job_session() as session:
        status = session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        if status != BroadcastStatus.RUNNING:
            return "stopped", None
        recipient = _next_recipient(session, broadcast_id, now)
        if recipient is None:
            return "none", None
        opted_out = session.scalar(
            select(WhatsAppOptOut.id).where(WhatsAppOptOut.business_id == business_id,
                                            WhatsAppOptOut.phone_e164 == recipient.address)
        ) is not None
        changed = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id == recipient.id, BroadcastRecipient.status == "pending",
                   # still running at the write, not only at the read above (a pause between them)
                   BroadcastRecipient.broadcast_id.in_(select(Broadcast.id).where(
                       Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING)))
            .values(status="skipped" if opted_out else "sending", updated_at=now,
                    last_error="opted_out" if opted_out else BroadcastRecipient.last_error)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            return "lost", recipient
        return ("skipped" if opted_out else "claimed"), recipient


def _next_recipient(session: Session, broadcast_id: int, now: datetime) -> Recipient | None:
    row = session.execute(
        select(BroadcastRecipient.id, BroadcastRecipient.address, BroadcastRecipient.idempotency_key,
               BroadcastRecipient.attempts)
        .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status == "pending",
               or_(BroadcastRecipient.next_attempt_at.is_(None), BroadcastRecipient.next_attempt_at <= now))
        .order_by(BroadcastRecipient.id)
        .limit(1)
    ).first()
    return None if row is None else Recipient(row[0], row[1], row[2], row[3])


def next_due(broadcast_id: int) -> tuple[datetime | None, int]:
    """(the earliest backoff end of a pending recipient, how many are pending or sending)."""
    with job_session() as session:
        earliest, count = session.execute(
            select(func.min(BroadcastRecipient.next_attempt_at), func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id,
                   BroadcastRecipient.status.in_(("pending", "sending")))
        ).one()
        return earliest, int(count)


def mark(recipient_id: int, status: str, now: datetime, *, error: str = "", message_id: str | None = None,
         attempts: int | None = None, from_status: str = "sending") -> bool:
    """Move a recipient from ``from_status`` to ``status`` (sent, failed, skipped)."""
    values: dict[str, Any] = {"status": status, "updated_at": now, "last_error": error,
                              "next_attempt_at": None}
    if status == "sent":
        values.update(sent_at=now, message_id=message_id)
    if attempts is not None:
        values["attempts"] = attempts
    with job_session() as session:
        changed = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id == recipient_id, BroadcastRecipient.status == from_status)
            .values(**values)
        ).rowcount  # type: ignore[attr-defined]
        return bool(changed == 1)


def retry_later(recipient_id: int, now: datetime, attempts: int, at: datetime, error: str) -> bool:
    """``sending → pending`` with one more attempt counted, not before ``at``."""
    with job_session() as session:
        changed = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id == recipient_id, BroadcastRecipient.status == "sending")
            .values(status="pending", attempts=attempts, next_attempt_at=at, last_error=error, updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        return bool(changed == 1)


def pacer_state_inputs(business_id: int, since: datetime) -> tuple[datetime | None, int]:
    """(the business's last WhatsApp broadcast send, how many since ``since``) across all of
    its broadcasts: the pacer limits the number, not one campaign."""
    with job_session() as session:
        last, count = session.execute(
            select(func.max(BroadcastRecipient.sent_at),
                   func.count(BroadcastRecipient.id).filter(BroadcastRecipient.sent_at >= since))
            .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
            .where(Broadcast.business_id == business_id, BroadcastRecipient.status == "sent")
        ).one()
        return last, int(count or 0)


def refresh_counts(broadcast_id: int) -> dict[str, int]:
    """Rewrite the broadcast's sent/failed/skipped counters from its recipients."""
    with job_session() as session:
        rows = session.execute(
            select(BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(BroadcastRecipient.status)
        ).all()
        counts = {status: int(n) for status, n in rows}
        session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(
                sent=counts.get("sent", 0), failed=counts.get("failed", 0), skipped=counts.get("skipped", 0))
        )
        return counts


def finish_broadcast_if_done(broadcast_id: int, now: datetime) -> bool:
    """``running → completed`` when no recipient is pending or sending; True if it did."""
    with job_session() as session:
        open_left = select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status.in_(("pending", "sending"))
        ).exists()
        changed = session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.RUNNING, ~open_left)
            .values(status=BroadcastStatus.COMPLETED, finished_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        return bool(changed == 1)


def stale_running(cutoff: datetime) -> list[tuple[int, str]]:
    """Running broadcasts with recipients left and no change since ``cutoff`` (neither the
    broadcast nor any recipient): (id, the job id it last queued)."""
    with job_session() as session:
        recent = select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast_id == Broadcast.id, BroadcastRecipient.updated_at >= cutoff
        ).exists()
        left = select(BroadcastRecipient.id).where(
            BroadcastRecipient.broadcast_id == Broadcast.id, BroadcastRecipient.status.in_(("pending", "sending"))
        ).exists()
        rows = session.execute(
            select(Broadcast.id, Broadcast.job_id).where(
                and_(Broadcast.status == BroadcastStatus.RUNNING, Broadcast.updated_at < cutoff, ~recent, left)
            ).order_by(Broadcast.id)
        ).all()
        return [(int(r[0]), str(r[1] or "")) for r in rows]


def backoff(attempts: int, base_seconds: float = 30.0, cap_seconds: float = 1800.0) -> timedelta:
    """30 s, 60 s, 120 s … capped at 30 min."""
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** max(0, attempts - 1))))


def requeue_orphans(broadcast_id: int, now: datetime) -> int:
    """``sending → pending`` for every recipient of the broadcast: called by a chunk holding the
    business lock, when no other chunk can be sending for it (one that died left them)."""
    with job_session() as session:
        changed = session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status == "sending")
            .values(status="pending", updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
        return int(changed or 0)
