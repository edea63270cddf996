from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from rq.serializers import JSONSerializer

from jobs.calls import RecordError, finalize_call, validate_call_record
from jobs.enqueue import enqueue_finalize_call

RECORD = {
    "call_sid": "CA1",
    "stream_sid": "MZ1",
    "business_id": "b1",
    "direction": "inbound",
    "started_at": "2026-11-26T10:00:00.000+00:00",
    "ended_at": "2026-11-26T10:01:00.000+00:00",
    "duration_seconds": 60.0,
    "end_reason": "stopped",
    "dtmf": [],
    "transcript": [],
}


def test_finalize_call_accepts_a_complete_record(caplog):
    caplog.set_level("INFO")
    assert finalize_call(dict(RECORD)) == {"call_sid": "CA1", "status": "logged"}
    assert "call_sid=CA1" in caplog.text


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"call_sid": ""}, "call_sid is empty"),
        ({"duration_seconds": "60"}, "duration_seconds has type str"),
        ({"dtmf": None}, "dtmf has type NoneType"),
    ],
)
def test_invalid_records_name_the_problem(patch, problem):
    with pytest.raises(RecordError, match=problem):
        validate_call_record({**RECORD, **patch})


def test_missing_fields_are_all_listed():
    with pytest.raises(RecordError) as err:
        validate_call_record({"call_sid": "CA1"})
    assert "missing end_reason" in str(err.value) and "missing stream_sid" in str(err.value)


def test_enqueue_is_idempotent_per_call_and_runs_on_a_worker(shared_redis):
    job_id = enqueue_finalize_call(shared_redis, dict(RECORD))
    assert enqueue_finalize_call(shared_redis, dict(RECORD)) == job_id == "finalize-call-CA1"
    queue = Queue("high", connection=shared_redis, serializer=JSONSerializer)
    assert queue.count == 1
    job = queue.fetch_job(job_id)
    assert job.timeout == 120 and job.retries_left == 5
    SimpleWorker([queue], connection=shared_redis, serializer=JSONSerializer).work(burst=True)
    assert job.get_status(refresh=True) == "finished"
