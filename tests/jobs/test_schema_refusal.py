"""The worker and the scheduler refuse to start on a database behind the migrations (the
runbook's failed-migration scenario), naming the revision and the command that fixes it; once
``python -m api.migrate`` has run, they start."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_REDIS
from tests.jobs.workerproc import ROOT, run_burst, worker_env

pytestmark = pytest.mark.usefixtures("shared_redis")  # a clean queue and leader lock, flushed after


def _migrate(url: str) -> None:
    done = subprocess.run([sys.executable, "-m", "api.migrate"], cwd=ROOT, env=worker_env(SHARED_REDIS, DATABASE_URL=url),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _scheduler(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, text=True,
                            env=worker_env(SHARED_REDIS, DATABASE_URL=url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def test_the_worker_refuses_an_unmigrated_database_then_starts_once_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = run_burst(SHARED_REDIS, DATABASE_URL=url)
    assert refused.returncode == 1
    assert "jobs.worker: database at nothing, head is" in refused.stderr
    assert "run python -m api.migrate" in refused.stderr
    _migrate(url)
    assert run_burst(SHARED_REDIS, DATABASE_URL=url).returncode == 0


def test_a_worker_without_a_database_setting_is_not_checked() -> None:
    assert run_burst(SHARED_REDIS, DATABASE_URL="").returncode == 0


def test_the_scheduler_refuses_an_unmigrated_database_then_starts_once_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    refused = _scheduler(url)
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 1
    assert "jobs.scheduler: database at nothing, head is" in err and "run python -m api.migrate" in err
    _migrate(url)
    started = _scheduler(url)
    try:
        time.sleep(3)
        assert started.poll() is None, started.communicate()[1]
    finally:
        started.terminate()  # SIGTERM: the scheduler's own stop
        started.communicate(timeout=30)
