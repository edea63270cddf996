"""``python -m jobs.worker`` as a real subprocess: settings errors, strict priority, RQ's scheduler
(delayed jobs, retry intervals), warm shutdown on SIGTERM, and a SIGKILLed worker's job retried
or dead-lettered within the documented bound."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry, Worker
from rq.job import Job
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from jobs import deadletter
from jobs.worker_settings import WorkerSettings, abandoned_bound_seconds
from tests.conftest import SHARED_REDIS, PrivateRedis
from tests.jobs.workerproc import ROOT, kill_tree, run_burst, start_worker, wait_until, worker_env

__all__: list[str] = []

JOBS = "tests.jobs.worker_jobs."
# Short intervals for the tests (the defaults bound the delay at 100 s; these at 5 s).
FAST = {"WORKER_JOB_MONITORING_INTERVAL_SECONDS": "1", "WORKER_ABANDONED_GRACE_SECONDS": "2",
        "WORKER_MAINTENANCE_INTERVAL_SECONDS": "2"}


def job(r: redis.Redis, job_id: str) -> Job:
    return Job.fetch(job_id, connection=r, serializer=JSONSerializer)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_tree(proc)


@pytest.mark.parametrize(
    ("env", "message"),
    [({"RQ_QUEUES": "high,failed"}, "'failed' is the dead-letter queue"),
     ({"RQ_QUEUES": "hihg"}, "unknown queue 'hihg'; valid: high, default, low, broadcasts"),
     ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL='chatty'")],
)
def test_bad_settings_exit_2_with_one_message(env: dict[str, str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "jobs.worker", "--burst"], cwd=ROOT,
                          env=worker_env(SHARED_REDIS, **env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_redis_exits_1_without_showing_the_password() -> None:
    done = run_burst("redis://:hunter2@127.0.0.1:9/0")
    assert done.returncode == 1
    assert "jobs.worker: Redis at redis://***@127.0.0.1:9/0 does not answer" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_queues_are_taken_in_strict_priority_order(shared_redis: redis.Redis, tmp_path: Path) -> None:
    for name in ("broadcasts", "low", "default", "high"):
        Queue(name, connection=shared_redis, serializer=JSONSerializer).enqueue(
            JOBS + "touch", str(tmp_path / name), job_id=name)
    assert run_burst(SHARED_REDIS).returncode == 0
    ended = sorted(("broadcasts", "low", "default", "high"), key=lambda n: job(shared_redis, n).ended_at)
    assert ended == ["high", "default", "low", "broadcasts"]
    shared_redis.flushdb()
    Queue("high", connection=shared_redis, serializer=JSONSerializer).enqueue(JOBS + "touch", str(tmp_path / "h2"))
    assert run_burst(SHARED_REDIS, RQ_QUEUES="low").returncode == 0  # a worker takes only its queues
    assert shared_redis.llen("rq:queue:high") == 1


@pytest.mark.slow
def test_the_scheduler_fires_delayed_jobs_and_retry_intervals(shared_redis: redis.Redis, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    proc = start_worker(SHARED_REDIS, log, RQ_QUEUES="default", **FAST)
    try:
        q = Queue("default", connection=shared_redis, serializer=JSONSerializer)
        q.enqueue_in(timedelta(seconds=1), JOBS + "touch", str(tmp_path / "delayed"), job_id="delayed")
        q.enqueue(JOBS + "fail", "again", job_id="retry", retry=Retry(max=1, interval=[1]))
        wait_until(lambda: (tmp_path / "delayed").exists(), 20, "the delayed job", log)
        # the retry runs one second after the first failure, then the job is dead
        wait_until(lambda: shared_redis.llen("rq:queue:failed") == 1, 20, "the retried job's death", log)
        assert log.read_text().count("job retry: exception raised") == 2
        assert deadletter.dead_ids(shared_redis) == ["retry"]
    finally:
        stop(proc)


@pytest.mark.slow
def test_sigterm_finishes_the_current_job_then_exits(shared_redis: redis.Redis, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    proc = start_worker(SHARED_REDIS, log, RQ_QUEUES="default")
    try:
        q = Queue("default", connection=shared_redis, serializer=JSONSerializer)
        q.enqueue(JOBS + "sleep_then_touch", str(tmp_path / "long"), 2.0, job_id="long")
        q.enqueue(JOBS + "touch", str(tmp_path / "next"), job_id="next")
        wait_until(lambda: (tmp_path / "long.started").exists(), 20, "the long job to start", log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
        assert (tmp_path / "long").exists() and job(shared_redis, "long").get_status() == "finished"
        assert job(shared_redis, "next").get_status() == "queued" and not (tmp_path / "next").exists()
        assert Worker.count(connection=shared_redis) == 0  # it registered its death
        assert "warm shut down requested" in log.read_text()
    finally:
        stop(proc)


@pytest.mark.slow
def test_a_sigkilled_workers_job_is_retried_or_dead_lettered_within_the_bound(tmp_path: Path) -> None:
    """Worker and horse (and scheduler) SIGKILLed mid-job, as a container kill does; a new worker
    finds the job: retried while it has retries, dead-lettered when it has none."""
    server = PrivateRedis(tmp_path)
    server.start()
    r = redis.Redis.from_url(server.url)
    bound = abandoned_bound_seconds(WorkerSettings.from_env(FAST))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        q = Queue("default", connection=r, serializer=JSONSerializer)
        log = tmp_path / "worker.log"
        for job_id, retry in (("with-retries", Retry(max=1, interval=[60])), ("last-try", None)):
            q.enqueue(JOBS + "sleep_then_touch", str(tmp_path / job_id), 60, job_id=job_id, retry=retry,
                      job_timeout=120)
            procs.append(start_worker(server.url, log, RQ_QUEUES="default", **FAST))
            wait_until(lambda job_id=job_id: (tmp_path / f"{job_id}.started").exists(), 30, f"{job_id} to start", log)
            kill_tree(procs[-1])
            killed = time.monotonic()
            assert StartedJobRegistry("default", connection=r).get_job_ids(cleanup=False) == [job_id]
            procs.append(start_worker(server.url, log, RQ_QUEUES="default", **FAST))
            if retry is not None:
                wait_until(lambda: ScheduledJobRegistry("default", connection=r).get_job_ids() == ["with-retries"],
                           bound + 15, "the abandoned job's retry", log)
                assert job(r, "with-retries").retries_left == 0 and r.llen("rq:queue:failed") == 0
            else:
                wait_until(lambda: r.llen("rq:queue:failed") == 1, bound + 15, "the abandoned job's death", log)
                [dead] = deadletter.fetch(r, deadletter.dead_ids(r))
                assert dead.id == "last-try" and "AbandonedJobError" in dead.reason
            assert time.monotonic() - killed <= bound + 5  # + the new worker's start
            kill_tree(procs.pop())
    finally:
        for proc in procs:
            stop(proc)
        r.close()
        server.stop()


def test_a_warm_shutdown_between_pop_and_start_runs_the_job_first(shared_redis: redis.Redis) -> None:
    """RQ raises StopRequested wherever SIGTERM lands when the worker is not busy, dropping a job
    it popped but had not started (make run's stop lost a call record that way). Ours stops at
    once only while waiting in the pop; otherwise it defers and refuses the next pop."""
    from rq.exceptions import StopRequested

    from jobs.worker import ProQueue, build_worker

    worker = build_worker(WorkerSettings(), shared_redis)
    try:
        ProQueue.waiting = True  # blocked in BLPOP: nothing taken yet, stop now
        with pytest.raises(StopRequested):
            worker._shutdown()
        ProQueue.waiting = False  # a job in hand (or maintenance): defer
        worker._shutdown()
        assert worker._stop_requested and ProQueue.stop_requested
        Queue("high", connection=shared_redis, serializer=JSONSerializer).enqueue(JOBS + "touch", "/nonexistent/x")
        with pytest.raises(StopRequested):  # the deferred stop takes nothing more
            ProQueue.dequeue_any(worker.queues, None, connection=shared_redis)
        assert shared_redis.llen("rq:queue:high") == 1
    finally:
        ProQueue.waiting = ProQueue.stop_requested = False


def test_every_job_kinds_module_is_preloaded_or_reported() -> None:
    import importlib.util

    from contracts.jobs import JOB_SPECS
    from jobs.worker import preload_job_modules

    failed = preload_job_modules()
    modules = {spec.name.rpartition(".")[0] for spec in JOB_SPECS.values()}
    assert "jobs.calls" in modules and "jobs.calls" not in failed
    for module in modules - set(failed):
        assert module in sys.modules
    for module in failed:  # reported only when it really does not import
        assert module not in sys.modules or importlib.util.find_spec(module) is None
