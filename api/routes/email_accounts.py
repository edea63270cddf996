"""``/api/email-accounts``: the IMAP mailboxes of the caller's business (owners and admins).

Request and response shapes live here, next to the only routes that use them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring, validate_request

from api.auth import authenticated
from api.crypto import SecretBox
from api.db.models import Role, TlsMode, utcnow
from api.openapi import responds
from api.responses import Out
from api.runtime import current_runtime
from api.schemas import Email, ScopeQuery, Strict, path_id
from api.security import Caller
from api.services import email_accounts
from jobs.enqueue import enqueue_email_sync

__all__ = ["bp"]

bp = Blueprint("email_accounts", __name__, url_prefix="/api/email-accounts")
tag_blueprint(bp, ["email accounts"])
ID = path_id("account_id")

Host = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$")]
Port = Annotated[int, Field(ge=1, le=65535)]
Username = Annotated[str, Field(min_length=1, max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=1024, description="Write-only: never returned")]
Mailbox = Annotated[str, Field(min_length=1, max_length=255)]
Interval = Annotated[int, Field(ge=60, le=86_400, description="Seconds between syncs")]


class EmailAccountCreate(Strict):
    address: Email
    imap_host: Host
    imap_port: Port = 993
    imap_username: Username
    password: Password
    tls_mode: TlsMode = TlsMode.SSL
    mailbox: Mailbox = "INBOX"
    sync_interval_seconds: Interval = 300
    is_active: bool = True


class EmailAccountUpdate(Strict):
    address: Email | None = None
    imap_host: Host | None = None
    imap_port: Port | None = None
    imap_username: Username | None = None
    password: Password | None = None
    tls_mode: TlsMode | None = None
    mailbox: Mailbox | None = None
    sync_interval_seconds: Interval | None = None
    is_active: bool | None = None


class EmailAccount(Out):
    id: int
    business_id: int
    address: str
    imap_host: str
    imap_port: int
    imap_username: str
    tls_mode: TlsMode
    mailbox: str
    is_active: bool
    sync_interval_seconds: int
    password_set: bool = Field(description="A password is stored (it is never returned)")
    last_uid: int = Field(description="The highest UID stored, for uid_validity")
    uid_validity: int | None
    last_synced_at: datetime | None
    last_error: str = Field(description="Why the last sync failed; empty after a success")
    consecutive_failures: int
    next_sync_at: datetime | None = Field(description="Due from then (failures push it back exponentially)")
    created_at: datetime


class EmailAccountList(Out):
    items: list[EmailAccount]


class EmailAccountDeleted(Out):
    deleted: int


class SyncQueued(Out):
    account_id: int
    job_id: str = Field(description="The RQ job; a second request within the minute reuses it")
    queued: Literal[True]


def _box() -> SecretBox:
    return SecretBox.from_settings(current_runtime().settings)


@bp.get("")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "the business's email accounts and their sync status", model=EmailAccountList)
async def list_email_accounts(caller: Caller, query_args: ScopeQuery) -> Response:
    """List email accounts (admin)"""
    business_id = caller.scope(query_args.business_id)
    return jsonify({"items": await current_runtime().db(email_accounts.list_accounts, business_id)})


@bp.post("")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@validate_request(EmailAccountCreate)
@responds(201, "created (due for its first sync at once)", model=EmailAccount)
@responds(409, "the business already has this address")
async def create_email_account(
    caller: Caller, query_args: ScopeQuery, data: EmailAccountCreate
) -> tuple[Response, int]:
    """Add an email account (admin)"""
    business_id = caller.scope(query_args.business_id)
    account = await current_runtime().db(email_accounts.create_account, business_id, data.model_dump(), _box())
    return jsonify(account), 201


@bp.get(f"/{ID}")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "the account and its sync status", model=EmailAccount)
async def get_email_account(caller: Caller, query_args: ScopeQuery, account_id: int) -> Response:
    """Email account detail (admin)"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await current_runtime().db(email_accounts.get_account, business_id, account_id))


@bp.patch(f"/{ID}")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@validate_request(EmailAccountUpdate)
@responds(200, "updated", model=EmailAccount)
@responds(409, "another account of the business has this address")
async def update_email_account(
    caller: Caller, query_args: ScopeQuery, data: EmailAccountUpdate, account_id: int
) -> Response:
    """Update an email account; a new password, server or mailbox makes it due at once (admin)"""
    business_id = caller.scope(query_args.business_id)
    fields = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    return jsonify(await current_runtime().db(email_accounts.update_account, business_id, account_id, fields, _box()))


@bp.delete(f"/{ID}")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "deleted (messages already synced stay)", model=EmailAccountDeleted)
async def delete_email_account(caller: Caller, query_args: ScopeQuery, account_id: int) -> Response:
    """Delete an email account (admin)"""
    business_id = caller.scope(query_args.business_id)
    await current_runtime().db(email_accounts.delete_account, business_id, account_id)
    return jsonify({"deleted": account_id})


@bp.post(f"/{ID}/sync")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(202, "a sync is queued", model=SyncQueued)
@responds(409, "the account is inactive")
@responds(503, "Redis is unreachable")
async def sync_email_account_now(caller: Caller, query_args: ScopeQuery, account_id: int) -> tuple[Response, int]:
    """Sync an email account now (admin)"""
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    target = await rt.db(email_accounts.sync_target, business_id, account_id)
    minute = int(utcnow().timestamp()) // 60
    job_id = await rt.redis_call(lambda conn: enqueue_email_sync(conn, target, key=f"manual-{minute}"))
    return jsonify({"account_id": target, "job_id": job_id, "queued": True}), 202
