"""Handing a finished call's record to the RQ worker, by job name (I/O; sync, run in a thread).

The calls service never imports the job's code: ``jobs.calls.finalize_call`` stores the call
through the API's data layer, which this service must not load. It enqueues the job *by name*
as ``contracts.jobs.FINALIZE_CALL`` specifies (queue, timeout, retries, result TTL), with one
job id per call so a record sent twice (a spool drain cut short) runs once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from contracts.jobs import FINALIZE_CALL, finalize_job_id

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["enqueue_finalize_call"]


def enqueue_finalize_call(connection: Redis, record: dict[str, Any]) -> str:
    """Enqueue ``jobs.calls.finalize_call(record)``; returns the job id.

    A record whose job id is already queued, running or kept as a result is not queued again
    (the first copy wins).

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable (the reporter spools).
    """
    spec = FINALIZE_CALL
    call_sid = str(record["call_sid"])
    job_id = finalize_job_id(call_sid)
    queue = Queue(spec.queue, connection=connection, serializer=JSONSerializer)
    try:
        queue.enqueue(
            spec.name,
            record,
            job_id=job_id,
            unique=True,
            job_timeout=spec.timeout_seconds,
            retry=Retry(max=spec.max_retries, interval=list(spec.retry_intervals)),
            result_ttl=spec.result_ttl_seconds,
            description=f"finalize call {call_sid}",
        )
    except DuplicateJobError:
        pass  # already queued or done
    return job_id
