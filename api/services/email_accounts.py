"""Email accounts of one business (IMAP mailboxes the worker syncs: docs/ARCHITECTURE.md §5).

The password is write-only: it is encrypted with ``api.crypto.SecretBox`` before it reaches the
row and no answer ever carries it (``password_set`` says whether one is stored). Changing where
or how the account connects makes it due at once and forgets the UIDs counted so far (they
belonged to another mailbox; messages already stored are deduped on the next sync).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import EmailAccount
from api.errors import Conflict, NotFound
from api.services.common import iso

__all__ = [
    "account_json",
    "create_account",
    "delete_account",
    "get_account",
    "list_accounts",
    "sync_target",
    "update_account",
]

# Fields whose change points the account at other mail: the stored UIDs no longer apply.
WHERE_FIELDS = frozenset({"imap_host", "imap_port", "imap_username", "mailbox", "tls_mode"})


def account_json(account: EmailAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "business_id": account.business_id,
        "address": account.address,
        "imap_host": account.imap_host,
        "imap_port": account.imap_port,
        "imap_username": account.imap_username,
        "tls_mode": account.tls_mode,
        "mailbox": account.mailbox,
        "is_active": account.is_active,
        "sync_interval_seconds": account.sync_interval_seconds,
        "password_set": bool(account.secret_encrypted),
        "last_uid": account.last_uid,
        "uid_validity": account.uid_validity,
        "last_synced_at": iso(account.last_synced_at),
        "last_error": account.last_error,
        "consecutive_failures": account.consecutive_failures,
        "next_sync_at": iso(account.next_sync_at),
        "created_at": iso(account.created_at),
    }


def _get(session: Session, business_id: int, account_id: int) -> EmailAccount:
    account = session.scalar(
        select(EmailAccount).where(EmailAccount.id == account_id, EmailAccount.business_id == business_id)
    )
    if account is None:
        raise NotFound(f"email account {account_id} not found", code="email_account_not_found")
    return account


def list_accounts(session: Session, business_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(EmailAccount).where(EmailAccount.business_id == business_id).order_by(EmailAccount.id)
    )
    return [account_json(row) for row in rows]


def get_account(session: Session, business_id: int, account_id: int) -> dict[str, Any]:
    return account_json(_get(session, business_id, account_id))


def create_account(session: Session, business_id: int, fields: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    values = dict(fields)
    account = EmailAccount(business_id=business_id, secret_encrypted=box.encrypt(values.pop("password")), **values)
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        raise Conflict(
            f"the business already has the email account {fields['address']}", code="email_account_exists",
            details={"address": fields["address"]},
        ) from None
    return account_json(account)


def update_account(
    session: Session, business_id: int, account_id: int, fields: dict[str, Any], box: SecretBox
) -> dict[str, Any]:
    account = _get(session, business_id, account_id)
    values = dict(fields)
    password = values.pop("password", None)
    moved = any(name in values and values[name] != getattr(account, name) for name in WHERE_FIELDS)
    reactivated = values.get("is_active") is True and not account.is_active
    for name, value in values.items():
        setattr(account, name, value)
    if password is not None:
        account.secret_encrypted = box.encrypt(password)
    if moved:
        account.uid_validity, account.last_uid = None, 0
    if moved or reactivated or password is not None:
        # New credentials or a new place: try at once rather than after a failure backoff.
        account.next_sync_at, account.consecutive_failures = None, 0
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("another email account of the business has this address", code="email_account_exists") from None
    return account_json(account)


def delete_account(session: Session, business_id: int, account_id: int) -> None:
    """The messages already synced stay (they belong to the business's history)."""
    session.delete(_get(session, business_id, account_id))


def sync_target(session: Session, business_id: int, account_id: int) -> int:
    """The id of an account of the business that may be synced now.

    Raises:
        NotFound: no such account in the business.
        Conflict: the account is switched off.
    """
    account = _get(session, business_id, account_id)
    if not account.is_active:
        raise Conflict(f"email account {account_id} is inactive: activate it first", code="email_account_inactive")
    return account.id
