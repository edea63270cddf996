"""``python -m jobs.health``: exit 0 when Redis answers and a worker of *this* host is alive.

For a compose healthcheck: Redis must answer ``PING``, and a worker registered in RQ's
``rq:workers`` with this host's name (a container's hostname is its own) must have heartbeated
within ``WorkerSettings.heartbeat_max_age_seconds`` (an idle worker heartbeats before each
blocking dequeue, a busy one every monitoring interval). Otherwise exit 1 with one line saying
why.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.serializers import JSONSerializer

from jobs.worker_settings import SettingsError, WorkerSettings

__all__ = ["check", "main"]


def check(connection: Redis, settings: WorkerSettings, hostname: str, at: datetime | None = None) -> tuple[bool, str]:
    """(healthy, one line why) for the workers of ``hostname``."""
    try:
        connection.ping()
    except RedisError as exc:
        return False, f"unhealthy: Redis does not answer PING ({exc})"
    try:
        workers = [w for w in Worker.all(connection=connection, serializer=JSONSerializer) if w.hostname == hostname]
    except RedisError as exc:
        return False, f"unhealthy: cannot read the workers from Redis ({exc})"
    if not workers:
        return False, f"unhealthy: no worker of host {hostname} is registered"
    now = at or datetime.now(UTC)
    limit = settings.heartbeat_max_age_seconds
    ages = sorted(
        (now - w.last_heartbeat).total_seconds() if w.last_heartbeat else float("inf") for w in workers
    )
    if ages[0] > limit:
        return False, f"unhealthy: the worker of host {hostname} last heartbeated {ages[0]:.0f} s ago (limit {limit} s)"
    fresh = sum(age <= limit for age in ages)
    return True, f"healthy: {fresh} worker(s) of host {hostname}, last heartbeat {ages[0]:.0f} s ago"


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m jobs.health",
        description=__doc__.split("\n\n")[0].replace("``", ""),
        epilog="Environment variables: REDIS_URL, WORKER_MAINTENANCE_INTERVAL_SECONDS and "
        "WORKER_JOB_MONITORING_INTERVAL_SECONDS (they set the heartbeat age limit), as for the worker.",
    ).parse_args(argv)
    try:
        settings = WorkerSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"unhealthy: {exc}".replace("\n", " "))
        return 1
    connection = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        healthy, why = check(connection, settings, socket.gethostname())
    finally:
        connection.close()
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
