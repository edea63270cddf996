"""jobs.email through RQ (real Redis, an in-process burst worker, a private dovecot):
``sync_due_accounts`` queues each due account once, the queued syncs run, and a wrong password
ends the job normally (no RQ retry, nothing in the failed registry) with the error on the account."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import Business, EmailAccount, Message
from contracts.jobs import SYNC_EMAIL_ACCOUNT
from jobs.email import sync_due_accounts
from jobs.enqueue import email_sync_job_id, enqueue_email_sync
from tests.fakes.burst_worker import run_burst
from tests.jobs.dovecot import PASSWORD, USER, Dovecot, dovecot_server  # noqa: F401 (fixture)
from tests.jobs.test_email_sync import mail

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
KEY = Fernet.generate_key()


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def db(job_db: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """The worker's environment: DATA_ENCRYPTION_KEY opens the stored passwords and
    EMAIL_CA_FILE makes the test server's certificate trusted."""
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", KEY.decode())
    monkeypatch.setenv("EMAIL_CA_FILE", str(dovecot.ca_file))
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        session.add(Business(name="Demo", phone_e164="+15550100000"))
        session.commit()
        yield session
    engine.dispose()


def add(db: Session, server: Dovecot, address: str, *, password: str = PASSWORD, next_sync_at: datetime | None = None,
        active: bool = True) -> int:
    account = EmailAccount(
        business_id=1, address=address, imap_host="localhost", imap_port=server.starttls_port,
        imap_username=USER, secret_encrypted=SecretBox([KEY]).encrypt(password), tls_mode="starttls",
        next_sync_at=next_sync_at, is_active=active,
    )
    db.add(account)
    db.commit()
    return account.id


def test_due_accounts_are_queued_once_and_synced(db: Session, dovecot: Dovecot, redis_conn: Redis) -> None:
    dovecot.append([mail(1), mail(2)])
    now = datetime.now(UTC)
    never = add(db, dovecot, "a@example.test")
    overdue = add(db, dovecot, "b@example.test", next_sync_at=now - timedelta(minutes=3))
    add(db, dovecot, "c@example.test", next_sync_at=now + timedelta(minutes=3))  # not due yet
    add(db, dovecot, "d@example.test", active=False)  # switched off

    first = sync_due_accounts(connection=redis_conn, now=now)
    again = sync_due_accounts(connection=redis_conn, now=now + timedelta(seconds=30))

    assert first["due"] == 2 and again["job_ids"] == first["job_ids"]
    queue = Queue(SYNC_EMAIL_ACCOUNT.queue, connection=redis_conn, serializer=JSONSerializer)
    assert sorted(queue.job_ids) == sorted(first["job_ids"])
    jobs = [queue.fetch_job(job_id) for job_id in first["job_ids"]]
    assert sorted(job.args[0]["account_id"] for job in jobs if job is not None) == [never, overdue]
    for job in jobs:
        assert job is not None and job.args == [{"version": 1, "account_id": job.args[0]["account_id"]}]
        assert job.id.startswith(email_sync_job_id(job.args[0]["account_id"], ""))
        assert job.retries_left is None and job.timeout == SYNC_EMAIL_ACCOUNT.timeout_seconds

    assert run_burst(queue)

    for job_id in first["job_ids"]:
        done = Job.fetch(job_id, connection=redis_conn, serializer=JSONSerializer)
        assert done.get_status() == JobStatus.FINISHED and done.return_value()["status"] == "synced"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Message)) == 2  # the same mailbox, deduped
    assert sync_due_accounts(connection=redis_conn, now=datetime.now(UTC))["due"] == 0  # synced: not due


def test_wrong_password_through_the_queue_fails_the_account_not_the_job(
    db: Session, dovecot: Dovecot, redis_conn: Redis
) -> None:
    account_id = add(db, dovecot, "a@example.test", password="wrong")
    job_id = enqueue_email_sync(redis_conn, account_id, key="manual-1")
    queue = Queue(SYNC_EMAIL_ACCOUNT.queue, connection=redis_conn, serializer=JSONSerializer)

    assert run_burst(queue)

    job = Job.fetch(job_id, connection=redis_conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED and job.return_value()["status"] == "failed"
    assert queue.failed_job_registry.count == 0 and queue.scheduled_job_registry.count == 0 and queue.count == 0
    db.expire_all()
    row = db.get(EmailAccount, account_id)
    assert row is not None and row.consecutive_failures == 1
    assert row.last_error.startswith(f"IMAP login failed for {USER} at localhost:{dovecot.starttls_port}")
    assert row.next_sync_at is not None and row.next_sync_at > datetime.now(UTC) + timedelta(seconds=200)


def test_a_payload_that_does_not_parse_fails_at_once_without_retries(db: Session, redis_conn: Redis) -> None:
    queue = Queue(SYNC_EMAIL_ACCOUNT.queue, connection=redis_conn, serializer=JSONSerializer)
    job = queue.enqueue(SYNC_EMAIL_ACCOUNT.name, {"version": 1, "account_id": "seven"})

    run_burst(queue)

    job = Job.fetch(job.id, connection=redis_conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED and queue.scheduled_job_registry.count == 0
    result = job.latest_result()
    assert result is not None and "account_id: expected a positive integer" in (result.exc_string or "")
