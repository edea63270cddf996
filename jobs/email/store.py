"""The database side of the email sync (SQLAlchemy sessions from ``jobs.db``).

Safe when two syncs of one account overlap (a "sync now" during a scheduled one): each message
is inserted under a savepoint and a duplicate (business, channel, external_id) is skipped, and
``last_uid`` only ever moves forward, for the UIDVALIDITY it was counted in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import final

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Channel, EmailAccount, Lead, Message, MessageDirection
from jobs.email.imap import Endpoint
from jobs.email.message import ParsedEmail
from jobs.email.plan import backoff_seconds

__all__ = [
    "AccountView",
    "due_accounts",
    "load_account",
    "record_failure",
    "record_success",
    "set_validity",
    "store_batch",
]

MAX_ERROR_CHARS = 1000
DUE_PER_RUN = 5000  # accounts enqueued per scheduler slot; the rest are due at the next slot


@final
@dataclass(frozen=True, slots=True)
class AccountView:
    """What a sync needs of an ``email_account`` row (plain data: the session is closed
    while the IMAP server is talked to)."""

    id: int
    business_id: int
    endpoint: Endpoint
    secret_encrypted: str
    uid_validity: int | None
    last_uid: int
    sync_interval_seconds: int
    is_active: bool


def load_account(session: Session, account_id: int) -> AccountView | None:
    row = session.get(EmailAccount, account_id)
    if row is None:
        return None
    return AccountView(
        id=row.id,
        business_id=row.business_id,
        endpoint=Endpoint(row.imap_host, row.imap_port, row.tls_mode, row.imap_username, row.mailbox),
        secret_encrypted=row.secret_encrypted,
        uid_validity=row.uid_validity,
        last_uid=row.last_uid,
        sync_interval_seconds=row.sync_interval_seconds,
        is_active=row.is_active,
    )


def set_validity(session: Session, account_id: int, validity: int) -> None:
    """A new UIDVALIDITY: the old UIDs mean nothing now, count again from 0."""
    session.execute(
        update(EmailAccount).where(EmailAccount.id == account_id).values(uid_validity=validity, last_uid=0)
    )


def store_batch(
    session: Session, account: AccountView, validity: int, messages: list[tuple[int, ParsedEmail]],
    batch_last_uid: int, now: datetime,
) -> int:
    """Store one fetched batch and move ``last_uid`` to ``batch_last_uid``, in the caller's
    transaction (so the UID is kept only with its messages). Returns how many were new."""
    senders = {parsed.sender for _, parsed in messages if parsed.sender}
    leads = _leads_by_address(session, account.business_id, senders)
    stored = 0
    for _, parsed in messages:
        lead = leads.get(parsed.sender)
        sent_at = parsed.sent_at or now
        try:
            with session.begin_nested():
                session.add(Message(
                    business_id=account.business_id,
                    lead_id=lead.id if lead is not None else None,
                    channel=Channel.EMAIL,
                    direction=MessageDirection.INBOUND,
                    external_id=parsed.external_id,
                    peer=parsed.sender,
                    subject=parsed.subject,
                    body=parsed.body,
                    status="received",
                    created_at=sent_at,
                ))
        except IntegrityError:
            continue  # already stored (an earlier sync, another account of the business, a rerun)
        stored += 1
        if lead is not None and (lead.last_contact_at is None or lead.last_contact_at < sent_at):
            lead.last_contact_at = sent_at
    session.execute(
        update(EmailAccount)
        .where(EmailAccount.id == account.id, EmailAccount.uid_validity == validity,
               EmailAccount.last_uid < batch_last_uid)
        .values(last_uid=batch_last_uid)
    )
    return stored


def _leads_by_address(session: Session, business_id: int, addresses: set[str]) -> dict[str, Lead]:
    """The business's lead for each sender address (emails compared case-insensitively; the
    oldest lead wins when two share an address)."""
    if not addresses:
        return {}
    rows = session.scalars(
        select(Lead)
        .where(Lead.business_id == business_id, func.lower(Lead.email).in_(sorted(addresses)))
        .order_by(Lead.id.desc())
    )
    return {lead.email.lower(): lead for lead in rows}


def record_success(session: Session, account_id: int, now: datetime) -> None:
    row = session.get(EmailAccount, account_id)
    if row is None:
        return
    row.last_synced_at = now
    row.last_error = ""
    row.consecutive_failures = 0
    row.next_sync_at = now + timedelta(seconds=row.sync_interval_seconds)


def record_failure(session: Session, account_id: int, error: str, now: datetime, cap_seconds: int) -> int:
    """Note the error and push ``next_sync_at`` back exponentially; returns the failure count."""
    row = session.get(EmailAccount, account_id)
    if row is None:
        return 0
    row.consecutive_failures += 1
    row.last_error = error[:MAX_ERROR_CHARS]
    row.next_sync_at = now + timedelta(
        seconds=backoff_seconds(row.consecutive_failures, row.sync_interval_seconds, cap_seconds)
    )
    return row.consecutive_failures


def due_accounts(session: Session, now: datetime) -> list[tuple[int, datetime]]:
    """Active accounts never synced or due by ``now``: (id, due since), never synced first,
    then the most overdue. An account never synced is due since its creation."""
    rows = session.execute(
        select(EmailAccount.id, EmailAccount.next_sync_at, EmailAccount.created_at)
        .where(EmailAccount.is_active.is_(True),
               (EmailAccount.next_sync_at.is_(None)) | (EmailAccount.next_sync_at <= now))
        .order_by(EmailAccount.next_sync_at.is_(None).desc(), EmailAccount.next_sync_at, EmailAccount.id)
        .limit(DUE_PER_RUN)
    )
    return [(account_id, due_at or created_at) for account_id, due_at, created_at in rows]
