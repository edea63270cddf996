"""The call record round-trips through the exact code that writes it (the call's actor, then
the calls service's enqueue by name onto RQ) and the exact code that reads it
(``jobs.calls.finalize_call`` on an RQ worker, storing through the API's data layer)."""

from __future__ import annotations

from typing import Any

import pytest
import trio
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from api.db.models import Call
from callengine.admission import Admission
from callengine.reporting.redis_reporter import open_redis_reporter
from callengine.settings import Settings
from contracts.call_record import RECORD_VERSION, CallRecord, RecordError, read_record
from contracts.jobs import FINALIZE_CALL, finalize_job_id
from jobs import db as jobs_db
from tests.api.conftest import make_tenant
from tests.conftest import start_engine
from tests.fakes.burst_worker import run_burst
from tests.fakes.twilio_ws import SILENCE_FRAME, open_call

__all__: list[str] = []

SID = "CA" + "6c" * 16
CALLER = "+14445550177"


async def play_a_call(settings: Settings, shared_redis: Any, business_id: int) -> None:
    """One short echo call through the engine with the real Redis reporter."""
    admission = Admission(settings.max_concurrent_calls)
    async with trio.open_nursery() as nursery, open_redis_reporter(settings, admission, version="test") as reporter:
        server = await start_engine(nursery, settings, reporter, admission)
        async with open_call(server.port, call_sid=SID) as call:
            await call.connected()
            await call.start({"business_id": str(business_id), "from": CALLER, "to": "+15550100001"})
            await call.dtmf("7")
            await call.frames(SILENCE_FRAME, 10)
            await call.stop()
        with trio.fail_after(10):
            while not shared_redis.llen(f"rq:queue:{FINALIZE_CALL.queue}"):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_record_the_engine_enqueues_is_the_record_finalize_call_stores(
    settings: Settings, shared_redis: Any, db: Any, db_url: str
) -> None:
    tenant = make_tenant(db, 1)
    await play_a_call(settings, shared_redis, tenant.business_id)

    queue = Queue(FINALIZE_CALL.queue, connection=shared_redis, serializer=JSONSerializer)
    job = queue.fetch_job(finalize_job_id(SID))
    assert job is not None and job.func_name == FINALIZE_CALL.name
    assert job.timeout == FINALIZE_CALL.timeout_seconds and job.retries_left == FINALIZE_CALL.max_retries
    [sent] = job.args
    record, problems = read_record(sent)
    assert problems == () and record.to_dict() == sent  # nothing lost or added on the way
    assert sent["version"] == RECORD_VERSION
    assert (record.call_sid, record.business_id, record.caller) == (SID, str(tenant.business_id), CALLER)
    assert [d.digit for d in record.dtmf] == ["7"] and record.end_reason == "stopped"

    jobs_db.configure(db_url)
    try:
        run_burst(queue)
    finally:
        jobs_db.reset()
    assert job.get_status(refresh=True) == "finished", job.exc_info
    db.expire_all()
    call = db.scalars(select(Call).where(Call.call_sid == SID)).one()
    assert call.business_id == tenant.business_id and call.from_number == CALLER
    assert call.events["dtmf"] == [{"digit": "7", "at_ms": record.dtmf[0].at_ms}]
    assert call.brain == "echo" and call.end_reason == "stopped"


RECORD: dict[str, Any] = {
    "call_sid": "CA1", "stream_sid": "MZ1", "business_id": "1", "direction": "inbound",
    "started_at": "2026-11-26T10:00:00.000+00:00", "ended_at": "2026-11-26T10:01:00.000+00:00",
    "duration_seconds": 60, "end_reason": "stopped", "dtmf": ["1"], "transcript": [],
}


def test_unknown_fields_are_ignored_and_older_bare_keys_read() -> None:
    record, problems = read_record({**RECORD, "sentiment": "happy"})
    assert problems == () and isinstance(record, CallRecord)
    assert record.dtmf[0].digit == "1" and record.duration_seconds == 60.0


def test_a_newer_record_is_refused_not_guessed_at() -> None:
    with pytest.raises(RecordError, match="newer than this worker"):
        read_record({**RECORD, "version": RECORD_VERSION + 1})


def test_optional_fields_of_the_wrong_type_become_defaults_and_are_reported() -> None:
    record, problems = read_record({**RECORD, "from": 5, "metrics": [], "close_code": "x", "direction": "up"})
    assert (record.caller, dict(record.metrics), record.close_code) == (None, {}, None)
    assert len(problems) == 4


def test_the_test_flag_round_trips_and_older_records_are_not_test_calls() -> None:
    record, problems = read_record({**RECORD, "version": RECORD_VERSION, "test": True})
    assert problems == () and record.test is True
    assert read_record(record.to_dict())[0] == record
    assert read_record(RECORD)[0].test is False  # version 1 knew no test calls
    assert read_record({**RECORD, "version": 1})[0].test is False
    doubtful, problems = read_record({**RECORD, "test": "no"})
    assert doubtful.test is True and len(problems) == 1  # never a lead from a doubtful call
    assert RECORD_VERSION == 2
