"""Outbound business webhooks (``jobs.webhooks.deliver``) against a real receiver on 127.0.0.1,
on SQLite and PostgreSQL, with real Redis and RQ: delivered, a 500 then a 200 (retried), timeouts
and refused connections (retried, failed after the last try), a 410 (failed, never retried),
redirects not followed, private addresses refused, secrets missing or unreadable, bad payloads,
and the sweep that re-enqueues unsent deliveries."""

from __future__ import annotations

import dataclasses
import socket
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import Business, WebhookDelivery, utcnow
from api.services import webhooks
from api.settings import Settings
from contracts.job_payloads import PayloadError
from contracts.jobs import DELIVER_WEBHOOK, JobSpec, PermanentJobError
from contracts.keys import HIGH, LOW
from contracts.webhook_signature import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from jobs.enqueue import enqueue
from jobs.webhooks import DeliveryFailed, body_bytes, deliver
from tests.fakes.burst_worker import run_burst
from tests.fakes.http_server import Reply, ScriptedServer

SECRET = "receiver-shared-secret-1234"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "WEBHOOK_ALLOW_PRIVATE", "DATA_ENCRYPTION_KEY", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.5")


@pytest.fixture
def session(job_db: str) -> Any:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as s:
        s.add(Business(name="Demo", phone_e164="+15550100000"))
        s.commit()
        yield s
    engine.dispose()


def new_delivery(session: Session, url: str, *, secret: str | None = SECRET) -> int:
    business = session.get(Business, 1)
    assert business is not None
    business.webhook_url = url
    business.webhook_secret_encrypted = (
        SecretBox.from_settings(Settings.from_env()).encrypt(secret) if secret is not None else ""
    )
    delivery_id = webhooks.record_event(session, 1, webhooks.LEAD_CREATED, {"lead": {"id": 7, "name": "Zoë"}})
    session.commit()
    assert delivery_id is not None
    return delivery_id


def row(session: Session, delivery_id: int) -> WebhookDelivery:
    session.expire_all()
    found = session.get(WebhookDelivery, delivery_id)
    assert found is not None
    return found


def via_rq(redis: Any, delivery_id: int, retries: tuple[int, ...]) -> Any:
    """Run the delivery on a burst worker with ``retries`` (0 s: retried within the burst)."""
    spec = dataclasses.replace(DELIVER_WEBHOOK, retry_intervals=retries)
    enqueue(redis, spec, {"version": 1, "delivery_id": delivery_id}, job_id="d1", description="test")
    queue = Queue(HIGH, connection=redis, serializer=JSONSerializer)
    run_burst(queue)
    return queue.fetch_job("d1")


def test_a_2xx_is_delivered_signed_and_counted(session: Session) -> None:
    with ScriptedServer(Reply(204, b"")) as receiver:
        delivery_id = new_delivery(session, receiver.url + "/in?tenant=1")
        assert deliver({"version": 1, "delivery_id": delivery_id})["status"] == "delivered"
    [got] = receiver.received
    saved = row(session, delivery_id)
    assert got.path == "/in?tenant=1" and got.body == body_bytes(saved.payload)
    assert got.headers[EVENT_HEADER] == "lead_created" and got.headers[DELIVERY_HEADER] == saved.event_id
    assert got.headers["Content-Type"] == "application/json"
    assert abs(int(got.headers[TIMESTAMP_HEADER]) - time.time()) < 30
    assert verify(SECRET, got.body, got.headers[TIMESTAMP_HEADER], got.headers[SIGNATURE_HEADER], now=time.time())
    assert got.json()["data"] == {"lead": {"id": 7, "name": "Zoë"}} and got.json()["event"] == "lead_created"
    assert (saved.status, saved.attempts, saved.last_status_code, saved.last_error) == ("delivered", 1, 204, "")
    assert saved.delivered_at is not None
    # a second job for the same row sends nothing
    assert deliver({"version": 1, "delivery_id": delivery_id})["status"] == "not_pending"
    assert len(receiver.received) == 1


def test_a_500_then_a_200_is_retried_and_delivered(session: Session, shared_redis: Any) -> None:
    with ScriptedServer(Reply(500, b"oops"), Reply(200)) as receiver:
        delivery_id = new_delivery(session, receiver.url)
        job = via_rq(shared_redis, delivery_id, (0, 0, 0))
    assert job.get_status(refresh=True) == "finished"
    first, second = receiver.received
    assert first.headers[DELIVERY_HEADER] == second.headers[DELIVERY_HEADER] and first.body == second.body
    saved = row(session, delivery_id)
    assert (saved.status, saved.attempts, saved.last_status_code, saved.last_error) == ("delivered", 2, 200, "")


def test_a_timeout_is_retried_then_failed_on_the_last_attempt(session: Session, shared_redis: Any) -> None:
    with ScriptedServer(default=Reply(200, delay_seconds=1.5)) as receiver:
        delivery_id = new_delivery(session, receiver.url)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match="timed out after 0.5 s"):
            deliver({"version": 1, "delivery_id": delivery_id})
        assert time.monotonic() - started < 1.4
        saved = row(session, delivery_id)
        assert (saved.status, saved.attempts, saved.last_status_code) == ("pending", 1, None)
        assert saved.last_error == "timed out after 0.5 s"
        job = via_rq(shared_redis, delivery_id, (0,))
    assert job.get_status(refresh=True) == "failed" and len(receiver.received) == 3
    saved = row(session, delivery_id)
    assert (saved.status, saved.attempts, saved.last_error) == ("failed", 3, "timed out after 0.5 s")


def test_a_refused_connection_is_retried(session: Session) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery_id = new_delivery(session, f"http://127.0.0.1:{port}/hook")
    with pytest.raises(DeliveryFailed, match="connection failed"):
        deliver({"version": 1, "delivery_id": delivery_id})
    assert row(session, delivery_id).status == "pending"


def test_a_410_fails_at_once_and_is_never_retried(session: Session, shared_redis: Any) -> None:
    with ScriptedServer(default=Reply(410, b"gone")) as receiver:
        delivery_id = new_delivery(session, receiver.url)
        with pytest.raises(PermanentJobError, match="HTTP 410"):
            deliver({"version": 1, "delivery_id": delivery_id})
        saved = row(session, delivery_id)
        assert (saved.status, saved.attempts, saved.last_status_code) == ("failed", 1, 410)
        # even on a plain RQ worker that retries every failure, nothing more is sent
        via_rq(shared_redis, delivery_id, (0, 0))
    assert len(receiver.received) == 1 and row(session, delivery_id).attempts == 1


def test_redirects_are_not_followed(session: Session) -> None:
    with ScriptedServer(Reply(302, b"", headers={"Location": "/elsewhere"})) as receiver:
        delivery_id = new_delivery(session, receiver.url + "/hook")
        with pytest.raises(PermanentJobError, match="redirects are not followed"):
            deliver({"version": 1, "delivery_id": delivery_id})
    assert [r.path for r in receiver.received] == ["/hook"]
    assert row(session, delivery_id).status == "failed"


def test_a_private_address_is_refused_at_delivery_when_not_allowed(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ScriptedServer() as receiver:
        delivery_id = new_delivery(session, receiver.url)
        monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "false")
        with pytest.raises(PermanentJobError, match="127.0.0.1, a private or reserved address"):
            deliver({"version": 1, "delivery_id": delivery_id})
    assert receiver.received == []
    saved = row(session, delivery_id)
    assert saved.status == "failed" and saved.last_error.startswith("URL refused")


def test_no_secret_or_an_unreadable_one_fails_without_sending(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    with ScriptedServer() as receiver:
        delivery_id = new_delivery(session, receiver.url, secret=None)
        with pytest.raises(PermanentJobError, match="no webhook secret"):
            deliver({"version": 1, "delivery_id": delivery_id})
        other = new_delivery(session, receiver.url)
        monkeypatch.setenv("DATA_ENCRYPTION_KEY", Fernet.generate_key().decode())  # not the key it was sealed with
        with pytest.raises(PermanentJobError, match="cannot be decrypted"):
            deliver({"version": 1, "delivery_id": other})
    assert receiver.received == []
    assert row(session, delivery_id).status == row(session, other).status == "failed"


@pytest.mark.parametrize("payload", [None, {"delivery_id": 1}, {"version": 9, "delivery_id": 1},
                                     {"version": 1, "delivery_id": "1"}, {"version": 1, "delivery_id": 0}])
def test_bad_payloads_are_permanent_errors(payload: Any) -> None:
    with pytest.raises(PayloadError):
        deliver(payload)


def test_a_missing_row_is_a_permanent_error(session: Session) -> None:
    with pytest.raises(PermanentJobError, match="delivery 4040 does not exist"):
        deliver({"version": 1, "delivery_id": 4040})


def test_no_row_without_a_webhook_url(session: Session) -> None:
    assert webhooks.record_event(session, 1, webhooks.LEAD_UPDATED, {}) is None
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks.record_event(session, 1, "lead_deleted", {})


def test_the_sweep_enqueues_deliveries_whose_enqueue_was_lost(session: Session, shared_redis: Any) -> None:
    with ScriptedServer() as receiver:
        old = new_delivery(session, receiver.url)
        fresh = new_delivery(session, receiver.url)
        lost = new_delivery(session, receiver.url)
        now = utcnow()
        waiting, stuck = row(session, old), row(session, lost)
        waiting.created_at = now - timedelta(minutes=5)
        stuck.attempts, stuck.updated_at = 2, now - timedelta(hours=4)
        session.commit()
        assert webhooks.unsent(session, now=now) == [(old, 0), (lost, 2)]
        sweep = JobSpec(name="jobs.webhooks.requeue_unsent", queue=LOW, timeout_seconds=60, retry_intervals=())
        enqueue(shared_redis, sweep, job_id="sweep", description="sweep")
        run_burst(Queue(LOW, connection=shared_redis, serializer=JSONSerializer))
        high = Queue(HIGH, connection=shared_redis, serializer=JSONSerializer)
        assert sorted(high.job_ids) == sorted([f"deliver-webhook-{old}-a0", f"deliver-webhook-{lost}-a2"])
        run_burst(high)
    assert len(receiver.received) == 2
    assert row(session, old).status == row(session, lost).status == "delivered"
    assert row(session, fresh).status == "pending"


def test_a_410_through_the_real_worker_is_dead_lettered_with_its_retries_unspent(
    session: Session, shared_redis: Any, job_db: str
) -> None:
    from tests.conftest import SHARED_REDIS
    from tests.jobs.workerproc import run_burst as run_worker_burst

    with ScriptedServer(default=Reply(410, b"gone")) as receiver:
        delivery_id = new_delivery(session, receiver.url)
        job_id = enqueue(shared_redis, DELIVER_WEBHOOK, {"version": 1, "delivery_id": delivery_id},
                         job_id="d410", description="test")
        done = run_worker_burst(SHARED_REDIS, DATABASE_URL=job_db)
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(receiver.received) == 1
    assert shared_redis.lrange("rq:queue:failed", 0, -1) == [job_id.encode()]
    job = Queue(HIGH, connection=shared_redis, serializer=JSONSerializer).fetch_job(job_id)
    assert job is not None and job.get_status(refresh=True) == "failed"
    assert b"HTTP 410" in shared_redis.hget(f"rq:dead:{job_id}", "reason"), "the reason is kept"
    assert (row(session, delivery_id).status, row(session, delivery_id).last_status_code) == ("failed", 410)
