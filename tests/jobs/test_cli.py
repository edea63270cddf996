"""``python -m jobs failed list|show|requeue|purge`` as an operator types it, against the real Redis
and dead jobs a real worker produced."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from jobs.enqueue import enqueue_finalize_call
from tests.conftest import SHARED_REDIS
from tests.jobs.workerproc import ROOT, run_burst, worker_env

__all__: list[str] = []


def jobs_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobs", *args], cwd=ROOT, env=worker_env(SHARED_REDIS),
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def two_dead(shared_redis: redis.Redis) -> tuple[str, str]:
    """A malformed call record on ``high`` (5 retries in its spec) and a permanent failure on ``low``."""
    record_job = enqueue_finalize_call(shared_redis, {"call_sid": "CA-bad", "business_id": "1"})
    Queue("low", connection=shared_redis, serializer=JSONSerializer).enqueue(
        "tests.jobs.worker_jobs.fail_permanently", "gone", job_id="low-job")
    assert run_burst(SHARED_REDIS).returncode == 0
    assert shared_redis.llen("rq:queue:failed") == 2
    return record_job, "low-job"


def registry(r: redis.Redis, name: str) -> list[str]:
    return FailedJobRegistry(name, connection=r, serializer=JSONSerializer).get_job_ids()


def test_list_shows_one_line_per_dead_job(two_dead: tuple[str, str]) -> None:
    done = jobs_cli("failed", "list")
    assert done.returncode == 0, done.stderr
    first, second, total = done.stdout.splitlines()
    assert first.startswith(f"{two_dead[0]}  high  jobs.calls.finalize_call  20") and "RecordError: " in first
    assert second.startswith("low-job  low  tests.jobs.worker_jobs.fail_permanently  20")
    assert second.endswith("PermanentJobError: gone") and total == "2 dead job(s)"


def test_show_prints_arguments_reason_and_traceback(two_dead: tuple[str, str]) -> None:
    done = jobs_cli("failed", "show", two_dead[0])
    assert done.returncode == 0, done.stderr
    assert f"id:         {two_dead[0]}" in done.stdout and "queue:      high" in done.stdout
    assert '"call_sid": "CA-bad"' in done.stdout and "retries left: 0" in done.stdout
    assert "Traceback (most recent call last)" in done.stdout and "contracts.call_record.RecordError" in done.stdout


@pytest.mark.parametrize("action", [["show"], ["requeue"], ["purge"]])
def test_an_unknown_id_exits_1_with_a_message(shared_redis: redis.Redis, action: list[str]) -> None:
    done = jobs_cli("failed", *action, "no-such-job")
    assert done.returncode == 1
    assert "jobs: no dead job with id 'no-such-job' (python -m jobs failed list shows them)" in done.stderr


def test_requeue_puts_the_job_back_on_its_queue_with_fresh_retries(
    shared_redis: redis.Redis, two_dead: tuple[str, str]
) -> None:
    record_job, low_job = two_dead
    done = jobs_cli("failed", "requeue", record_job)
    assert done.returncode == 0 and done.stdout == f"requeued {record_job} on queue high (5 retries)\n"
    assert shared_redis.lrange("rq:queue:failed", 0, -1) == [low_job.encode()]
    assert shared_redis.lrange("rq:queue:high", 0, -1) == [record_job.encode()]
    assert registry(shared_redis, "high") == [] and not shared_redis.exists(f"rq:dead:{record_job}")
    job = Job.fetch(record_job, connection=shared_redis, serializer=JSONSerializer)
    assert job.get_status() == "queued" and job.retries_left == 5
    assert run_burst(SHARED_REDIS).returncode == 0  # still malformed: dead again, once
    assert shared_redis.llen("rq:queue:failed") == 2 and registry(shared_redis, "high") == [record_job]


def test_requeue_all(shared_redis: redis.Redis, two_dead: tuple[str, str]) -> None:
    done = jobs_cli("failed", "requeue", "--all")
    assert done.returncode == 0 and done.stdout.count("requeued ") == 2
    assert shared_redis.llen("rq:queue:failed") == 0
    assert shared_redis.llen("rq:queue:high") == 1 and shared_redis.llen("rq:queue:low") == 1
    assert jobs_cli("failed", "requeue", "--all").stdout == "no dead jobs\n"


def test_purge_one_then_all(shared_redis: redis.Redis, two_dead: tuple[str, str]) -> None:
    record_job, low_job = two_dead
    done = jobs_cli("failed", "purge", low_job)
    assert done.returncode == 0 and done.stdout == f"purged {low_job}\n"
    assert registry(shared_redis, "low") == [] and not shared_redis.exists(f"rq:job:{low_job}")
    assert not shared_redis.exists(f"rq:results:{low_job}") and shared_redis.llen("rq:queue:failed") == 1
    assert jobs_cli("failed", "purge", "--all").returncode == 0
    assert registry(shared_redis, "high") == [] and shared_redis.llen("rq:queue:failed") == 0
    assert jobs_cli("failed", "list").stdout == "no dead jobs\n"


@pytest.mark.parametrize("args", [["failed"], ["failed", "requeue"], ["failed", "purge", "x", "--all"], ["nope"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    done = jobs_cli(*args)
    assert done.returncode == 2 and "usage: python -m jobs" in done.stderr


def test_an_unreachable_redis_exits_1() -> None:
    done = subprocess.run([sys.executable, "-m", "jobs", "failed", "list"], cwd=ROOT,
                          env=worker_env("redis://127.0.0.1:9/0"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.startswith("jobs: Redis does not answer")
