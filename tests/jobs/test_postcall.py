"""Post-call processing (``jobs.postcall``) on SQLite and PostgreSQL, with real Redis and RQ:
finalize enqueues it once per call, the offline summary, OpenAI through a fake Chat Completions
server on 127.0.0.1 (success, 5xx and timeouts retried, 4xx and garbage fall back), the lead
update, idempotence, bad payloads, and the end-to-end path to a ``call_completed`` webhook."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import Business, Call, Lead, WebhookDelivery
from api.settings import Settings
from contracts.job_payloads import PayloadError
from contracts.jobs import PROCESS_CALL, PermanentJobError
from contracts.keys import DEFAULT, HIGH
from contracts.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from jobs.calls import finalize_call
from jobs.enqueue import enqueue, enqueue_finalize_call, process_job_id
from jobs.openai_summary import TransientFailure
from jobs.postcall import process_call
from tests.fakes.burst_worker import run_burst
from tests.fakes.http_server import Reply, ScriptedServer

SECRET = "receiver-shared-secret-1234"
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
    "dtmf": [],
    "transcript": [
        {"speaker": "agent", "text": "Thanks for calling Demo, how can I help?"},
        {"speaker": "caller", "text": "Hi. My invoice for November charged me twice for the same repair."},
        {"speaker": "agent", "text": "Sorry to hear that. May I have your name?"},
        {"speaker": "caller", "text": "Sarah Jones. Please call me back this afternoon."},
    ],
    "brain": "receptionist",
    "brain_summary": {"lead": {"name": "Sarah", "reason": "billing"}},
    "recording_path": None,
    "metrics": {},
}


def chat_answer(content: Any) -> dict[str, Any]:
    """The shape of a Chat Completions answer."""
    text = content if isinstance(content, str) else json.dumps(content)
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


GOOD = chat_answer({"summary": "Sarah Jones was charged twice for one repair and wants a call back.",
                    "intent": "Billing dispute", "name": "Sarah Jones"})


@pytest.fixture(autouse=True)
def no_openai(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_TIMEOUT_SECONDS", "APP_ENV", "WEBHOOK_ALLOW_PRIVATE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def session(job_db: str) -> Any:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as s:
        s.add(Business(name="Demo", phone_e164="+15550100000"))
        s.commit()
        yield s
    engine.dispose()


def use_openai(monkeypatch: pytest.MonkeyPatch, server: ScriptedServer, timeout: float = 2.0) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", str(timeout))


def stored(session: Session) -> tuple[Call, Lead]:
    session.expire_all()
    call = session.scalars(select(Call)).one()
    lead = session.scalars(select(Lead)).one()
    return call, lead


def test_offline_processing_summarizes_and_updates_the_lead(session: Session) -> None:
    finalize_call(dict(RECORD))
    outcome = process_call({"version": 1, "call_sid": "CA1"})
    assert outcome["status"] == "processed" and outcome["summary_source"] == "offline"
    call, lead = stored(session)
    assert call.summary_source == "offline" and call.processed_at is not None
    assert call.summary.startswith("Sarah called about billing.")
    assert "charged me twice" in call.summary and "Thanks for calling" not in call.summary  # caller's words only
    assert call.events["postcall"] == {"source": "offline", "intent": "billing", "fallback_reason": ""}
    assert (lead.summary, lead.intent, lead.name) == (call.summary, "billing", "Sarah")
    assert lead.last_contact_at is not None and lead.last_contact_at.isoformat().startswith("2026-11-26T10:01")


def test_processing_is_idempotent_unless_forced(session: Session) -> None:
    finalize_call(dict(RECORD))
    process_call({"version": 1, "call_sid": "CA1"})
    call, lead = stored(session)
    first = call.processed_at
    lead.summary = "edited"
    session.commit()
    assert process_call({"version": 1, "call_sid": "CA1"}) == {"call_sid": "CA1", "status": "already_processed"}
    assert stored(session)[1].summary == "edited"
    assert process_call({"version": 1, "call_sid": "CA1"}, force=True)["status"] == "processed"
    call, lead = stored(session)
    assert lead.summary == call.summary and call.processed_at is not None and first is not None
    assert call.processed_at >= first


def test_a_name_the_lead_has_is_kept(session: Session) -> None:
    finalize_call({**RECORD, "brain_summary": {}})
    _, lead = stored(session)
    lead.name = "Typed By Staff"
    session.commit()
    finalize_call({**RECORD, "call_sid": "CA2"})
    process_call({"version": 1, "call_sid": "CA2"})
    session.expire_all()
    assert session.scalars(select(Lead)).one().name == "Typed By Staff"


def test_openai_summary_is_used_when_a_key_is_set(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    finalize_call(dict(RECORD))
    with ScriptedServer(Reply(200, GOOD)) as server:
        use_openai(monkeypatch, server)
        outcome = process_call({"version": 1, "call_sid": "CA1"})
    assert outcome["summary_source"] == "openai"
    [request] = server.received
    assert request.path == "/v1/chat/completions" and request.headers["Authorization"] == "Bearer sk-test-key"
    sent = request.json()
    assert sent["model"] == "gpt-4o-mini" and sent["response_format"] == {"type": "json_object"}
    assert "Caller: Hi. My invoice" in sent["messages"][1]["content"]
    call, lead = stored(session)
    assert call.summary == "Sarah Jones was charged twice for one repair and wants a call back."
    assert (call.summary_source, lead.intent, lead.name) == ("openai", "billing_dispute", "Sarah")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(401, {"error": {"message": "Incorrect API key provided"}}), "HTTP 401: Incorrect API key"),
        (Reply(200, b"<html>not json</html>"), "not the JSON asked for"),
        (Reply(200, chat_answer("this is prose, not JSON")), "not the JSON asked for"),
        (Reply(200, chat_answer({"intent": "billing"})), "has no summary"),
    ],
)
def test_a_4xx_or_garbage_answer_falls_back_to_offline_and_says_why(
    session: Session, monkeypatch: pytest.MonkeyPatch, reply: Reply, reason: str
) -> None:
    finalize_call(dict(RECORD))
    with ScriptedServer(reply) as server:
        use_openai(monkeypatch, server)
        outcome = process_call({"version": 1, "call_sid": "CA1"})
    assert outcome["summary_source"] == "offline" and len(server.received) == 1
    call, _ = stored(session)
    assert call.summary_source == "offline" and reason in call.events["postcall"]["fallback_reason"]


@pytest.mark.parametrize("reply", [Reply(503, {"error": {"message": "overloaded"}}), Reply(429, b"slow down"),
                                   Reply(200, GOOD, delay_seconds=1.5)])
def test_5xx_429_and_timeouts_raise_for_a_retry(session: Session, monkeypatch: pytest.MonkeyPatch, reply: Reply) -> None:
    finalize_call(dict(RECORD))
    with ScriptedServer(reply) as server:
        use_openai(monkeypatch, server, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(TransientFailure):
            process_call({"version": 1, "call_sid": "CA1"})
        assert time.monotonic() - started < 1.4  # the timeout, not the server's delay
    call, _ = stored(session)
    assert call.processed_at is None  # nothing stored: the retry does the work


def test_rq_retries_a_5xx_then_stores_openais_summary(
    session: Session, monkeypatch: pytest.MonkeyPatch, shared_redis: Any
) -> None:
    finalize_call(dict(RECORD))
    queue = Queue(DEFAULT, connection=shared_redis, serializer=JSONSerializer)
    spec = dataclasses.replace(PROCESS_CALL, retry_intervals=(0, 0))  # retries at once, in this burst
    with ScriptedServer(Reply(500, b"boom"), Reply(200, GOOD)) as server:
        use_openai(monkeypatch, server)
        enqueue(shared_redis, spec, {"version": 1, "call_sid": "CA1"}, job_id="p1", description="test")
        run_burst(queue)
    assert len(server.received) == 2
    assert queue.fetch_job("p1").get_status(refresh=True) == "finished"  # type: ignore[union-attr]
    assert stored(session)[0].summary_source == "openai"


def test_the_last_attempt_falls_back_to_offline(session: Session, monkeypatch: pytest.MonkeyPatch, shared_redis: Any) -> None:
    finalize_call(dict(RECORD))
    queue = Queue(DEFAULT, connection=shared_redis, serializer=JSONSerializer)
    spec = dataclasses.replace(PROCESS_CALL, retry_intervals=(0,))
    with ScriptedServer(default=Reply(502, b"bad gateway")) as server:
        use_openai(monkeypatch, server)
        enqueue(shared_redis, spec, {"version": 1, "call_sid": "CA1"}, job_id="p1", description="test")
        run_burst(queue)
    assert len(server.received) == 2  # the first attempt and its one retry
    assert queue.fetch_job("p1").get_status(refresh=True) == "finished"  # type: ignore[union-attr]
    call, _ = stored(session)
    assert call.summary_source == "offline"
    assert call.events["postcall"]["fallback_reason"] == "OpenAI answered HTTP 502 (last attempt)"


@pytest.mark.parametrize(
    "payload",
    [None, [], {"call_sid": "CA1"}, {"version": 2, "call_sid": "CA1"}, {"version": 1}, {"version": 1, "call_sid": " "}],
)
def test_bad_payloads_are_permanent_errors(payload: Any) -> None:
    with pytest.raises(PayloadError):
        process_call(payload)


def test_an_unknown_call_is_a_permanent_error(session: Session) -> None:
    with pytest.raises(PermanentJobError, match="CA404 does not exist"):
        process_call({"version": 1, "call_sid": "CA404"})


def test_finalize_enqueues_processing_once_per_call(session: Session, shared_redis: Any) -> None:
    high = Queue(HIGH, connection=shared_redis, serializer=JSONSerializer)
    default = Queue(DEFAULT, connection=shared_redis, serializer=JSONSerializer)
    enqueue_finalize_call(shared_redis, dict(RECORD))
    run_burst(high)
    assert default.job_ids == [process_job_id("CA1")] == ["process-call-CA1"]
    job = default.fetch_job("process-call-CA1")
    assert job is not None and list(job.args) == [{"version": 1, "call_sid": "CA1"}] and job.retries_left == 3
    # the same record delivered again (another finalize job): stored already, no second job
    from contracts.jobs import FINALIZE_CALL

    enqueue(shared_redis, FINALIZE_CALL, dict(RECORD), job_id="finalize-again", description="redelivery")
    run_burst(high)
    assert default.job_ids == ["process-call-CA1"]
    run_burst(default)
    assert stored(session)[0].processed_at is not None


def test_finalize_then_process_then_call_completed_end_to_end(session: Session, shared_redis: Any) -> None:
    high = Queue(HIGH, connection=shared_redis, serializer=JSONSerializer)
    default = Queue(DEFAULT, connection=shared_redis, serializer=JSONSerializer)
    with ScriptedServer() as receiver:
        business = session.get(Business, 1)
        assert business is not None
        business.webhook_url = receiver.url + "/hooks"
        business.webhook_secret_encrypted = SecretBox.from_settings(Settings.from_env()).encrypt(SECRET)
        session.commit()
        enqueue_finalize_call(shared_redis, dict(RECORD))
        run_burst(high)  # finalize: stores the call, lead_created delivered
        run_burst(default)  # post-call processing: records call_completed
        run_burst(high)  # its delivery
    events = [r.headers["X-ProSaaS-Event"] for r in receiver.received]
    assert events == ["lead_created", "call_completed"]
    completed = receiver.received[1]
    assert verify(SECRET, completed.body, completed.headers[TIMESTAMP_HEADER], completed.headers[SIGNATURE_HEADER],
                  now=time.time())
    body = completed.json()
    call, lead = stored(session)
    assert body["data"]["call"]["summary"] == call.summary and call.summary.startswith("Sarah called about billing")
    assert body["data"]["call"]["summary_source"] == "offline"
    assert body["data"]["lead"]["id"] == lead.id and body["data"]["lead"]["intent"] == "billing"
    session.expire_all()
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.event, r.status, r.attempts, r.last_status_code) for r in rows] == [
        ("lead_created", "delivered", 1, 200), ("call_completed", "delivered", 1, 200),
    ]
    # processing again (forced) does not announce the call a second time
    process_call({"version": 1, "call_sid": "CA1"}, force=True)
    session.expire_all()
    assert len(session.scalars(select(WebhookDelivery)).all()) == 2


def test_finalize_records_lead_created_then_lead_updated(session: Session) -> None:
    business = session.get(Business, 1)
    assert business is not None
    business.webhook_url = "https://hooks.example.test/in"
    business.webhook_secret_encrypted = SecretBox.from_settings(Settings.from_env()).encrypt(SECRET)
    session.commit()
    finalize_call(dict(RECORD))  # a new number: the call makes the lead
    finalize_call({**RECORD, "call_sid": "CA2"})  # the same number again: the lead is touched
    finalize_call({**RECORD, "call_sid": "CA2"})  # a redelivered record: nothing new
    session.expire_all()
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.event, r.payload["data"]["call_sid"]) for r in rows] == [("lead_created", "CA1"), ("lead_updated", "CA2")]
    lead = session.scalars(select(Lead)).one()
    assert {r.payload["data"]["lead"]["id"] for r in rows} == {lead.id}
    assert rows[0].payload["data"]["lead"]["phone_e164"] == "+14445550001"
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
