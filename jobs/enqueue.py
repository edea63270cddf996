"""The one door into RQ for the API: it never imports ``rq`` or the jobs' code itself.

Every enqueue follows the job's spec in ``contracts.jobs`` (queue, timeout, ``Retry`` with
backoff, deterministic job id) and uses RQ's ``JSONSerializer`` so a job's arguments are plain
data any worker version can read. The calls service enqueues ``finalize_call`` by name from the
same spec without importing this package (``callengine.reporting.enqueue``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from contracts.job_payloads import AccountRef, AttachmentRef, BroadcastRef, CallRef, DeliveryRef
from contracts.jobs import (
    DELIVER_WEBHOOK,
    FINALIZE_CALL,
    MAKE_THUMBNAIL,
    PROCESS_CALL,
    RUN_BROADCAST,
    SYNC_EMAIL_ACCOUNT,
    JobSpec,
    finalize_job_id,
)

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "broadcast_job_id",
    "enqueue_broadcast",
    "email_sync_job_id",
    "enqueue_email_sync",
    "delivery_job_id",
    "enqueue",
    "enqueue_finalize_call",
    "enqueue_periodic",
    "enqueue_process_call",
    "enqueue_thumbnail",
    "enqueue_webhook_delivery",
    "periodic_job_id",
    "process_job_id",
    "thumbnail_job_id",
]


def enqueue(connection: Redis, spec: JobSpec, *args: Any, job_id: str, description: str) -> str:
    """Enqueue ``spec.name(*args)`` once per ``job_id``; returns the job id.

    A job id already queued or kept as a result (``spec.result_ttl_seconds``) is not queued
    again: the first copy wins.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    queue = Queue(spec.queue, connection=connection, serializer=JSONSerializer)
    try:
        queue.enqueue(
            spec.name,
            *args,
            job_id=job_id,
            unique=True,
            job_timeout=spec.timeout_seconds,
            retry=Retry(max=spec.max_retries, interval=list(spec.retry_intervals)) if spec.max_retries else None,
            result_ttl=spec.result_ttl_seconds,
            description=description,
        )
    except DuplicateJobError:
        pass  # already queued or done: the first copy wins
    return job_id


def enqueue_finalize_call(connection: Redis, record: dict[str, Any]) -> str:
    """Enqueue ``jobs.calls.finalize_call(record)``; returns the job id.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    call_sid = str(record["call_sid"])
    return enqueue(
        connection, FINALIZE_CALL, record, job_id=finalize_job_id(call_sid),
        description=f"finalize call {call_sid}",
    )


def periodic_job_id(spec: JobSpec, slot: int) -> str:
    """One job id per periodic job and UTC slot (``periodic-{function}-{slot}``)."""
    return f"periodic-{spec.name.rsplit('.', 1)[-1]}-{slot}"


def enqueue_periodic(connection: Redis, spec: JobSpec, slot: int, *, stale_after_seconds: int) -> str:
    """Enqueue the periodic job ``spec.name()`` (no arguments) for ``slot``; returns the job id.

    The id is derived from the slot (``unique=True``), so two schedulers racing for one slot
    queue one job. A copy still waiting after ``stale_after_seconds`` (about its interval: the
    next slot queues a fresh one) expires instead of piling up while no worker runs.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    job_id = periodic_job_id(spec, slot)
    queue = Queue(spec.queue, connection=connection, serializer=JSONSerializer)
    try:
        queue.enqueue(
            spec.name,
            job_id=job_id,
            unique=True,
            job_timeout=spec.timeout_seconds,
            retry=Retry(max=spec.max_retries, interval=list(spec.retry_intervals)) if spec.max_retries else None,
            result_ttl=spec.result_ttl_seconds,
            ttl=max(60, stale_after_seconds),
            description=f"periodic {spec.name} slot {slot}",
        )
    except DuplicateJobError:
        pass  # this slot is already queued or done
    return job_id


def thumbnail_job_id(attachment_id: int) -> str:
    """One thumbnail job per attachment row."""
    return f"thumbnail-{attachment_id}"


def enqueue_thumbnail(connection: Redis, attachment_id: int) -> str:
    """Enqueue ``jobs.media.make_thumbnail({"version": 1, "attachment_id": …})``; returns the job id.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    return enqueue(
        connection, MAKE_THUMBNAIL, AttachmentRef(attachment_id).to_dict(), job_id=thumbnail_job_id(attachment_id),
        description=f"thumbnail of attachment {attachment_id}",
    )


def process_job_id(call_sid: str) -> str:
    """One post-call processing job per call (a finalize retried after its enqueue runs once)."""
    return f"process-call-{call_sid}"


def enqueue_process_call(connection: Redis, call_sid: str) -> str:
    """Enqueue ``jobs.postcall.process_call`` for a stored call; returns the job id.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    return enqueue(
        connection, PROCESS_CALL, CallRef(call_sid=call_sid).to_dict(), job_id=process_job_id(call_sid),
        description=f"post-call processing {call_sid}",
    )


def delivery_job_id(delivery_id: int, attempts: int) -> str:
    """The job id of a delivery's next run: ``attempts`` (the row's count so far) makes a
    redelivery a new job while a delivery enqueued twice before its first attempt runs once."""
    return f"deliver-webhook-{delivery_id}-a{attempts}"


def enqueue_webhook_delivery(connection: Redis, delivery_id: int, attempts: int = 0) -> str:
    """Enqueue ``jobs.webhooks.deliver`` for a committed ``webhook_delivery`` row.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    return enqueue(
        connection, DELIVER_WEBHOOK, DeliveryRef(delivery_id=delivery_id).to_dict(),
        job_id=delivery_job_id(delivery_id, attempts), description=f"webhook delivery {delivery_id}",
    )


def email_sync_job_id(account_id: int, key: str) -> str:
    """One sync job per account and ``key``: the scheduler's key is the due time
    (``jobs.email.plan.due_job_key``), the API's "sync now" the current minute."""
    return f"email-sync-{account_id}-{key}"


def enqueue_email_sync(connection: Redis, account_id: int, *, key: str) -> str:
    """Enqueue ``jobs.email.sync_account({"version": 1, "account_id": account_id})`` once per
    ``key``; returns the job id.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    return enqueue(
        connection, SYNC_EMAIL_ACCOUNT, AccountRef(account_id).to_dict(),
        job_id=email_sync_job_id(account_id, key), description=f"sync email account {account_id}",
    )


def broadcast_job_id(broadcast_id: int, key: str) -> str:
    """One run_broadcast job per broadcast and ``key`` (``start-…``, ``next-<due ms>``,
    ``watchdog-<slot>``): the same step queued twice runs once."""
    return f"broadcast-{broadcast_id}-{key}"


def enqueue_broadcast(connection: Redis, broadcast_id: int, *, key: str, at: datetime | None = None) -> str:
    """Queue ``jobs.broadcasts.run.run_broadcast({"version": 1, "broadcast_id": …})`` now, or at
    ``at`` (RQ's scheduler, which every ``python -m jobs.worker`` runs); returns the job id.
    A job id already queued, scheduled or kept as a result is not queued again.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable.
    """
    job_id = broadcast_job_id(broadcast_id, key)
    payload = BroadcastRef(broadcast_id).to_dict()
    if at is None:
        return enqueue(connection, RUN_BROADCAST, payload, job_id=job_id, description=f"broadcast {broadcast_id}")
    queue = Queue(RUN_BROADCAST.queue, connection=connection, serializer=JSONSerializer)
    spec = RUN_BROADCAST
    job = queue.create_job(
        spec.name, args=(payload,), job_id=job_id, timeout=spec.timeout_seconds,
        retry=Retry(max=spec.max_retries, interval=list(spec.retry_intervals)),
        result_ttl=spec.result_ttl_seconds, description=f"broadcast {broadcast_id} (paced)",
    )
    try:
        queue.schedule_job(job, at, unique=True)
    except DuplicateJobError:
        pass  # this step is already scheduled or done
    return job_id
