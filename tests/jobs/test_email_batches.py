"""A huge mailbox (1,050 messages) synced in batches by jobs.email against a real dovecot:
``last_uid`` advances batch by batch, and a sync cut short (a crash in the job, the server going
away) resumes after the last stored batch without losing or duplicating a message."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.db.models import Business, EmailAccount, Message
from jobs.email.sync import sync_email_account
from tests.jobs.dovecot import Dovecot
from tests.jobs.test_email_sync import BOX, add_account, mail, settings_for

pytestmark = pytest.mark.slow
TOTAL = 1050
BATCH = 100


@pytest.fixture(scope="module")
def big_mailbox() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    server.append([mail(n) for n in range(1, TOTAL + 1)])
    assert server.status()["messages"] == TOTAL
    yield server
    server.remove()


@pytest.fixture
def db(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        session.add(Business(name="Demo", phone_e164="+15550100000"))
        session.commit()
        yield session
    engine.dispose()


def last_uid(db: Session, account_id: int) -> int:
    db.expire_all()
    return db.scalars(select(EmailAccount.last_uid).where(EmailAccount.id == account_id)).one()


def stored(db: Session) -> tuple[int, int]:
    """(messages, distinct external ids)."""
    db.expire_all()
    return (db.scalar(select(func.count()).select_from(Message)) or 0,
            db.scalar(select(func.count(func.distinct(Message.external_id)))) or 0)


def test_a_crash_after_the_first_batch_resumes_without_loss_or_duplicates(db: Session, big_mailbox: Dovecot) -> None:
    account_id = add_account(db, big_mailbox)

    def crash(done: int) -> None:
        raise RuntimeError(f"worker died after batch {done}")

    with pytest.raises(RuntimeError, match="after batch 1"):
        sync_email_account(account_id, settings_for(big_mailbox, batch_size=BATCH), BOX, after_batch=crash)
    assert last_uid(db, account_id) == BATCH and stored(db) == (BATCH, BATCH)
    row = db.get(EmailAccount, account_id)
    assert row is not None and row.consecutive_failures == 1
    assert "sync failed unexpectedly (RuntimeError): worker died after batch 1" in row.last_error

    seen: list[int] = []
    outcome = sync_email_account(account_id, settings_for(big_mailbox, batch_size=BATCH), BOX,
                                 after_batch=lambda _: seen.append(last_uid(db, account_id)))

    assert outcome == {"status": "synced", "account_id": account_id, "stored": TOTAL - BATCH, "batches": 10}
    assert seen == [*range(2 * BATCH, TOTAL, BATCH), TOTAL]  # committed batch by batch
    assert stored(db) == (TOTAL, TOTAL) and last_uid(db, account_id) == TOTAL
    subjects = set(db.scalars(select(Message.subject)))
    assert subjects == {f"Request {n}" for n in range(1, TOTAL + 1)}
    row = db.get(EmailAccount, account_id)
    assert row is not None and (row.consecutive_failures, row.last_error) == (0, "")


def test_the_server_going_away_mid_sync_is_recorded_and_the_next_sync_resumes(
    db: Session, big_mailbox: Dovecot
) -> None:
    account_id = add_account(db, big_mailbox)

    def stop_server(done: int) -> None:
        if done == 3:
            big_mailbox.stop()

    try:
        outcome = sync_email_account(account_id, settings_for(big_mailbox, batch_size=BATCH), BOX,
                                     after_batch=stop_server)
    finally:
        if big_mailbox.proc is None:
            big_mailbox.start()
    assert outcome["status"] == "failed" and outcome["stored"] == 3 * BATCH
    assert f"127.0.0.1:{big_mailbox.ssl_port}" in outcome["error"]
    assert last_uid(db, account_id) == 3 * BATCH and stored(db) == (3 * BATCH, 3 * BATCH)

    outcome = sync_email_account(account_id, settings_for(big_mailbox, batch_size=BATCH), BOX)

    assert outcome["status"] == "synced" and outcome["stored"] == TOTAL - 3 * BATCH
    assert stored(db) == (TOTAL, TOTAL) and last_uid(db, account_id) == TOTAL


def test_two_overlapping_syncs_of_one_account_store_each_message_once(db: Session, big_mailbox: Dovecot) -> None:
    """A "sync now" during a scheduled sync: both run to the end, nothing is stored twice and
    ``last_uid`` ends at the top."""
    account_id = add_account(db, big_mailbox)
    outcomes: list[dict[str, object]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcomes.append(sync_email_account(account_id, settings_for(big_mailbox, batch_size=BATCH), BOX))
        except BaseException as exc:  # reported below, with the thread's outcome
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and [o["status"] for o in outcomes] == ["synced", "synced"], (errors, outcomes)
    assert sum(int(str(o["stored"])) for o in outcomes) == TOTAL
    assert stored(db) == (TOTAL, TOTAL) and last_uid(db, account_id) == TOTAL
