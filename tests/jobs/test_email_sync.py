"""jobs.email against a real dovecot (tests/jobs/dovecot.py) on SQLite and PostgreSQL: new mail,
no new mail, STARTTLS and IMAPS, a changed UIDVALIDITY, wrong password, an untrusted certificate,
a server without STARTTLS, a server that never answers, and bad payloads."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import Business, EmailAccount, Lead, Message
from api.settings import Settings
from contracts.job_payloads import PayloadError
from contracts.jobs import PermanentJobError
from jobs.email import sync_account
from jobs.email.settings import EmailSettings
from jobs.email.sync import sync_email_account
from tests.jobs.dovecot import PASSWORD, USER, Dovecot, dovecot_server  # noqa: F401 (fixture)

BOX = SecretBox.from_settings(Settings())
INTERVAL = 300


def mail(n: int, *, sender: str = "customer@example.test", message_id: str | None = "", body: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = USER
    msg["Subject"] = f"Request {n}"
    msg["Date"] = "Fri, 04 Dec 2026 10:%02d:00 +0000" % (n % 60)
    if message_id is not None:
        msg["Message-ID"] = message_id or f"<req-{n}@example.test>"
    msg.set_content(body or f"Please call me back about job {n}.")
    return msg.as_bytes()


@pytest.fixture
def db(job_db: str) -> Iterator[Session]:
    engine = create_engine(job_db)
    with Session(engine, expire_on_commit=False) as session:
        session.add(Business(name="Demo", phone_e164="+15550100000"))
        session.commit()
        yield session
    engine.dispose()


def add_account(db: Session, server: Dovecot, *, tls_mode: str = "ssl", password: str = PASSWORD,
                mailbox: str = "INBOX", address: str = USER) -> int:
    account = EmailAccount(
        business_id=1, address=address, imap_host="127.0.0.1",
        imap_port=server.ssl_port if tls_mode == "ssl" else server.starttls_port,
        imap_username=USER, secret_encrypted=BOX.encrypt(password), tls_mode=tls_mode, mailbox=mailbox,
        sync_interval_seconds=INTERVAL,
    )
    db.add(account)
    db.commit()
    return account.id


def settings_for(server: Dovecot, **overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {"ca_file": server.ca_file, "timeout_seconds": 10.0, "batch_size": 100}
    values.update(overrides)
    return EmailSettings(**values)


def account(db: Session, account_id: int) -> EmailAccount:
    db.expire_all()
    found = db.get(EmailAccount, account_id)
    assert found is not None
    return found


def messages(db: Session) -> list[Message]:
    db.expire_all()
    return list(db.scalars(select(Message).order_by(Message.id)))


@pytest.mark.parametrize("tls_mode", ["ssl", "starttls"])
def test_new_mail_is_stored_and_linked_to_the_lead_with_that_address(
    db: Session, dovecot: Dovecot, tls_mode: str
) -> None:
    db.add(Lead(business_id=1, phone_e164="+14440000001", name="Alice", email="Alice@Example.TEST"))
    db.commit()
    html = EmailMessage()
    html["From"], html["Subject"], html["Message-ID"] = "stranger@else.test", "Hi", "<html-1@else.test>"
    html.set_content("<p>Hello <b>there</b></p>", subtype="html")
    dovecot.append([mail(1, sender="alice@example.test"), html.as_bytes(), mail(3, message_id=None)])
    account_id = add_account(db, dovecot, tls_mode=tls_mode)
    before = datetime.now(UTC)

    outcome = sync_email_account(account_id, settings_for(dovecot), BOX)

    assert outcome == {"status": "synced", "account_id": account_id, "stored": 3, "batches": 1}
    first, second, third = messages(db)
    lead_id = db.scalar(select(Lead.id))
    assert (first.channel, first.direction, first.external_id) == ("email", "inbound", "<req-1@example.test>")
    assert (first.peer, first.subject, first.body) == ("alice@example.test", "Request 1", "Please call me back about job 1.")
    assert first.lead_id == lead_id and first.created_at == datetime(2026, 12, 4, 10, 1, tzinfo=UTC)
    assert (second.peer, second.body, second.lead_id) == ("stranger@else.test", "Hello there", None)
    assert third.external_id.startswith("sha256:") and third.lead_id is None
    row = account(db, account_id)
    assert row.last_uid == 3 and row.uid_validity == dovecot.status()["uidvalidity"]
    assert row.last_error == "" and row.consecutive_failures == 0
    assert row.last_synced_at is not None and row.last_synced_at >= before
    assert row.next_sync_at == row.last_synced_at + timedelta(seconds=INTERVAL)
    lead = db.get(Lead, lead_id)
    assert lead is not None and lead.last_contact_at == first.created_at
    assert "TLS" in dovecot.read_log()
    assert dovecot.status()["unseen"] == 3  # read-only: the sync marks nothing as read


def test_no_new_mail_stores_nothing_and_still_counts_as_synced(db: Session, dovecot: Dovecot) -> None:
    dovecot.append([mail(1), mail(2)])
    account_id = add_account(db, dovecot)
    sync_email_account(account_id, settings_for(dovecot), BOX)
    first_sync = account(db, account_id).last_synced_at

    outcome = sync_email_account(account_id, settings_for(dovecot), BOX)

    assert outcome["status"] == "synced" and outcome["stored"] == 0 and outcome["batches"] == 0
    row = account(db, account_id)
    assert row.last_uid == 2 and len(messages(db)) == 2
    assert row.last_synced_at is not None and first_sync is not None and row.last_synced_at > first_sync


def test_new_mail_after_a_sync_is_fetched_from_the_last_uid_on(db: Session, dovecot: Dovecot) -> None:
    dovecot.append([mail(1), mail(2)])
    account_id = add_account(db, dovecot)
    sync_email_account(account_id, settings_for(dovecot), BOX)
    dovecot.append([mail(3), mail(4), mail(5)])

    outcome = sync_email_account(account_id, settings_for(dovecot), BOX)

    assert outcome["stored"] == 3 and account(db, account_id).last_uid == 5
    assert [m.subject for m in messages(db)] == [f"Request {n}" for n in range(1, 6)]


def test_changed_uidvalidity_starts_over_and_dedupes_what_is_already_stored(db: Session, dovecot: Dovecot) -> None:
    dovecot.append([mail(1), mail(2), mail(3)], mailbox="Sales")
    account_id = add_account(db, dovecot, mailbox="Sales")
    sync_email_account(account_id, settings_for(dovecot), BOX)
    old_validity = account(db, account_id).uid_validity
    assert account(db, account_id).last_uid == 3
    # The mailbox is deleted and made again: UIDs restart at 1 under a new UIDVALIDITY. Two new
    # messages (UIDs 1, 2: below the stored last_uid 3) and one already stored (UID 3).
    dovecot.recreate("Sales")
    dovecot.append([mail(10), mail(11), mail(2)], mailbox="Sales")
    new_validity = dovecot.status("Sales")["uidvalidity"]
    assert new_validity != old_validity

    outcome = sync_email_account(account_id, settings_for(dovecot), BOX)

    assert outcome["status"] == "synced" and outcome["stored"] == 2
    row = account(db, account_id)
    assert (row.uid_validity, row.last_uid) == (new_validity, 3)
    subjects = [m.subject for m in messages(db)]
    assert sorted(subjects) == sorted(["Request 1", "Request 2", "Request 3", "Request 10", "Request 11"])


@pytest.mark.slow  # dovecot's penalty for repeated failures from one address: ~4 s per try
def test_wrong_password_records_a_clear_error_and_backs_off(db: Session, dovecot: Dovecot) -> None:
    dovecot.append([mail(1)])
    account_id = add_account(db, dovecot, password="not the password")
    delays = []
    for _ in range(2):
        started = datetime.now(UTC)
        outcome = sync_email_account(account_id, settings_for(dovecot), BOX)
        row = account(db, account_id)
        assert row.next_sync_at is not None
        delays.append((row.next_sync_at - started).total_seconds())
    assert outcome["status"] == "failed"
    assert row.last_error.startswith(f"IMAP login failed for {USER} at 127.0.0.1:{dovecot.ssl_port}")
    assert "not the password" not in row.last_error
    assert row.consecutive_failures == 2 and row.last_uid == 0 and row.last_synced_at is None
    assert [round(d / INTERVAL) for d in delays] == [1, 2]  # 300 s, then 600 s
    assert messages(db) == []

    row.secret_encrypted = BOX.encrypt(PASSWORD)  # the owner fixes the password
    db.commit()
    assert sync_email_account(account_id, settings_for(dovecot), BOX)["stored"] == 1
    row = account(db, account_id)
    assert (row.last_error, row.consecutive_failures, row.last_uid) == ("", 0, 1)


def test_backoff_is_capped(db: Session, dovecot: Dovecot) -> None:
    account_id = add_account(db, dovecot, password="wrong")
    row = account(db, account_id)
    row.consecutive_failures = 40
    db.commit()
    started = datetime.now(UTC)
    sync_email_account(account_id, settings_for(dovecot, backoff_cap_seconds=3600), BOX)
    row = account(db, account_id)
    assert row.next_sync_at is not None and 3590 <= (row.next_sync_at - started).total_seconds() <= 3610


def test_an_untrusted_certificate_is_refused(db: Session, dovecot: Dovecot) -> None:
    account_id = add_account(db, dovecot)
    outcome = sync_email_account(account_id, settings_for(dovecot, ca_file=None), BOX)
    assert outcome["status"] == "failed"
    row = account(db, account_id)
    assert f"TLS certificate of 127.0.0.1:{dovecot.ssl_port} is not trusted" in row.last_error
    assert row.consecutive_failures == 1 and "Login:" not in dovecot.read_log()


def test_starttls_mode_refuses_a_server_that_does_not_offer_it(db: Session) -> None:
    plain = Dovecot(tls=False)
    plain.start()
    try:
        account_id = add_account(db, plain, tls_mode="starttls")
        outcome = sync_email_account(account_id, settings_for(plain), BOX)
        log = plain.read_log()
    finally:
        plain.remove()
    assert outcome["status"] == "failed"
    row = account(db, account_id)
    assert "does not offer STARTTLS: refusing to send the password in clear" in row.last_error
    assert "Login:" not in log and "(no auth attempts" in log  # it hung up before any credential


def test_a_server_that_never_answers_times_out(db: Session, dovecot: Dovecot) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP connection (backlog) and never says a word
        account_id = add_account(db, dovecot)
        row = account(db, account_id)
        row.imap_port = silent.getsockname()[1]
        db.commit()
        started = datetime.now(UTC)
        outcome = sync_email_account(account_id, settings_for(dovecot, timeout_seconds=1.0), BOX)
    assert outcome["status"] == "failed" and (datetime.now(UTC) - started).total_seconds() < 5
    row = account(db, account_id)
    assert "timed out" in row.last_error and row.consecutive_failures == 1


def test_a_missing_mailbox_is_recorded(db: Session, dovecot: Dovecot) -> None:
    account_id = add_account(db, dovecot, mailbox="No Such Folder")
    assert sync_email_account(account_id, settings_for(dovecot), BOX)["status"] == "failed"
    assert "mailbox 'No Such Folder' cannot be opened" in account(db, account_id).last_error


def test_an_inactive_account_is_left_alone(db: Session, dovecot: Dovecot) -> None:
    dovecot.append([mail(1)])
    account_id = add_account(db, dovecot)
    account(db, account_id).is_active = False
    db.commit()
    logins = dovecot.read_log().count("Login:")
    assert sync_email_account(account_id, settings_for(dovecot), BOX)["status"] == "inactive"
    assert messages(db) == [] and dovecot.read_log().count("Login:") == logins


def test_bad_payloads_and_vanished_accounts_are_permanent_errors(db: Session) -> None:
    with pytest.raises(PayloadError, match="account_id"):
        sync_account({"version": 1})
    with pytest.raises(PayloadError, match="newer"):
        sync_account({"version": 9, "account_id": 1})
    with pytest.raises(PermanentJobError, match="email account 4242 no longer exists"):
        sync_account({"version": 1, "account_id": 4242})


def test_messages_already_stored_by_another_account_of_the_business_are_not_duplicated(
    db: Session, dovecot: Dovecot
) -> None:
    dovecot.append([mail(1), mail(2)])
    first = add_account(db, dovecot)
    second = add_account(db, dovecot, address="copy@example.test")  # same mailbox, another row
    sync_email_account(first, settings_for(dovecot), BOX)
    outcome = sync_email_account(second, settings_for(dovecot), BOX)
    assert outcome["stored"] == 0 and account(db, second).last_uid == 2
    assert db.scalar(select(func.count()).select_from(Message)) == 2
