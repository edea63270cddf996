"""The worker's settings (``python -m jobs.worker``, ``python -m jobs.health``, ``python -m jobs``):
the only place these commands read the environment.

``RQ_QUEUES`` is the worker's strict priority order: RQ takes the next job from the first
non-empty queue. ``failed`` is never accepted: it is the dead-letter queue, which no worker may
consume (docs/ARCHITECTURE.md §5). The three ``WORKER_*`` intervals bound how long a job whose
worker was killed mid-job waits before it is retried or dead-lettered (``abandoned_bound_seconds``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import final

from contracts.envvars import LOG_LEVELS, EnvReader, boolean, choice, int_range, redis_url
from contracts.jobs import JOB_SPECS
from contracts.keys import ALL_QUEUES, DEAD_LETTER

__all__ = [
    "DEAD_LETTER_QUEUE",
    "SettingsError",
    "WorkerSettings",
    "abandoned_bound_seconds",
    "longest_timeout",
    "parse_queues",
    "stop_grace_seconds",
]

DEAD_LETTER_QUEUE = DEAD_LETTER  # the Redis list rq:queue:failed (jobs/deadletter.py)
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# RQ's heartbeat slack over the monitoring interval is a hard-coded 60 s; ours is configurable so
# that a killed worker's job is noticed sooner. Keep it well above the monitoring interval: a job
# whose heartbeat is late by more than this is treated as abandoned (and run again).
DEFAULT_JOB_MONITORING_INTERVAL_SECONDS = 10  # RQ's default: 30
DEFAULT_ABANDONED_GRACE_SECONDS = 30  # RQ's (fixed): 60
DEFAULT_MAINTENANCE_INTERVAL_SECONDS = 60  # RQ's default: 600

# Margin of the compose stop grace period over the longest job timeout: RQ's own backstop kills a
# horse that overran its timeout by 60 s, and the worker needs a moment to record the outcome.
STOP_GRACE_MARGIN_SECONDS = 60


class SettingsError(ValueError):
    """One message listing every missing or invalid variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings:\n  - " + "\n  - ".join(problems))
        self.problems = problems


def parse_queues(raw: str) -> tuple[str, ...]:
    """``high,default`` → ``("high", "default")``, in the order given (the priority).

    Raises:
        ValueError: naming the valid queues, for an unknown, repeated or dead-letter name.
    """
    names = tuple(name.strip() for name in raw.split(","))
    valid = ", ".join(ALL_QUEUES)
    if any(not name for name in names):
        raise ValueError(f"expected a comma-separated list of queues from: {valid}")
    if DEAD_LETTER_QUEUE in names:
        raise ValueError(f"'{DEAD_LETTER_QUEUE}' is the dead-letter queue, which no worker consumes; valid: {valid}")
    unknown = [name for name in names if name not in ALL_QUEUES]
    if unknown:
        raise ValueError(f"unknown queue {', '.join(repr(n) for n in unknown)}; valid: {valid}")
    if len(set(names)) != len(names):
        raise ValueError(f"a queue is named twice; valid: {valid}")
    return names


@final
@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything ``python -m jobs.worker`` reads, parsed once.

    Attributes:
        queues: Queue names in priority order (``RQ_QUEUES``).
        redis_url: ``REDIS_URL``.
        log_level: ``LOG_LEVEL``.
        job_monitoring_interval_seconds: How often a busy worker heartbeats its job
            (``WORKER_JOB_MONITORING_INTERVAL_SECONDS``).
        abandoned_grace_seconds: How late a job's heartbeat may be before the job counts as
            abandoned (``WORKER_ABANDONED_GRACE_SECONDS``).
        maintenance_interval_seconds: How often each worker looks for abandoned jobs and
            reconciles the dead letters, busy or idle (``WORKER_MAINTENANCE_INTERVAL_SECONDS``).
        preload: Import every job kind's module before forking (``WORKER_PRELOAD``): each job
            starts without 0.3–0.9 s of imports, and each fork copies a larger process
            (measured by ``bench.worker_bench``).
    """

    queues: tuple[str, ...] = ALL_QUEUES
    redis_url: str = DEFAULT_REDIS_URL
    log_level: str = "INFO"
    job_monitoring_interval_seconds: int = DEFAULT_JOB_MONITORING_INTERVAL_SECONDS
    abandoned_grace_seconds: int = DEFAULT_ABANDONED_GRACE_SECONDS
    maintenance_interval_seconds: int = DEFAULT_MAINTENANCE_INTERVAL_SECONDS
    preload: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSettings:
        """Parse ``env``.

        Raises:
            SettingsError: listing every invalid variable.
        """
        reader = EnvReader(env)
        get = reader.get
        settings = cls(
            queues=get("RQ_QUEUES", parse_queues, ALL_QUEUES),
            redis_url=get("REDIS_URL", redis_url, DEFAULT_REDIS_URL),
            log_level=get("LOG_LEVEL", choice(LOG_LEVELS, upper=True), "INFO"),
            job_monitoring_interval_seconds=get(
                "WORKER_JOB_MONITORING_INTERVAL_SECONDS", int_range(1, 300), DEFAULT_JOB_MONITORING_INTERVAL_SECONDS
            ),
            abandoned_grace_seconds=get(
                "WORKER_ABANDONED_GRACE_SECONDS", int_range(1, 600), DEFAULT_ABANDONED_GRACE_SECONDS
            ),
            maintenance_interval_seconds=get(
                "WORKER_MAINTENANCE_INTERVAL_SECONDS", int_range(1, 3600), DEFAULT_MAINTENANCE_INTERVAL_SECONDS
            ),
            preload=get("WORKER_PRELOAD", boolean, True),
        )
        if settings.abandoned_grace_seconds < settings.job_monitoring_interval_seconds:
            reader.problems.append(
                "WORKER_ABANDONED_GRACE_SECONDS: must be at least WORKER_JOB_MONITORING_INTERVAL_SECONDS "
                f"({settings.job_monitoring_interval_seconds}), or running jobs look abandoned"
            )
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings

    @property
    def heartbeat_max_age_seconds(self) -> int:
        """How old a live worker's last heartbeat can be: idle, it heartbeats before each blocking
        dequeue (at most ``maintenance_interval_seconds`` long); busy, every monitoring interval.
        Plus slack for a maintenance pass and a slow Redis."""
        return max(self.maintenance_interval_seconds, self.job_monitoring_interval_seconds) + 30


def abandoned_bound_seconds(settings: WorkerSettings) -> int:
    """The longest a job whose worker was SIGKILLed mid-job waits, while any worker listening to
    its queue is alive, before it is retried (retries left) or dead-lettered.

    The dead worker's last heartbeat gave the job at most ``monitoring interval + grace`` seconds;
    the next maintenance pass of a live worker (every ``maintenance interval``, busy or idle) then
    finds it expired.
    """
    return (
        settings.job_monitoring_interval_seconds
        + settings.abandoned_grace_seconds
        + settings.maintenance_interval_seconds
    )


def longest_timeout() -> int:
    """The longest ``job_timeout`` of any job kind (``contracts.jobs.JOB_SPECS``), in seconds."""
    return max(spec.timeout_seconds for spec in JOB_SPECS.values())


def stop_grace_seconds() -> int:
    """The least stop grace period (compose ``stop_grace_period``) that lets a warm shutdown finish
    the longest job: its timeout plus ``STOP_GRACE_MARGIN_SECONDS``."""
    return longest_timeout() + STOP_GRACE_MARGIN_SECONDS
