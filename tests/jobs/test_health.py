"""``python -m jobs.health`` for a compose healthcheck: 0 only with Redis up and a heartbeating
worker of this host; 1 with one line saying why otherwise."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from rq import Worker

from jobs.health import check
from jobs.worker_settings import WorkerSettings
from tests.conftest import SHARED_REDIS
from tests.jobs.workerproc import ROOT, kill_tree, start_worker, wait_until, worker_env

__all__: list[str] = []


def health(url: str = SHARED_REDIS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobs.health"], cwd=ROOT, env=worker_env(url),
                          capture_output=True, text=True, timeout=60)


def test_healthy_while_a_worker_of_this_host_runs_then_not(shared_redis: redis.Redis, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    proc = start_worker(SHARED_REDIS, log)
    try:
        wait_until(lambda: Worker.count(connection=shared_redis) == 1, 20, "the worker to register", log)
        done = health()
        assert done.returncode == 0, done.stdout
        assert done.stdout.startswith(f"healthy: 1 worker(s) of host {socket.gethostname()}")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    done = health()
    assert done.returncode == 1
    assert done.stdout == f"unhealthy: no worker of host {socket.gethostname()} is registered\n"


def test_a_worker_of_another_host_does_not_count(shared_redis: redis.Redis) -> None:
    other = Worker(["default"], connection=shared_redis, name="elsewhere")
    other.hostname = "another-container"
    other.register_birth()
    done = health()
    assert done.returncode == 1 and "no worker of host" in done.stdout


def test_a_stale_heartbeat_is_unhealthy(shared_redis: redis.Redis) -> None:
    here = Worker(["default"], connection=shared_redis, name="here")
    here.register_birth()  # heartbeats now
    settings = WorkerSettings()
    assert check(shared_redis, settings, here.hostname or "")[0]
    later = datetime.now(UTC) + timedelta(seconds=settings.heartbeat_max_age_seconds + 5)
    healthy, why = check(shared_redis, settings, here.hostname or "", at=later)
    assert not healthy and why.startswith(f"unhealthy: the worker of host {here.hostname} last heartbeated")


def test_redis_down_is_unhealthy() -> None:
    done = health("redis://127.0.0.1:9/0")
    assert done.returncode == 1 and done.stdout.startswith("unhealthy: Redis does not answer PING")


def test_bad_settings_are_unhealthy_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "jobs.health"], cwd=ROOT,
                          env=worker_env(SHARED_REDIS, RQ_QUEUES="failed"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and len(done.stdout.splitlines()) == 1 and "RQ_QUEUES" in done.stdout
