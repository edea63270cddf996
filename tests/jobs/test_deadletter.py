"""Dead letters through a real ``python -m jobs.worker --burst`` and the real Redis: what fails for
good lands in ``rq:queue:failed`` with its reason, once, and RQ's failed registry agrees."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer

from contracts.jobs import JobSpec
from jobs import deadletter
from jobs.enqueue import enqueue, enqueue_finalize_call
from tests.conftest import SHARED_REDIS
from tests.fakes.burst_worker import run_burst as run_plain_rq_burst
from tests.jobs.workerproc import run_burst

__all__: list[str] = []

JOBS = "tests.jobs.worker_jobs."


def queue(r: redis.Redis, name: str = "default") -> Queue:
    return Queue(name, connection=r, serializer=JSONSerializer)


def burst(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = run_burst(SHARED_REDIS, *args, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout.split("\n")[-5:], done.stdout  # the loop never died
    return done


def dead(r: redis.Redis) -> dict[str, dict[str, str]]:
    return {job.id: {"queue": job.queue, "func": job.func, "reason": job.reason}
            for job in deadletter.fetch(r, deadletter.dead_ids(r))}


def failed_ids(r: redis.Redis, name: str = "default") -> list[str]:
    return FailedJobRegistry(name, connection=r, serializer=JSONSerializer).get_job_ids()


def test_a_permanent_error_is_dead_lettered_at_once_with_its_retries_unspent(shared_redis: redis.Redis) -> None:
    queue(shared_redis).enqueue(JOBS + "fail_permanently", "the row is gone", job_id="perm",
                                retry=Retry(max=3, interval=[60]))
    burst()
    job = Job.fetch("perm", connection=shared_redis, serializer=JSONSerializer)
    assert job.get_status() == "failed" and job.retries_left == 0
    assert ScheduledJobRegistry("default", connection=shared_redis).get_job_ids() == []
    assert shared_redis.llen("rq:queue:failed") == 1
    assert dead(shared_redis) == {"perm": {"queue": "default", "func": JOBS + "fail_permanently",
                                           "reason": "PermanentJobError: the row is gone"}}
    assert failed_ids(shared_redis) == ["perm"]


def test_a_payload_that_does_not_parse_is_dead_lettered_with_the_reason(shared_redis: redis.Redis) -> None:
    queue(shared_redis).enqueue(JOBS + "read_payload", {"version": 9, "call_sid": "CA1"}, job_id="p9",
                                retry=Retry(max=3, interval=[60]))
    burst()
    assert dead(shared_redis)["p9"]["reason"] == (
        "PayloadError: process_call payload: version 9 is newer than this worker reads (1)")


def test_a_malformed_call_record_is_dead_lettered_not_retried(shared_redis: redis.Redis) -> None:
    """finalize_call's RecordError (a PermanentJobError) through the real enqueue door, 5 retries."""
    job_id = enqueue_finalize_call(shared_redis, {"call_sid": "CA9"})
    burst()
    [(found, info)] = dead(shared_redis).items()
    assert found == job_id and info["queue"] == "high" and info["func"] == "jobs.calls.finalize_call"
    assert info["reason"].startswith("RecordError: ") and "missing end_reason" in info["reason"]
    assert Job.fetch(job_id, connection=shared_redis, serializer=JSONSerializer).retries_left == 0


def test_a_job_that_exhausts_its_retries_is_dead_lettered_once(shared_redis: redis.Redis) -> None:
    queue(shared_redis).enqueue(JOBS + "fail", "boom", job_id="flaky", retry=Retry(max=2))  # immediate retries
    done = burst()
    assert dead(shared_redis)["flaky"]["reason"] == "RuntimeError: boom (no retries left)"
    assert shared_redis.llen("rq:queue:failed") == 1 and failed_ids(shared_redis) == ["flaky"]
    assert (done.stdout + done.stderr).count("job flaky: exception raised") == 3  # the first run and 2 retries


def test_a_job_kind_without_retries_is_dead_lettered_after_one_run(shared_redis: redis.Redis) -> None:
    """The email sync's spec has no RQ retries: enqueue passes no Retry, the first failure is final."""
    spec = JobSpec(name=JOBS + "fail", queue="low", timeout_seconds=30, retry_intervals=())
    enqueue(shared_redis, spec, "imap down", job_id="once", description="no retries")
    burst()
    assert dead(shared_redis)["once"] == {"queue": "low", "func": JOBS + "fail",
                                          "reason": "RuntimeError: imap down (no retries left)"}


def test_a_failure_with_retries_left_is_scheduled_not_dead(shared_redis: redis.Redis) -> None:
    queue(shared_redis).enqueue(JOBS + "fail", "blip", job_id="later", retry=Retry(max=2, interval=[60]))
    burst()
    assert shared_redis.llen("rq:queue:failed") == 0
    assert ScheduledJobRegistry("default", connection=shared_redis).get_job_ids() == ["later"]


def test_unimportable_functions_and_undecodable_data_never_stop_the_worker(
    shared_redis: redis.Redis, tmp_path: Path
) -> None:
    q = queue(shared_redis)
    q.enqueue("tests.jobs.no_such_module.run", job_id="nomodule", retry=Retry(max=2))
    q.enqueue(JOBS + "no_such_function", job_id="nofunc", retry=Retry(max=2))
    q.enqueue(JOBS + "touch", "x", job_id="baddata", retry=Retry(max=2))
    shared_redis.hset("rq:job:baddata", "data", b"\x80 not JSON")  # e.g. enqueued with pickle
    q.enqueue(JOBS + "touch", "x", job_id="badhash")
    shared_redis.hset("rq:job:badhash", "status", "no-such-status")  # RQ cannot even load it
    q.enqueue(JOBS + "touch", str(tmp_path / "after"), job_id="after")
    burst()
    assert (tmp_path / "after").exists()  # the worker went on to the next job
    reasons = {job_id: info["reason"] for job_id, info in dead(shared_redis).items()}
    assert set(reasons) == {"nomodule", "nofunc", "baddata", "badhash"}
    assert reasons["nomodule"].startswith("JobFunctionError: cannot import the job function 'tests.jobs.no_such_module.run'")
    assert "no_such_function" in reasons["nofunc"]
    assert reasons["baddata"].startswith("DeserializationError: the job's data does not deserialize")
    assert "no-such-status" in reasons["badhash"]
    assert sorted(failed_ids(shared_redis)) == ["baddata", "badhash", "nofunc", "nomodule"]
    assert shared_redis.llen("rq:queue:default") == 0


def test_jobs_a_plain_rq_worker_failed_are_listed_by_the_next_maintenance_pass(shared_redis: redis.Redis) -> None:
    """A failure no hook of ours saw (RQ's own worker here; abandoned jobs alike) is reconciled."""
    queue(shared_redis, "low").enqueue(JOBS + "fail", "plain", job_id="plain")
    run_plain_rq_burst(queue(shared_redis, "low"))  # RQ's own SimpleWorker, none of our hooks
    assert failed_ids(shared_redis, "low") == ["plain"] and shared_redis.llen("rq:queue:failed") == 0
    burst()  # maintenance runs when a worker starts
    assert dead(shared_redis)["plain"] == {"queue": "low", "func": JOBS + "fail", "reason": "RuntimeError: plain"}


def test_reconcile_keeps_the_worker_reason_and_drops_jobs_requeued_behind_its_back(shared_redis: redis.Redis) -> None:
    queue(shared_redis).enqueue(JOBS + "fail_permanently", "first reason", job_id="a")
    queue(shared_redis).enqueue(JOBS + "fail_permanently", "second", job_id="b")
    burst()
    assert deadletter.reconcile(shared_redis, ["default"]) == (0, 0)
    assert dead(shared_redis)["a"]["reason"] == "PermanentJobError: first reason"
    FailedJobRegistry("default", connection=shared_redis, serializer=JSONSerializer).requeue("b")  # as `rq requeue`
    shared_redis.rpush("rq:queue:failed", "ghost")  # an id with no job and no registry entry
    assert deadletter.reconcile(shared_redis, ["default"]) == (0, 2)
    assert deadletter.dead_ids(shared_redis) == ["a"] and not shared_redis.exists("rq:dead:b")
    shared_redis.delete("rq:queue:failed")  # lost list (say, a crash between RQ's pipeline and ours)
    assert deadletter.reconcile(shared_redis, ["default"]) == (1, 0)
    assert dead(shared_redis)["a"]["reason"] == "PermanentJobError: first reason"  # its hash survived


def test_bury_is_idempotent(shared_redis: redis.Redis) -> None:
    job = queue(shared_redis).enqueue(JOBS + "touch", "x", job_id="twice")
    deadletter.bury(shared_redis, job, "first")
    deadletter.bury(shared_redis, job, "second")
    deadletter.bury(shared_redis, job, "third", keep_existing=True)
    assert shared_redis.lrange("rq:queue:failed", 0, -1) == [b"twice"]
    assert dead(shared_redis)["twice"]["reason"] == "second"
    assert 0 < shared_redis.ttl("rq:dead:twice") <= 366 * 24 * 3600


@pytest.mark.parametrize(
    ("text", "line"),
    [("Traceback…\n  File x\nValueError: bad\n\n", "ValueError: bad"), ("", "failed (no reason recorded)"),
     ("x" * 600, "x" * 499 + "…")],
)
def test_one_line_reason(text: str, line: str) -> None:
    assert deadletter.one_line(text) == line
