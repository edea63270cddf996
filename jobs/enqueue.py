"""The one door into RQ for api/ and callengine/: they never import ``rq`` themselves.

Every enqueue passes a timeout, a ``Retry`` with backoff and a deterministic job id, and uses
RQ's ``JSONSerializer`` so a job's arguments are plain data any worker version can read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.serializers import JSONSerializer

from jobs.keys import HIGH

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["FINALIZE_CALL", "enqueue_finalize_call", "finalize_job_id"]

FINALIZE_CALL = "jobs.calls.finalize_call"
FINALIZE_TIMEOUT_SECONDS = 120
FINALIZE_RETRY = Retry(max=5, interval=[5, 15, 60, 300, 900])
RESULT_TTL_SECONDS = 24 * 3600


def finalize_job_id(call_sid: str) -> str:
    """One job id per call, so the same record enqueued twice (a spool drain that was cut
    short, say) runs once."""
    return f"finalize-call-{call_sid}"


def enqueue_finalize_call(connection: Redis, record: dict[str, Any]) -> str:
    """Enqueue ``jobs.calls.finalize_call(record)`` on queue ``high``; returns the job id.

    Raises:
        redis.exceptions.RedisError: when Redis is unreachable (the caller spools).
    """
    queue = Queue(HIGH, connection=connection, serializer=JSONSerializer)
    job_id = finalize_job_id(str(record["call_sid"]))
    try:
        queue.enqueue(
            FINALIZE_CALL,
            record,
            job_id=job_id,
            unique=True,
            job_timeout=FINALIZE_TIMEOUT_SECONDS,
            retry=FINALIZE_RETRY,
            result_ttl=RESULT_TTL_SECONDS,
            description=f"finalize call {record['call_sid']}",
        )
    except DuplicateJobError:
        pass  # already queued or done: the first copy wins
    return job_id
