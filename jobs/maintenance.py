"""The periodic maintenance jobs ``python -m jobs.scheduler`` enqueues (``contracts.jobs``).

Each takes no arguments from the queue (the keyword arguments are for tests and operators),
reads its settings from the API's environment (``api.settings``: RECORDINGS_DIR, the session
lifetimes, REDIS_URL), is idempotent, works in bounded batches, and returns counts of what it
did (kept as the RQ result, and logged).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import and_, delete, exists, or_, select, update

from api.db.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Business,
    Call,
    DeliveryStatus,
    WebhookDelivery,
)
from api.services.sessions import Lifetimes, purge_expired
from api.services.whatsapp_events import prune_events
from api.settings import Settings
from jobs.broadcasts import store as broadcast_store
from jobs.current import job_redis
from jobs.db import job_session
from jobs.enqueue import enqueue_broadcast
from jobs.leases import LeaseReport, reconcile_leases

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "BROADCAST_RESUME_SECONDS",
    "BROADCAST_STUCK_SECONDS",
    "WEBHOOK_DELIVERED_KEEP_DAYS",
    "broadcast_watchdog",
    "reconcile_call_leases",
    "recording_target",
    "recordings_retention",
    "stale_cleanup",
]

log = logging.getLogger(__name__)

RETENTION_BATCH = 200  # calls per transaction: a short lock, a bounded loss if the job dies
# A recipient in `sending` this long has lost its sender (one WhatsApp send takes seconds, and
# the broadcast job's timeout is well below this); a `running` broadcast with nothing left to
# send and no change for as long is over.
BROADCAST_STUCK_SECONDS = 15 * 60
# A `running` broadcast with recipients left, no change for this long and no live run_broadcast
# job (queued, scheduled or started) lost its chain of jobs (Redis lost them, the enqueue after
# a chunk failed): the watchdog queues a new one.
BROADCAST_RESUME_SECONDS = 5 * 60
WEBHOOK_DELIVERED_KEEP_DAYS = 30  # delivered events: the receiver has them; failures are kept


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


# --- call leases --------------------------------------------------------------------------------


def reconcile_call_leases() -> LeaseReport:
    """Drop expired call leases (and their business-set members), prune dead calls instances,
    rewrite ``calls:active_count`` and ``calls:capacity`` (``jobs.leases``)."""
    with job_redis() as client:
        return reconcile_leases(client, int(time.time() * 1000))


# --- recordings retention -----------------------------------------------------------------------


def recording_target(recordings_dir: Path, stored: str) -> Path | None:
    """The file a call's ``recording_path`` names, or None when it must not be touched.

    The API's rule (the file ``GET /api/calls/{id}/recording`` serves): an absolute path as
    is, a relative one names a file in the recordings directory. Refused: any ``..``, a path
    outside the directory once resolved, a symlink, the directory itself.
    """
    root = recordings_dir.resolve()
    raw = Path(stored)
    if not stored.strip() or ".." in raw.parts:
        return None
    candidate = raw if raw.is_absolute() else root / raw.name
    if candidate.is_symlink():
        return None
    resolved = candidate.resolve()
    if resolved == root or not resolved.is_relative_to(root) or resolved.is_dir():
        return None
    return resolved


def recordings_retention(
    *, recordings_dir: Path | None = None, now: datetime | None = None, batch_size: int = RETENTION_BATCH
) -> dict[str, int]:
    """Delete the recordings of calls that ended more than their business's
    ``recording_retention_days`` ago (0 keeps them forever); the call keeps its row, with
    ``recording_path`` NULL and ``recording_deleted_at`` set.

    A file already gone still marks the call; a path outside RECORDINGS_DIR is refused and
    left as it is (logged, counted). Each batch commits on its own; a rerun continues.
    """
    root = recordings_dir if recordings_dir is not None else Settings.from_env().recordings_dir
    moment = _now(now)
    counts = {"deleted": 0, "missing": 0, "refused": 0}
    with job_session() as session:
        policies = session.execute(
            select(Business.id, Business.recording_retention_days).where(Business.recording_retention_days > 0)
        ).all()
    for business_id, days in policies:
        cutoff = moment - timedelta(days=days)
        after = 0
        while True:
            with job_session() as session:
                rows = session.execute(
                    select(Call.id, Call.recording_path)
                    .where(Call.business_id == business_id, Call.recording_path.is_not(None),
                           Call.recording_path != "", Call.ended_at < cutoff, Call.id > after)
                    .order_by(Call.id)
                    .limit(batch_size)
                ).all()
                for call_id, stored in rows:
                    after = call_id
                    outcome = _delete_recording(root, stored or "")
                    counts[outcome] += 1
                    if outcome == "refused":
                        log.warning("retention: call %d recording %r is outside %s; left alone", call_id, stored, root)
                        continue
                    session.execute(
                        update(Call)
                        .where(Call.id == call_id, Call.recording_path == stored)
                        .values(recording_path=None, recording_deleted_at=moment)
                    )
            if len(rows) < batch_size:
                break
    if any(counts.values()):
        log.info("recordings retention: %d deleted, %d already missing, %d refused",
                 counts["deleted"], counts["missing"], counts["refused"])
    return counts


def _delete_recording(root: Path, stored: str) -> str:
    target = recording_target(root, stored)
    if target is None:
        return "refused"
    try:
        target.unlink()
    except FileNotFoundError:
        return "missing"
    return "deleted"


# --- broadcast watchdog -------------------------------------------------------------------------


def broadcast_watchdog(*, now: datetime | None = None, stuck_after_seconds: int = BROADCAST_STUCK_SECONDS,
                       resume_after_seconds: int = BROADCAST_RESUME_SECONDS) -> dict[str, int]:
    """Unstick broadcasts: recipients in ``sending`` for longer than ``stuck_after_seconds``
    (by their ``updated_at``; a row from before that column, by its broadcast's) go back to
    ``pending`` with their attempts kept; a ``running`` broadcast with no recipient left
    to send and no change for as long is marked ``completed``; and a ``running`` broadcast with
    recipients left, no change for ``resume_after_seconds`` and no live job gets a new
    ``run_broadcast`` job (id ``broadcast-{id}-watchdog-{minute}``: two watchdogs in one minute
    queue one)."""
    resumed = _resume_broadcasts(_now(now), resume_after_seconds)  # before the requeue below stamps rows
    cutoff = _now(now) - timedelta(seconds=stuck_after_seconds)
    with job_session() as session:
        stuck = session.execute(
            select(BroadcastRecipient.id, BroadcastRecipient.broadcast_id)
            .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
            .where(
                BroadcastRecipient.status == "sending",
                or_(BroadcastRecipient.updated_at < cutoff,
                    and_(BroadcastRecipient.updated_at.is_(None), Broadcast.updated_at < cutoff)),
            )
        ).all()
        if stuck:
            session.execute(
                update(BroadcastRecipient)
                .where(BroadcastRecipient.id.in_([r.id for r in stuck]), BroadcastRecipient.status == "sending")
                .values(status="pending")
            )
            for broadcast_id in sorted({r.broadcast_id for r in stuck}):
                count = sum(1 for r in stuck if r.broadcast_id == broadcast_id)
                log.warning("broadcast %d: %d recipients stuck in sending went back to pending", broadcast_id, count)
        open_recipient = exists().where(
            BroadcastRecipient.broadcast_id == Broadcast.id, BroadcastRecipient.status.in_(("pending", "sending"))
        )
        done = session.scalars(
            select(Broadcast.id).where(Broadcast.status == BroadcastStatus.RUNNING, Broadcast.updated_at < cutoff,
                                       ~open_recipient)
        ).all()
        if done:
            session.execute(
                update(Broadcast)
                .where(Broadcast.id.in_(done), Broadcast.status == BroadcastStatus.RUNNING)
                .values(status=BroadcastStatus.COMPLETED)
            )
            log.info("broadcasts %s had nothing left to send: marked completed", ", ".join(map(str, done)))
    return {"recipients_requeued": len(stuck), "broadcasts_completed": len(done), "broadcasts_resumed": resumed}


_LIVE = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}


def _job_alive(client: Redis, job_id: str) -> bool:
    if not job_id:
        return False
    try:
        job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in _LIVE


def _resume_broadcasts(moment: datetime, resume_after_seconds: int) -> int:
    stale = broadcast_store.stale_running(moment - timedelta(seconds=resume_after_seconds))
    if not stale:
        return 0
    resumed = 0
    with job_redis() as client:
        for broadcast_id, job_id in stale:
            if _job_alive(client, job_id):
                continue
            new_id = enqueue_broadcast(client, broadcast_id, key=f"watchdog-{int(moment.timestamp()) // 60}")
            broadcast_store.record_job(broadcast_id, new_id)
            resumed += 1
            log.warning("broadcast %d: running without progress or a live job (last %r): queued %s",
                        broadcast_id, job_id, new_id)
    return resumed


# --- stale data ---------------------------------------------------------------------------------


def stale_cleanup(*, now: datetime | None = None, settings: Settings | None = None) -> dict[str, int]:
    """Delete data nobody can use any more: expired sessions (the API's own expiry rules,
    ``api.services.sessions``), webhook deliveries delivered over 30 days ago (failed ones
    stay: they are the dead letters the API shows) and the ids of WhatsApp gateway events
    received over 30 days ago (``api.services.whatsapp_events.prune_events``: the gateway never
    redelivers an event that old)."""
    config = settings if settings is not None else Settings.from_env()
    moment = _now(now)
    with job_session() as session:
        sessions = purge_expired(
            session, moment, Lifetimes(config.session_idle_seconds, config.session_max_age_seconds)
        )
        deliveries = session.execute(
            delete(WebhookDelivery).where(
                and_(WebhookDelivery.status == DeliveryStatus.DELIVERED,
                     WebhookDelivery.delivered_at < moment - timedelta(days=WEBHOOK_DELIVERED_KEEP_DAYS))
            )
        ).rowcount  # type: ignore[attr-defined]
        events = prune_events(session, now=moment)
    counts = {"sessions": int(sessions), "webhook_deliveries": int(deliveries), "whatsapp_events": events}
    if any(counts.values()):
        log.info("stale cleanup: %d expired sessions, %d old delivered webhooks, %d old WhatsApp event ids",
                 counts["sessions"], counts["webhook_deliveries"], counts["whatsapp_events"])
    return counts
