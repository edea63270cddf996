"""The one door for operators into the jobs' state: dead letters, workers, the scheduler leader.

``python -m jobs failed …`` (``jobs/cli.py``) and the API's ``/api/ops`` routes both use this
module and nothing else of ``jobs`` (as ``jobs/enqueue.py`` is the one door for enqueueing), so
the dead-letter rules of ``jobs/deadletter.py`` and the lock layout of ``jobs/leader.py`` stay
private to the jobs package. Everything here is synchronous and takes the Redis client the
caller built; it must **not** decode responses (RQ stores bytes). Redis errors propagate
(``redis.RedisError``): the caller decides (the CLI exits 1, the API answers 503).

No import of ``api`` here: the API imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, final

from rq import Worker
from rq.serializers import JSONSerializer

from contracts.keys import ALL_QUEUES
from jobs import deadletter
from jobs.deadletter import DeadJob, UnknownDeadJob
from jobs.leader import LOCK_KEY

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "DeadJob",
    "LeaderInfo",
    "UnknownDeadJob",
    "WorkerInfo",
    "dead_letter_count",
    "dead_letter_ids",
    "list_dead_letters",
    "list_workers",
    "purge_dead_letter",
    "queue_depths",
    "requeue_dead_letter",
    "scheduler_leader",
    "show_dead_letter",
]


@final
@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """One RQ worker registered in ``rq:workers``."""

    name: str
    hostname: str | None
    pid: int | None
    queues: tuple[str, ...]
    state: str  # RQ's WorkerStatus: started, suspended, busy, idle
    current_job: str | None
    last_heartbeat: datetime | None  # aware UTC


@final
@dataclass(frozen=True, slots=True)
class LeaderInfo:
    """The scheduler replica holding the leader lock (``"{token}:{replica}"``)."""

    replica: str
    token: int | None
    expires_in_ms: int


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def dead_letter_ids(connection: Redis) -> list[str]:
    """Every dead job's id, oldest first."""
    return deadletter.dead_ids(connection)


def dead_letter_count(connection: Redis) -> int:
    """How many jobs are dead (``LLEN rq:queue:failed``)."""
    return int(connection.llen(deadletter.DEAD_LETTERS))


def list_dead_letters(connection: Redis, *, offset: int = 0, limit: int | None = None) -> tuple[list[DeadJob], int]:
    """A slice of the dead letters, newest first, and how many there are.

    Args:
        offset: dead jobs skipped (newest first).
        limit: at most this many; ``None`` for all.
    """
    total = dead_letter_count(connection)
    if limit is not None and limit <= 0:
        return [], total
    # The list is oldest first: the newest ``offset`` entries are its last ones.
    # (LRANGE clamps a start before the list's head to 0.)
    start = -(offset + limit) if limit is not None else 0
    raw = connection.lrange(deadletter.DEAD_LETTERS, start, -1 - offset) if offset < total else []
    ids = [_text(item) or "" for item in reversed(raw)]
    return deadletter.fetch(connection, ids), total


def show_dead_letter(connection: Redis, job_id: str) -> DeadJob:
    """One dead job with its arguments and traceback.

    Raises:
        UnknownDeadJob: ``job_id`` is not a dead job.
    """
    if connection.lpos(deadletter.DEAD_LETTERS, job_id) is None:
        raise UnknownDeadJob(job_id)
    [dead] = deadletter.fetch(connection, [job_id], details=True)
    return dead


def requeue_dead_letter(connection: Redis, job_id: str) -> tuple[str, int]:
    """Back on its original queue with fresh retries; returns (queue, retries).

    Raises:
        UnknownDeadJob: ``job_id`` is not a dead job.
        ValueError: its data cannot be read (purge it instead).
    """
    return deadletter.requeue(connection, job_id)


def purge_dead_letter(connection: Redis, job_id: str) -> None:
    """Delete a dead job for good.

    Raises:
        UnknownDeadJob: ``job_id`` is not a dead job.
    """
    deadletter.purge(connection, job_id)


def queue_depths(connection: Redis) -> dict[str, int]:
    """Jobs waiting on each queue (``contracts.keys.ALL_QUEUES``, most urgent first)."""
    with connection.pipeline(transaction=False) as pipe:
        for name in ALL_QUEUES:
            pipe.llen(f"rq:queue:{name}")
        lengths = pipe.execute()
    return {name: int(length) for name, length in zip(ALL_QUEUES, lengths, strict=True)}


def list_workers(connection: Redis) -> list[WorkerInfo]:
    """The registered workers, by name."""
    found = []
    for worker in Worker.all(connection=connection, serializer=JSONSerializer):
        heartbeat = worker.last_heartbeat
        found.append(WorkerInfo(
            name=worker.name,
            hostname=_text(worker.hostname),
            pid=worker.pid,
            queues=tuple(worker.queue_names()),
            state=str(worker.get_state()),
            current_job=worker.get_current_job_id(),
            last_heartbeat=None if heartbeat is None else heartbeat if heartbeat.tzinfo else heartbeat.replace(tzinfo=UTC),
        ))
    return sorted(found, key=lambda w: w.name)


def scheduler_leader(connection: Redis) -> LeaderInfo | None:
    """The replica holding the scheduler's leader lock, or ``None`` when no one leads."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.get(LOCK_KEY)
        pipe.pttl(LOCK_KEY)
        value, ttl = pipe.execute()
    text = _text(value)
    if not text:
        return None
    token, _, replica = text.partition(":")
    return LeaderInfo(replica=replica or text, token=int(token) if token.isdigit() else None,
                      expires_in_ms=max(int(ttl), 0))
