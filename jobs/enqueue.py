"""The one door into RQ for the API: it never imports ``rq`` or the jobs' code itself.

Every enqueue follows the job's spec in ``contracts.jobs`` (queue, timeout, ``Retry`` with
backoff, deterministic job id) and uses RQ's ``JSONSerializer`` so a job's arguments are plain
data any worker version can read. The calls service enqueues ``finalize_call`` by name from the
same spec without importing this package (``callengine.reporting.enqueue``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from contracts.job_payloads import AccountRef
from contracts.jobs import FINALIZE_CALL, SYNC_EMAIL_ACCOUNT, JobSpec, finalize_job_id

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["email_sync_job_id", "enqueue", "enqueue_email_sync", "enqueue_finalize_call"]


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
