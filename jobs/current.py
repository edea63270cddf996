"""What the RQ job running in this process knows about itself (``rq.get_current_job``).

A job enqueues its follow-up work on the Redis it was taken from, and decides on its last
attempt whether to give up (mark a row failed, fall back) instead of raising for a retry.
Outside a worker (a direct call from a test or a shell) there is no job: no connection, and
no attempt counts as the last, so the caller sees every error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job

from api.settings import Settings

__all__ = ["enqueue_follow_up", "is_last_attempt", "job_redis"]

log = logging.getLogger(__name__)


def is_last_attempt() -> bool:
    """True when RQ will not retry the running job if it raises (``retries_left`` is 0 or the
    job has no retries)."""
    job = get_current_job()
    if job is None:
        return False
    return not job.retries_left


def enqueue_follow_up(what: str, enqueue: Callable[[Redis], Any]) -> bool:
    """Run ``enqueue(connection)`` on the current job's Redis; False (logged) when there is no
    job or Redis refuses. The data is committed already: a periodic sweep or a person picks up
    what was not enqueued (docs/ARCHITECTURE.md §5), so the job does not fail for it."""
    job = get_current_job()
    if job is None:
        log.warning("%s not enqueued: not running inside an RQ job", what)
        return False
    try:
        enqueue(job.connection)
    except RedisError as exc:
        log.warning("%s not enqueued: %s: %s", what, type(exc).__name__, exc)
        return False
    return True


@contextmanager
def job_redis() -> Iterator[Redis]:
    """The worker's own Redis connection inside a job; outside one (a test, a shell), a client
    from REDIS_URL, closed on the way out."""
    job = get_current_job()
    if job is not None:
        yield job.connection
        return
    client = Redis.from_url(Settings.from_env().redis_url)
    try:
        yield client
    finally:
        client.close()
