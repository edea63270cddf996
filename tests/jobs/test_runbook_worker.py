"""The runbook's worker steps, against real Redis and real ``python -m jobs.worker`` processes:
``LLEN rq:queue:default`` drains, ``LLEN rq:queue:failed`` counts dead jobs, a restart loses
nothing queued, and three replicas (``--scale worker=3``) share the work, each job run once."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from tests.conftest import SHARED_REDIS
from tests.jobs.workerproc import kill_tree, start_worker, wait_until

__all__: list[str] = []

JOBS = "tests.jobs.worker_jobs."


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # what `docker compose restart worker` sends
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_tree(proc)


@pytest.mark.slow
def test_three_replicas_share_the_queue_and_the_failed_queue_counts_dead_jobs(
    shared_redis: redis.Redis, tmp_path: Path
) -> None:
    default = Queue("default", connection=shared_redis, serializer=JSONSerializer)
    jobs = [default.enqueue(JOBS + "sleep_then_touch", str(tmp_path / f"job-{n}"), 0.05) for n in range(60)]
    assert shared_redis.llen("rq:queue:default") == 60
    workers = [start_worker(SHARED_REDIS, tmp_path / f"worker-{n}.log") for n in range(3)]
    try:
        wait_until(lambda: shared_redis.llen("rq:queue:default") == 0
                   and all((tmp_path / f"job-{n}").exists() for n in range(60)),
                   60, "three workers to run 60 jobs", tmp_path / "worker-0.log")
        ran_by = {default.fetch_job(job.id).worker_name for job in jobs}  # type: ignore[union-attr]
        assert len(ran_by) >= 2, f"one worker did everything: {ran_by}"
        assert all(default.fetch_job(job.id).get_status() == "finished" for job in jobs)  # type: ignore[union-attr]

        assert shared_redis.llen("rq:queue:failed") == 0
        default.enqueue(JOBS + "fail_permanently", "the business is gone")
        wait_until(lambda: shared_redis.llen("rq:queue:failed") == 1, 30, "a dead letter")
        assert shared_redis.llen("rq:queue:default") == 0

        # restart: every replica stops (warm), jobs queued meanwhile wait, a new one runs them
        for proc in workers:
            _stop(proc)
        queued = [default.enqueue(JOBS + "touch", str(tmp_path / f"late-{n}")) for n in range(5)]
        assert shared_redis.llen("rq:queue:default") == len(queued)
        workers.append(start_worker(SHARED_REDIS, tmp_path / "restarted.log"))
        wait_until(lambda: shared_redis.llen("rq:queue:default") == 0
                   and all((tmp_path / f"late-{n}").exists() for n in range(5)),
                   30, "the restarted worker to run what waited", tmp_path / "restarted.log")
        assert shared_redis.llen("rq:queue:failed") == 1
    finally:
        for proc in workers:
            _stop(proc)
