"""Dead letters: jobs that failed for good, in the Redis list ``rq:queue:failed``.

RQ 2.x keeps failed jobs in one ``FailedJobRegistry`` per queue (the sorted set
``rq:failed:<queue>``), which an operator cannot count with one command. So a job that failed
for good — retries exhausted, a ``PermanentJobError``, a function that does not import, arguments
that do not deserialize, a worker that died under it with no retries left — is also pushed, by
id, to the list ``rq:queue:failed``: ``LLEN rq:queue:failed`` counts the dead jobs. No worker
consumes queue ``failed`` (``RQ_QUEUES`` refuses it). Why each job died is kept next to it in the
hash ``rq:dead:<id>`` (queue, function, failed-at, one-line reason); RQ's own result stream keeps
the full traceback.

The registry stays the source of truth and both move together: a job enters the list only after
RQ put it in its origin queue's registry, ``requeue`` and ``purge`` update both, and ``reconcile``
(run by every worker's maintenance pass) adds the registry's jobs that are missing from the list
(jobs RQ's own cleanup failed, with no worker hook running: abandoned jobs) and drops entries whose
job left the registry some other way (``rq requeue``, expiry).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, final

from redis.exceptions import RedisError
from rq.defaults import DEFAULT_FAILURE_TTL
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from contracts.jobs import JOB_SPECS
from jobs.worker_settings import DEAD_LETTER_QUEUE

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "DEAD_LETTERS",
    "DeadJob",
    "bury",
    "bury_unreadable",
    "dead_ids",
    "fetch",
    "info_key",
    "one_line",
    "purge",
    "reconcile",
    "requeue",
]

log = logging.getLogger(__name__)

DEAD_LETTERS = f"rq:queue:{DEAD_LETTER_QUEUE}"  # LIST of job ids, oldest first
INFO_PREFIX = "rq:dead:"  # HASH per dead job: queue, func, failed_at, reason
REASON_MAX_CHARS = 500

# Push the id once (LPOS: Redis >= 6.0.6) and record why. ARGV[3] == "1": keep an existing reason
# (the reconcile step must not overwrite the worker's more precise one).
_BURY = """
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) else redis.call('PERSIST', KEYS[2]) end
return 1
"""

# Drop an entry whose job is no longer in its origin queue's failed registry. Reads the origin
# from the entry's hash, else from the job's; keys computed here: a single Redis, not a cluster.
_DROP_IF_STALE = """
local origin = redis.call('HGET', KEYS[2], 'queue')
if not origin then origin = redis.call('HGET', 'rq:job:' .. ARGV[1], 'origin') end
if origin and redis.call('ZSCORE', 'rq:failed:' .. origin, ARGV[1]) then return 0 end
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


def info_key(job_id: str) -> str:
    return INFO_PREFIX + job_id


def one_line(text: str) -> str:
    """The last non-empty line of a traceback (``PayloadError: version 2 is newer…``), trimmed."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else "failed (no reason recorded)"
    return line if len(line) <= REASON_MAX_CHARS else line[: REASON_MAX_CHARS - 1] + "…"


def exception_reason(exc: BaseException) -> str:
    """``PayloadError: process_call payload: …`` (class name, not the module path)."""
    return one_line("".join(traceback.format_exception_only(type(exc), exc)).replace(
        f"{type(exc).__module__}.{type(exc).__qualname__}", type(exc).__qualname__))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _bury(
    connection: Redis, job_id: str, fields: dict[str, str], *, ttl: int, keep_existing: bool = False
) -> None:
    flat: list[str] = []
    for key, value in fields.items():
        flat += [key, value]
    connection.eval(_BURY, 2, DEAD_LETTERS, info_key(job_id), job_id, str(ttl), "1" if keep_existing else "0", *flat)


def _func_name(job: Job) -> str:
    try:
        return job.func_name or "?"
    except Exception:  # noqa: BLE001 - a job whose data does not deserialize has no readable name
        return "<unreadable>"


def bury(connection: Redis, job: Job, reason: str, *, keep_existing: bool = False) -> None:
    """Record ``job`` (already in its origin queue's failed registry) as dead, with ``reason``.

    Idempotent: the id is listed once. A Redis error is logged, not raised: the next maintenance
    pass's ``reconcile`` lists the job from the registry.
    """
    ttl = job.failure_ttl if job.failure_ttl is not None else DEFAULT_FAILURE_TTL
    fields = {"queue": job.origin, "func": _func_name(job), "failed_at": _now(), "reason": one_line(reason)}
    try:
        _bury(connection, job.id, fields, ttl=ttl, keep_existing=keep_existing)
    except RedisError as exc:
        log.error("dead letter %s not recorded (%s); the next maintenance pass lists it", job.id, exc)
        return
    log.warning("job %s (%s on %s) dead-lettered: %s", job.id, fields["func"], job.origin, fields["reason"])


def bury_unreadable(connection: Redis, queue: str, job_id: str, reason: str) -> None:
    """Dead-letter a job RQ cannot even load (a corrupt job hash): into its queue's failed
    registry by id, and into the dead letters, so it neither blocks nor crashes a worker."""
    score = datetime.now(UTC).timestamp() + DEFAULT_FAILURE_TTL
    connection.zadd(f"rq:failed:{queue}", {job_id: score})
    fields = {"queue": queue, "func": "<unreadable>", "failed_at": _now(), "reason": one_line(reason)}
    _bury(connection, job_id, fields, ttl=DEFAULT_FAILURE_TTL)
    log.warning("job %s on %s unreadable, dead-lettered: %s", job_id, queue, fields["reason"])


def dead_ids(connection: Redis) -> list[str]:
    """The dead jobs' ids, oldest first."""
    return [raw.decode() if isinstance(raw, bytes) else str(raw) for raw in connection.lrange(DEAD_LETTERS, 0, -1)]


def _rq_reason(connection: Redis, job_id: str) -> tuple[str, str]:
    """(func, reason) from RQ's own records of a failed job."""
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
    except NoSuchJobError:
        return "<gone>", "failed (the job's data expired)"
    except Exception as exc:  # noqa: BLE001 - a corrupt hash is still a dead job
        return "<unreadable>", f"unreadable job: {exc}"
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or job.exc_info or ""
    return _func_name(job), one_line(text)


def reconcile(connection: Redis, queues: Iterable[str]) -> tuple[int, int]:
    """Make the dead letters match the failed registries of ``queues``; returns (added, dropped).

    Reads the list before each registry, and ``requeue`` takes a job out of the registry before
    the list, so a job being requeued meanwhile is never listed again.
    """
    added = dropped = 0
    listed = set(dead_ids(connection))
    for name in queues:
        registry = FailedJobRegistry(name, connection=connection, serializer=JSONSerializer)
        for job_id in registry.get_job_ids():  # after RQ's cleanup of expired entries
            if job_id in listed:
                continue
            func, reason = _rq_reason(connection, job_id)
            fields = {"queue": name, "func": func, "failed_at": _now(), "reason": reason}
            _bury(connection, job_id, fields, ttl=DEFAULT_FAILURE_TTL, keep_existing=True)
            listed.add(job_id)
            added += 1
            log.warning("job %s (%s on %s) dead-lettered by reconcile: %s", job_id, func, name, reason)
    entries = dead_ids(connection)
    drop = connection.register_script(_DROP_IF_STALE)
    with connection.pipeline(transaction=False) as pipe:  # one round trip, each check atomic
        for job_id in entries:
            drop(keys=[DEAD_LETTERS, info_key(job_id)], args=[job_id], client=pipe)
        outcomes = pipe.execute()
    for job_id, was_dropped in zip(entries, outcomes, strict=True):
        if was_dropped:
            dropped += 1
            log.info("dead letter %s dropped: no longer in its queue's failed registry", job_id)
    return added, dropped


@final
@dataclass(frozen=True, slots=True)
class DeadJob:
    """One dead letter as ``python -m jobs failed`` shows it."""

    id: str
    queue: str
    func: str
    failed_at: str
    reason: str
    args: Any = None
    traceback: str = ""
    retries_left: int | None = None


def _text(raw: dict[bytes, bytes], name: str) -> str:
    return raw.get(name.encode(), b"").decode(errors="replace")


def fetch(connection: Redis, job_ids: list[str], *, details: bool = False) -> list[DeadJob]:
    """The dead jobs ``job_ids`` (one round trip for the summaries; ``details`` adds each job's
    arguments and traceback from RQ)."""
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.hgetall(info_key(job_id))
        rows: list[dict[bytes, bytes]] = pipe.execute()
    out = []
    for job_id, raw in zip(job_ids, rows, strict=True):
        dead = DeadJob(
            id=job_id, queue=_text(raw, "queue") or "?", func=_text(raw, "func") or "?",
            failed_at=_text(raw, "failed_at") or "?", reason=_text(raw, "reason") or "?",
        )
        if details:
            dead = _with_details(connection, dead)
        out.append(dead)
    return out


def _with_details(connection: Redis, dead: DeadJob) -> DeadJob:
    try:
        job = Job.fetch(dead.id, connection=connection, serializer=JSONSerializer)
    except Exception as exc:  # noqa: BLE001 - show what can be shown
        return DeadJob(**{**_fields(dead), "traceback": f"(the job's data cannot be read: {exc!r})"})
    try:
        args: Any = {"args": list(job.args), "kwargs": job.kwargs}
    except Exception:  # noqa: BLE001
        args = "<the arguments do not deserialize>"
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or job.exc_info or ""
    return DeadJob(**{**_fields(dead), "args": args, "traceback": text, "retries_left": job.retries_left})


def _fields(dead: DeadJob) -> dict[str, Any]:
    return {name: getattr(dead, name) for name in DeadJob.__slots__}


class UnknownDeadJob(LookupError):
    """No dead job has this id."""


def _require_dead(connection: Redis, job_id: str) -> None:
    if connection.lpos(DEAD_LETTERS, job_id) is None:
        raise UnknownDeadJob(job_id)


def requeue(connection: Redis, job_id: str) -> tuple[str, int]:
    """Put a dead job back on its original queue with fresh retries (its kind's
    ``contracts.jobs`` spec); returns (queue, retries).

    Raises:
        UnknownDeadJob: ``job_id`` is not a dead job.
        ValueError: the job's data cannot be read (purge it instead).
    """
    _require_dead(connection, job_id)
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        func = job.func_name
    except Exception as exc:
        raise ValueError(f"job {job_id} cannot be requeued: its data cannot be read ({exc!r}); purge it") from exc
    spec = JOB_SPECS.get(func or "")
    retries = spec.max_retries if spec is not None else (len(job.retry_intervals) if job.retry_intervals else 0)
    job.retries_left = retries or None
    job.number_of_retries = None
    registry = FailedJobRegistry(job.origin, connection=connection, serializer=JSONSerializer)
    if job.id in registry:
        registry.requeue(job)  # out of the registry first, then onto the queue (saves the job)
    else:
        job.save()
        Queue(job.origin, connection=connection, serializer=JSONSerializer).enqueue_job(job)
    with connection.pipeline() as pipe:
        pipe.lrem(DEAD_LETTERS, 0, job_id)
        pipe.delete(info_key(job_id))
        pipe.execute()
    log.info("dead job %s requeued on %s with %d retries", job_id, job.origin, retries)
    return job.origin, retries


def purge(connection: Redis, job_id: str) -> None:
    """Delete a dead job: from its failed registry, the dead letters, and RQ's job data.

    Raises:
        UnknownDeadJob: ``job_id`` is not a dead job.
    """
    _require_dead(connection, job_id)
    raw_queue = connection.hget(info_key(job_id), "queue")
    queue = raw_queue.decode() if isinstance(raw_queue, bytes) else ""  # a client without decode_responses
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        queue = job.origin or queue
        job.delete()  # its registries, its results, its hash
    except NoSuchJobError:
        pass
    except Exception:  # noqa: BLE001 - a corrupt hash: delete what is there by name
        connection.delete(Job.key_for(job_id))
    with connection.pipeline() as pipe:
        if queue:
            pipe.zrem(f"rq:failed:{queue}", job_id)
        pipe.lrem(DEAD_LETTERS, 0, job_id)
        pipe.delete(info_key(job_id), f"rq:results:{job_id}")  # RQ's results stream (the traceback)
        pipe.execute()
    log.info("dead job %s purged", job_id)
