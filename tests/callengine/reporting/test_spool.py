"""Call records spooled by an earlier run: drained into RQ when the reporter starts (real
Redis), and a file that is not a call record is set aside, never retried forever."""

from __future__ import annotations

import json

import trio
from rq import Queue
from rq.serializers import JSONSerializer

from callengine.admission import Admission
from callengine.reporting import spool
from callengine.reporting.redis_reporter import open_redis_reporter
from contracts import keys
from contracts.jobs import FINALIZE_CALL, finalize_job_id

SID = "CA" + "8" * 32
RECORD = {"call_sid": SID, "business_id": "b1", "end_reason": "stopped", "duration_seconds": 1.5}


async def wait_until(check, timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not check():
            await trio.sleep(0.05)


async def test_records_spooled_by_a_previous_run_are_enqueued_at_start_up(
    settings, shared_redis
):
    directory = settings.spool_dir
    path = spool.write(directory, RECORD)  # left by a run that ended while Redis was down
    assert path.exists() and FINALIZE_CALL.queue == keys.HIGH
    queue = Queue(keys.HIGH, connection=shared_redis, serializer=JSONSerializer)
    async with open_redis_reporter(settings, Admission(1), version="test"):
        await wait_until(lambda: not path.exists())
        assert queue.job_ids == [finalize_job_id(SID)]
        job = queue.fetch_job(finalize_job_id(SID))
        assert job is not None and job.func_name == FINALIZE_CALL.name
        assert job.args[0] == RECORD
    assert spool.pending(directory) == []


async def test_a_file_that_is_not_a_call_record_is_set_aside_not_retried(settings, shared_redis):
    directory = settings.spool_dir
    directory.mkdir(parents=True)
    bad = {
        "CAtruncated.json": b'{"call_sid": "CA',  # a write cut short by a crash
        "CAlist.json": b"[1, 2]",  # JSON, but not an object
        "CAnosid.json": json.dumps({"business_id": "b1"}).encode(),  # no call_sid
        "CAnumber.json": json.dumps({"call_sid": 7}).encode(),
    }
    for name, data in bad.items():
        (directory / name).write_bytes(data)
    good = spool.write(directory, RECORD)  # sorts after them: they must not block it
    queue = Queue(keys.HIGH, connection=shared_redis, serializer=JSONSerializer)
    async with open_redis_reporter(settings, Admission(1), version="test") as reporter:
        await wait_until(lambda: not good.exists())
        assert queue.job_ids == [finalize_job_id(SID)]
        assert spool.pending(directory) == []
        assert sorted(p.name for p in directory.iterdir()) == sorted(
            name.replace(".json", ".bad") for name in bad
        )
        for name, data in bad.items():  # set aside as they were, for an operator to look at
            assert (directory / name.replace(".json", ".bad")).read_bytes() == data
        # the reporter is still running: a later record goes straight to the queue
        other = {**RECORD, "call_sid": "CA" + "9" * 32}
        assert await reporter.finalize(other) == "enqueued"
        assert queue.job_ids == [finalize_job_id(SID), finalize_job_id(other["call_sid"])]
