"""The email-sync jobs: ``sync_account`` (one account, SYNC_EMAIL_ACCOUNT) and
``sync_due_accounts`` (the scheduler's periodic job, SYNC_DUE_EMAIL).

A sync fetches the messages above the account's ``last_uid`` (UIDVALIDITY respected) in
batches of EMAIL_SYNC_BATCH, each batch stored with its ``last_uid`` in one transaction, so a
sync cut short anywhere resumes after the last stored batch without losing or duplicating
mail. An IMAP failure (wrong password, unreachable, TLS refused) is the account's business, not
the queue's: it is written to ``last_error``, the next try is pushed back exponentially and the
job completes — SYNC_EMAIL_ACCOUNT has no RQ retries, so there is no retry storm.
docs/ARCHITECTURE.md §5.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import TYPE_CHECKING, Any

from api.crypto import DecryptError, SecretBox
from api.db.models import utcnow
from api.settings import Settings
from contracts.job_payloads import read_account_ref
from contracts.jobs import SYNC_EMAIL_ACCOUNT, PermanentJobError
from jobs.current import job_redis
from jobs.db import job_session
from jobs.email import store
from jobs.email.imap import ImapError, make_ssl_context, open_mailbox
from jobs.email.message import parse_message
from jobs.email.plan import batches, due_job_key, resume_point, uid_windows
from jobs.email.settings import EmailSettings
from jobs.enqueue import enqueue_email_sync

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["sync_account", "sync_due_accounts", "sync_email_account"]

log = logging.getLogger(__name__)
# A sync job runs at most its RQ timeout; an account still due well after that was left behind.
STALE_AFTER_SECONDS = SYNC_EMAIL_ACCOUNT.timeout_seconds + 60


def sync_account(payload: object) -> dict[str, Any]:
    """RQ job: sync one email account (payload ``{"version": 1, "account_id": N}``).

    Returns:
        ``{"status": "synced" | "failed" | "inactive", "stored": n, ...}``.

    Raises:
        PermanentJobError: the payload does not parse (``PayloadError``) or the account no
            longer exists: dead-lettered at once.
        Exception: anything unexpected (the database down, say) after noting it on the account.
    """
    ref = read_account_ref(payload)
    return sync_email_account(ref.account_id, EmailSettings.from_env(), SecretBox.from_settings(Settings.from_env()))


def sync_email_account(
    account_id: int, settings: EmailSettings, box: SecretBox, *,
    after_batch: Callable[[int], None] | None = None, clock: Callable[[], datetime] = utcnow,
) -> dict[str, Any]:
    """Sync one account with explicit dependencies (``sync_account`` reads them from the
    environment). ``after_batch(n)`` is called after the n-th batch (from 1) is committed."""
    with job_session() as session:
        account = store.load_account(session, account_id)
    if account is None:
        raise PermanentJobError(f"email account {account_id} no longer exists")
    if not account.is_active:
        return {"status": "inactive", "account_id": account_id, "stored": 0}
    stored = done = 0
    try:
        password = box.decrypt(account.secret_encrypted)
        with open_mailbox(account.endpoint, password, context=make_ssl_context(settings.ca_file),
                          timeout=settings.timeout_seconds) as mailbox:
            validity = mailbox.uid_validity
            resume = resume_point(account.uid_validity, account.last_uid, validity)
            if account.uid_validity != validity:
                if resume.reset:
                    log.warning("email account %s: UIDVALIDITY %s -> %s, syncing %r from the start",
                                account_id, account.uid_validity, validity, account.endpoint.mailbox)
                with job_session() as session:
                    store.set_validity(session, account_id, validity)
            for low, high in uid_windows(resume.after_uid, mailbox.uid_next):
                for batch in batches(mailbox.search(low, high), settings.batch_size):
                    fetched = [(uid, parse_message(raw)) for uid, raw in mailbox.fetch(batch)]
                    with job_session() as session:
                        stored += store.store_batch(session, account, validity, fetched, batch[-1], clock())
                    done += 1
                    if after_batch is not None:
                        after_batch(done)
    except (ImapError, DecryptError) as exc:
        failures = _record_failure(account_id, str(exc), settings)
        log.warning("email account %s: sync failed (%d in a row): %s", account_id, failures, exc)
        return {"status": "failed", "account_id": account_id, "stored": stored, "error": str(exc)}
    except Exception as exc:
        # Not the mailbox's fault (the database, a bug): note it so the account backs off and
        # the scheduler's next job gets a new id, then let the job fail visibly.
        try:
            _record_failure(account_id, f"sync failed unexpectedly ({type(exc).__name__}): {exc}", settings)
        except Exception:  # the database is what failed: the job's own failure tells the story
            log.warning("email account %s: could not record the failure", account_id, exc_info=True)
        raise
    with job_session() as session:
        store.record_success(session, account_id, clock())
    log.info("email account %s: synced, %d new message(s) in %d batch(es)", account_id, stored, done)
    return {"status": "synced", "account_id": account_id, "stored": stored, "batches": done}


def _record_failure(account_id: int, error: str, settings: EmailSettings) -> int:
    with job_session() as session:
        return store.record_failure(session, account_id, error, utcnow(), settings.backoff_cap_seconds)


def sync_due_accounts(*, connection: Redis | None = None, now: datetime | None = None) -> dict[str, Any]:
    """RQ periodic job: enqueue SYNC_EMAIL_ACCOUNT once for every active account that is due
    (``next_sync_at`` unset or past). Job ids derive from the due time (``plan.due_job_key``),
    so two runs before the sync happened queue it once."""
    now = now or utcnow()
    with job_session() as session:
        due = store.due_accounts(session, now)
    with job_redis() if connection is None else nullcontext(connection) as conn:
        job_ids = [
            enqueue_email_sync(
                conn, account_id,
                key=due_job_key(due_at.timestamp(), now.timestamp(), STALE_AFTER_SECONDS),
            )
            for account_id, due_at in due
        ]
    if job_ids:
        log.info("email sync: %d account(s) due", len(job_ids))
    return {"due": len(job_ids), "job_ids": job_ids}

