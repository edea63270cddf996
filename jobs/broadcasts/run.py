"""``run_broadcast``: one chunk of a WhatsApp broadcast (``contracts.jobs.RUN_BROADCAST``).

A chunk holds the business's send lock (Redis, ``LOCK_SECONDS``, refreshed before each send, so
two broadcasts of one number share its pace), sends at most ``CHUNK_SIZE`` recipients or for
``CHUNK_SECONDS``, waits in-line only for short pacer gaps (``MAX_INLINE_WAIT_SECONDS``), then
queues itself for the pacer's next slot (``jobs.enqueue.enqueue_broadcast``) and returns: a
worker is never held for long, and a worker killed mid-chunk loses at most the one recipient in
flight, which the next chunk puts back (under the lock, a ``sending`` recipient is an orphan)
and sends again with the same idempotency key: the gateway answers the first message id, so
nothing is sent twice.

Per recipient: opted out (``whatsapp_opt_out``) → ``skipped``; claim ``pending → sending``
(conditional UPDATE, only while the broadcast is ``running``: a pause or cancel stops at the next
recipient); send; ``sent`` with the message id. Temporary errors (``contracts.wa_send``:
not connected, gateway unavailable, wrong shard) put it back with ``attempts + 1`` and a backoff
(``store.backoff``), ``failed`` after ``MAX_ATTEMPTS``; a session that is not connected or a
gateway that is down also ends the chunk (the next one waits the backoff). Permanent errors
(invalid number, the 463 reach-out limit) → ``failed`` with the reason, never retried.
"""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.services import whatsapp_gateway
from api.settings import Settings
from contracts.job_payloads import read_broadcast_ref
from contracts.wa_send import (
    GatewayUnavailable,
    NotConnected,
    PermanentSendError,
    ReachOutLimited,
    Sender,
    SendResult,
    TemporarySendError,
)
from jobs.broadcasts import store
from jobs.broadcasts.pacer import PacerState, day_start, decide, settings_from, zone
from jobs.current import job_redis
from jobs.db import job_session
from jobs.enqueue import enqueue_broadcast

if TYPE_CHECKING:
    pass

__all__ = ["CHUNK_SECONDS", "CHUNK_SIZE", "MAX_ATTEMPTS", "Chunk", "business_lock_key", "run_broadcast", "run_chunk"]

log = logging.getLogger(__name__)

CHUNK_SIZE = 50
CHUNK_SECONDS = 50.0
MAX_INLINE_WAIT_SECONDS = 5.0
MAX_ATTEMPTS = 5
LOCK_SECONDS = 30  # BROADCAST_LOCK_SECONDS; a killed chunk's lock frees itself this fast
BUSY_RETRY_SECONDS = 5.0

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end return 0"


def business_lock_key(business_id: int) -> str:
    return f"broadcasts:business:{business_id}:lock"


@dataclass(frozen=True, slots=True)
class Chunk:
    """What a chunk did: ``outcome`` is completed, stopped (not running), gone, busy (another
    chunk holds the business lock) or more (``next_at`` says when)."""

    outcome: str
    sent: int = 0
    next_at: datetime | None = None


def _linked_at(overrides: Mapping[str, Any]) -> datetime | None:
    value = overrides.get("linked_at")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def run_chunk(
    broadcast_id: int, sender: Sender, *, refresh: Callable[[], bool] = lambda: True,
    env: Mapping[str, str] | None = None, clock: Callable[[], datetime] = _now,
    sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
    chunk_size: int = CHUNK_SIZE, chunk_seconds: float = CHUNK_SECONDS,
) -> Chunk:
    """Send one chunk; the caller holds the business lock (``refresh`` keeps it, False = lost)."""
    row = store.load(broadcast_id)
    if row is None:
        return Chunk("gone")
    settings = settings_from(os.environ if env is None else env, row.pacer_overrides)
    tz, linked_at = zone(row.timezone), _linked_at(row.pacer_overrides)
    rng = rng or random.Random()
    start = clock()
    orphans = store.requeue_orphans(broadcast_id, start)
    if orphans:
        log.warning("broadcast %d: %d recipient(s) left in sending by a dead chunk went back to pending",
                    broadcast_id, orphans)
    sent = 0
    pacing = settings.per_minute > 0 or settings.daily_cap > 0 or linked_at is not None
    # The business's last send and today's count: read once, then kept here (under the business
    # lock this chunk is the only sender); read again when the local day changes.
    counted: tuple[datetime, datetime | None, int] | None = None
    while True:
        now = clock()
        if sent >= chunk_size or (now - start).total_seconds() >= chunk_seconds or not refresh():
            return Chunk("more", sent, now) if store.status_of(broadcast_id) == "running" else Chunk("stopped", sent)
        if pacing:
            today_start = day_start(now, tz)
            if counted is None or counted[0] != today_start:
                counted = (today_start, *store.pacer_state_inputs(row.business_id, today_start))
            decision = decide(settings, PacerState(counted[1], counted[2], linked_at), now, tz, rng)
            if decision.wait_until is not None:
                wait = (decision.wait_until - now).total_seconds()
                if wait <= MAX_INLINE_WAIT_SECONDS and (now - start).total_seconds() + wait < chunk_seconds:
                    sleep(wait)
                    continue
                if store.status_of(broadcast_id) != "running":
                    return Chunk("stopped", sent)
                return Chunk("more", sent, decision.wait_until)
        # One transaction: the status (a pause or cancel stops here), the next due recipient,
        # the opt-out check, and the claim pending → sending (only one chunk ever gets it).
        step, recipient = store.take(broadcast_id, row.business_id, now)
        if step == "stopped":
            return Chunk("stopped", sent)
        if step == "none":
            earliest, left = store.next_due(broadcast_id)
            if left == 0:
                store.finish_broadcast_if_done(broadcast_id, now)
                return Chunk("completed", sent)
            return Chunk("more", sent, earliest or now + timedelta(seconds=30))
        if step != "claimed" or recipient is None:
            continue  # skipped (opted out), or claimed by another chunk
        outcome = _send_one(sender, row, recipient, clock)
        if outcome == "sent":
            sent += 1
            if counted is not None:
                counted = (counted[0], clock(), counted[2] + 1)
        elif outcome == "stop":
            return Chunk("more", sent, clock() + store.backoff(recipient.attempts + 1))


def _send_one(sender: Sender, row: store.BroadcastRow, recipient: store.Recipient,
              clock: Callable[[], datetime]) -> str:
    attempts = recipient.attempts + 1
    try:
        result = sender.send(row.business_id, recipient.address, row.body, row.media, recipient.idempotency_key)
    except TemporarySendError as exc:
        now = clock()
        error = f"{exc.code}: {exc}"
        if attempts >= MAX_ATTEMPTS:
            store.mark(recipient.id, "failed", now, error=f"gave up after {attempts} attempts: {error}",
                       attempts=attempts)
            return "failed"
        store.retry_later(recipient.id, now, attempts, now + store.backoff(attempts), error)
        return "stop" if isinstance(exc, (NotConnected, GatewayUnavailable)) else "retry"
    except PermanentSendError as exc:
        error = f"{exc.code}: {exc}"
        if isinstance(exc, ReachOutLimited) and exc.until is not None:
            error += f" (until {exc.until.isoformat()})"
        store.mark(recipient.id, "failed", clock(), error=error, attempts=attempts)
        return "failed"
    message_id = result.message_id if isinstance(result, SendResult) else str(result)
    store.mark(recipient.id, "sent", clock(), message_id=message_id, attempts=attempts)
    return "sent"


# --- the RQ job ----------------------------------------------------------------------------------


def _lock_seconds(env: Mapping[str, str]) -> int:
    raw = env.get("BROADCAST_LOCK_SECONDS", "").strip()
    return max(2, int(raw)) if raw.isdigit() else LOCK_SECONDS


def _shard_of(business_id: int) -> int:
    with job_session() as session:
        return whatsapp_gateway.shard_of(session, business_id)


def _default_sender() -> Sender:
    """The API's gateway client (the one way to a shard), reading the shard per send."""
    gateway = whatsapp_gateway.Gateway.from_settings(Settings.from_env())
    return whatsapp_gateway.GatewaySender(gateway, _shard_of)


def run_broadcast(payload: Any, *, sender: Sender | None = None) -> dict[str, Any]:
    """Run one chunk of the broadcast and queue the next; returns what it did.

    Raises:
        contracts.job_payloads.PayloadError: the payload does not parse (permanent).
        sqlalchemy.exc.OperationalError, redis.RedisError: a dependency failed (RQ retries).
    """
    ref = read_broadcast_ref(payload)
    row = store.load(ref.broadcast_id)
    if row is None:
        return {"broadcast_id": ref.broadcast_id, "outcome": "gone"}
    lock_seconds = _lock_seconds(os.environ)
    token = uuid.uuid4().hex
    key = business_lock_key(row.business_id)
    with job_redis() as conn:
        if not conn.set(key, token, nx=True, ex=lock_seconds):
            chunk = Chunk("busy", 0, _now() + timedelta(seconds=min(BUSY_RETRY_SECONDS, lock_seconds)))
        else:
            try:
                chunk = run_chunk(
                    ref.broadcast_id, sender or _default_sender(),
                    refresh=lambda: bool(conn.eval(_REFRESH, 1, key, token, lock_seconds)),
                )
            finally:
                conn.eval(_RELEASE, 1, key, token)
        counts = store.refresh_counts(ref.broadcast_id)
        job_id = ""
        if chunk.next_at is not None and chunk.outcome in ("more", "busy"):
            at = max(chunk.next_at, _now())
            job_id = enqueue_broadcast(conn, ref.broadcast_id, key=f"next-{int(at.timestamp() * 1000)}",
                                       at=at if at > _now() + timedelta(seconds=1) else None)
            store.record_job(ref.broadcast_id, job_id)
    log.info("broadcast %d: chunk %s, %d sent; counts %s%s", ref.broadcast_id, chunk.outcome, chunk.sent, counts,
             f"; next {job_id}" if job_id else "")
    return {"broadcast_id": ref.broadcast_id, "outcome": chunk.outcome, "sent": chunk.sent, "counts": counts,
            "next_job_id": job_id}
