from __future__ import annotations

from typing import Any

import pytest
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.db.models import Business, Call, Lead
from jobs.calls import RecordError, finalize_call, validate_call_record
from jobs.enqueue import enqueue_finalize_call
from tests.fakes.burst_worker import run_burst

RECORD: dict[str, Any] = {
    "call_sid": "CA1",
    "stream_sid": "MZ1",
    "business_id": "1",
    "direction": "inbound",
    "from": "+14445550001",
    "to": "+15550100000",
    "started_at": "2026-11-26T10:00:00.000+00:00",
    "ended_at": "2026-11-26T10:01:00.000+00:00",
    "duration_seconds": 60.0,
    "end_reason": "stopped",
    "dtmf": [{"digit": "1", "at_ms": 5120}],
    "transcript": [{"role": "caller", "text": "hello"}],
    "brain": "echo",
    "brain_summary": {"turns": 1},
    "recording_path": None,
    "metrics": {"frames_in": 3000},
}



@pytest.fixture
def session(job_db: str) -> Any:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as s:
        s.add(Business(name="Demo", phone_e164="+15550100000"))
        s.commit()
        yield s
    engine.dispose()


def rows(session: Session) -> tuple[list[Call], list[Lead]]:
    session.expire_all()
    return list(session.scalars(select(Call))), list(session.scalars(select(Lead)))


def test_finalize_call_stores_the_call_and_creates_its_lead(session: Session, caplog: Any) -> None:
    caplog.set_level("INFO")
    outcome = finalize_call(dict(RECORD))
    assert outcome["status"] == "stored" and "call_sid=CA1" in caplog.text
    [call], [lead] = rows(session)
    assert (lead.business_id, lead.phone_e164, lead.source) == (1, "+14445550001", "call")
    assert call.lead_id == lead.id == outcome["lead_id"]
    assert (call.status, call.end_reason, call.duration_seconds) == ("completed", "stopped", 60.0)
    assert call.transcript == RECORD["transcript"] and call.events["dtmf"] == [{"digit": "1", "at_ms": 5120}]
    assert call.started_at is not None and call.started_at.isoformat().startswith("2026-11-26T10:00:00")


def test_what_the_brain_captured_fills_the_lead_once(session: Session) -> None:
    captured = {"name": "David", "name_confirmed": True, "reason": "sales",
                "callback_number": "+15551230000", "email": 7, "message": "  call me\n back "}
    finalize_call({**RECORD, "brain_summary": {"lead": captured}})
    finalize_call({**RECORD, "brain_summary": {"lead": captured}})  # redelivery changes nothing
    [call], [lead] = rows(session)
    assert lead.name == "David" and lead.email == ""  # a non-string email is dropped
    assert call.summary == "David: sales; call back +15551230000; message: call me back"
    assert lead.notes.count("call CA1: David: sales") == 1


def test_the_lead_records_what_the_agent_understood_and_how_sure_it_was(session: Session) -> None:
    asked = {"name": "Dana", "reason": "appointment", "intent_source": "speech_confirmed", "intent_asked": True,
             "understood": "i would like to  book an appointment", "intent_confidence": 0.64,
             "callback_number": "+15551230000"}
    finalize_call({**RECORD, "brain_summary": {"lead": asked}})
    sure = {"reason": "billing", "intent_source": "speech", "understood": "a refund please", "intent_confidence": 0.9}
    finalize_call({**RECORD, "call_sid": "CA2", "brain_summary": {"lead": sure}})
    keyed = {"reason": "sales", "intent_source": "dtmf", "understood": "uh", "intent_confidence": 1.0}
    finalize_call({**RECORD, "call_sid": "CA3", "brain_summary": {"lead": keyed}})
    junk = {"reason": "support", "intent_confidence": True, "understood": ["not", "text"]}
    finalize_call({**RECORD, "call_sid": "CA4", "brain_summary": {"lead": junk}})
    calls, [lead] = rows(session)
    assert [c.summary for c in calls] == [
        'Dana: appointment (heard "i would like to book an appointment", 64 % sure, confirmed by the caller); '
        "call back +15551230000",
        'caller: billing (heard "a refund please", 90 % sure)',
        'caller: sales (heard "uh", by keypad)',
        "caller: support",  # a bool is no confidence, a list no sentence
    ]
    assert 'call CA1: Dana: appointment (heard "i would like to book an appointment", 64 % sure' in lead.notes


def test_a_name_a_person_typed_is_not_overwritten(session: Session) -> None:
    finalize_call({**RECORD, "brain_summary": {"lead": {"name": "Dave"}}})
    [_], [lead] = rows(session)
    lead.name = "David Smith"
    session.commit()
    finalize_call({**RECORD, "call_sid": "CA2", "brain_summary": {"lead": {"name": "Dave", "reason": "support"}}})
    [_, call2], [lead] = rows(session)
    assert lead.name == "David Smith" and call2.summary == "Dave: support"
    assert call2.lead_id == lead.id


def test_finalize_call_is_idempotent_by_call_sid(session: Session) -> None:
    assert finalize_call(dict(RECORD))["status"] == "stored"
    assert finalize_call({**RECORD, "end_reason": "changed"})["status"] == "already_stored"
    [call], [_lead] = rows(session)
    assert call.end_reason == "stopped"


def test_second_call_from_the_same_number_reuses_the_lead(session: Session) -> None:
    finalize_call(dict(RECORD))
    finalize_call({**RECORD, "call_sid": "CA2", "ended_at": "2026-11-26T11:00:00.000+00:00"})
    calls, [lead] = rows(session)
    assert {c.lead_id for c in calls} == {lead.id}
    assert lead.last_contact_at is not None and lead.last_contact_at.hour == 11


def test_finalize_keeps_the_row_the_webhook_created_and_its_final_status(session: Session) -> None:
    session.add(Call(call_sid="CA1", business_id=1, status="busy", from_number="+14445550001"))
    session.commit()
    finalize_call(dict(RECORD))
    [call], [lead] = rows(session)
    assert call.status == "busy" and call.finalized_at is not None and call.lead_id == lead.id


def test_a_test_call_record_makes_no_lead_and_keeps_the_rows_numbers(session: Session) -> None:
    session.add(Call(call_sid="CA1", business_id=1, from_number="+15550100000", to_number="+15550100000",
                     events={"test": True}))
    session.commit()
    # The browser sent a made-up "from": neither it nor the business number becomes a lead.
    outcome = finalize_call({**RECORD, "test": True, "brain_summary": {"lead": {"name": "Tester"}}})
    [call], leads = rows(session)
    assert leads == [] and outcome["lead_id"] is None and call.lead_id is None
    assert (call.from_number, call.to_number) == ("+15550100000", "+15550100000")
    assert call.events["test"] is True and call.status == "completed"


def test_a_row_the_api_marked_test_makes_no_lead_even_from_an_unmarked_record(session: Session) -> None:
    session.add(Call(call_sid="CA1", business_id=1, from_number="+15550100000", to_number="+15550100000",
                     events={"test": True}))
    session.commit()
    finalize_call({**RECORD, "version": 1})  # a calls service that predates test calls
    [call], leads = rows(session)
    assert leads == [] and call.lead_id is None and call.from_number == "+15550100000"
    assert call.events["test"] is True


def test_a_test_record_without_a_row_still_makes_no_lead(session: Session) -> None:
    finalize_call({**RECORD, "test": True})
    [call], leads = rows(session)
    assert leads == [] and call.events["test"] is True


def test_outbound_call_links_the_called_number(session: Session) -> None:
    finalize_call({**RECORD, "direction": "outbound", "from": "+15550100000", "to": "+14445550077"})
    _, [lead] = rows(session)
    assert lead.phone_e164 == "+14445550077"


@pytest.mark.parametrize("business_id", ["unknown", "999"])
def test_unknown_business_is_a_permanent_record_error(session: Session, business_id: str) -> None:
    with pytest.raises(RecordError, match="business"):
        finalize_call({**RECORD, "business_id": business_id})
    assert rows(session) == ([], [])


def test_a_call_of_another_business_is_refused(session: Session) -> None:
    session.add(Business(name="Other", phone_e164="+15550100001"))
    session.commit()
    session.add(Call(call_sid="CA1", business_id=2, status="ringing"))
    session.commit()
    with pytest.raises(RecordError, match="another business"):
        finalize_call(dict(RECORD))


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"call_sid": ""}, "call_sid is empty"),
        ({"duration_seconds": "60"}, "duration_seconds has type str"),
        ({"dtmf": None}, "dtmf has type NoneType"),
    ],
)
def test_invalid_records_name_the_problem(patch: dict[str, Any], problem: str) -> None:
    with pytest.raises(RecordError, match=problem):
        validate_call_record({**RECORD, **patch})


def test_missing_fields_are_all_listed() -> None:
    with pytest.raises(RecordError) as err:
        validate_call_record({"call_sid": "CA1"})
    assert "missing end_reason" in str(err.value) and "missing stream_sid" in str(err.value)


def test_enqueue_is_idempotent_per_call_and_runs_on_a_worker(shared_redis: Any, session: Session) -> None:
    job_id = enqueue_finalize_call(shared_redis, dict(RECORD))
    assert enqueue_finalize_call(shared_redis, dict(RECORD)) == job_id == "finalize-call-CA1"
    queue = Queue("high", connection=shared_redis, serializer=JSONSerializer)
    assert queue.count == 1
    job = queue.fetch_job(job_id)
    assert job is not None and job.timeout == 120 and job.retries_left == 5
    run_burst(queue)
    assert job.get_status(refresh=True) == "finished"
    [call], [_lead] = rows(session)
    assert call.call_sid == "CA1"
