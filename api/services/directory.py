"""Businesses and users (sync services). Role rules:

* a system_admin manages every business and user;
* an owner/admin manages the users of their own business, never above their own role;
* agents manage nobody; anyone may read their own business.

A password change ends every other session of the user (``api.services.sessions``; the one that
made the change stays when users change their own), deactivation ends all of them, and an
owner/admin may end a user's sessions outright.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Business, Role, User
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.security import RANK, Caller, hash_password
from api.services import sessions
from api.services.accounts import user_json
from api.services.common import Page, iso, paginate

__all__ = [
    "business_json",
    "create_business",
    "create_user",
    "end_user_sessions",
    "get_business",
    "get_user",
    "list_businesses",
    "list_users",
    "update_business",
    "update_user",
]


def business_json(b: Business) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "phone_e164": b.phone_e164,
        "whatsapp_number": b.whatsapp_number,
        "whatsapp_shard": b.whatsapp_shard,
        "timezone": b.timezone,
        "language": b.language,
        "greeting": b.greeting,
        "brain": b.brain,
        "brain_settings": b.brain_settings,
        "max_concurrent_calls": b.max_concurrent_calls,
        "is_active": b.is_active,
        "webhook_url": b.webhook_url,
        "webhook_secret_set": bool(b.webhook_secret_encrypted),
        "recording_retention_days": b.recording_retention_days,
        "created_at": iso(b.created_at),
        "updated_at": iso(b.updated_at),
    }


def _flush_unique(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already in use", code="already_exists") from exc


def list_businesses(session: Session, caller: Caller, page: int, per_page: int) -> Page:
    query = select(Business).order_by(Business.id)
    if not caller.is_system_admin:
        query = query.where(Business.id == caller.business_id)
    return paginate(session, query, page, per_page, business_json)


def _business(session: Session, caller: Caller, business_id: int) -> Business:
    business = session.get(Business, business_id)
    if business is None or (not caller.is_system_admin and business.id != caller.business_id):
        raise NotFound(f"business {business_id} not found", code="business_not_found")
    return business


def get_business(session: Session, caller: Caller, business_id: int) -> dict[str, Any]:
    return business_json(_business(session, caller, business_id))


def create_business(session: Session, fields: dict[str, Any]) -> dict[str, Any]:
    business = Business(**fields)
    session.add(business)
    _flush_unique(session, "phone number")
    return business_json(business)


def update_business(session: Session, caller: Caller, business_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    business = _business(session, caller, business_id)
    if RANK[caller.role] < RANK[Role.ADMIN]:
        raise Forbidden("requires role admin or higher", code="role_required")
    if "is_active" in fields and not caller.is_system_admin:
        raise Forbidden("only a system admin activates or deactivates a business", code="role_required")
    for name, value in fields.items():
        setattr(business, name, value)
    if business.webhook_url and not business.webhook_secret_encrypted:
        raise Unprocessable(
            "a webhook URL needs a webhook_secret (at least 16 characters) to sign its requests",
            code="webhook_secret_required",
        )
    _flush_unique(session, "phone number")
    return business_json(business)


def list_users(session: Session, caller: Caller, business_id: int | None, page: int, per_page: int) -> Page:
    query = select(User).order_by(User.id)
    if caller.is_system_admin:
        if business_id is not None:
            query = query.where(User.business_id == business_id)
    else:
        if business_id is not None and business_id != caller.business_id:
            raise NotFound("no such business", code="business_not_found")
        query = query.where(User.business_id == caller.business_id)
    return paginate(session, query, page, per_page, user_json)


def _user(session: Session, caller: Caller, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or (not caller.is_system_admin and user.business_id != caller.business_id):
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    return user


def get_user(session: Session, caller: Caller, user_id: int) -> dict[str, Any]:
    return user_json(_user(session, caller, user_id))


def _may_grant(caller: Caller, role: Role) -> None:
    if role is Role.SYSTEM_ADMIN and not caller.is_system_admin:
        raise Forbidden("only a system admin creates system admins", code="role_required")
    if RANK[role] > RANK[caller.role]:
        raise Forbidden(f"cannot grant {role.value}: above your own role", code="role_required")


def create_user(session: Session, caller: Caller, fields: dict[str, Any]) -> dict[str, Any]:
    role = Role(fields["role"])
    _may_grant(caller, role)
    business_id = fields.get("business_id")
    if caller.is_system_admin:
        if role is not Role.SYSTEM_ADMIN and business_id is None:
            raise Unprocessable("business_id is required for this role", code="business_required")
        if role is Role.SYSTEM_ADMIN:
            business_id = None
        elif session.get(Business, business_id) is None:
            raise NotFound(f"business {business_id} not found", code="business_not_found")
    else:
        if business_id is not None and business_id != caller.business_id:
            raise NotFound("no such business", code="business_not_found")
        business_id = caller.business_id
    user = User(email=fields["email"], name=fields.get("name", ""), role=role, business_id=business_id,
                password_hash=hash_password(fields["password"]))
    session.add(user)
    _flush_unique(session, "email")
    return user_json(user)


def _manageable(session: Session, caller: Caller, user_id: int) -> User:
    user = _user(session, caller, user_id)
    if user.id != caller.user_id and RANK[Role(user.role)] > RANK[caller.role]:
        raise Forbidden("cannot change a user above your own role", code="role_required")
    return user


def end_user_sessions(session: Session, caller: Caller, user_id: int) -> int:
    """End every session of a user the caller manages; returns how many were ended.

    Raises:
        NotFound: no such user in the caller's business.
        Forbidden: the user's role is above the caller's.
    """
    return sessions.end_all(session, _manageable(session, caller, user_id).id)


def update_user(
    session: Session, caller: Caller, user_id: int, fields: dict[str, Any], *, current_session: str | None = None
) -> dict[str, Any]:
    """Apply ``fields``; ``current_session`` (the caller's session id) survives the caller's own
    password change, every other session of the user ends with it."""
    user = _manageable(session, caller, user_id)
    is_self = user.id == caller.user_id
    if "role" in fields:
        if is_self:
            raise Forbidden("you cannot change your own role", code="role_required")
        _may_grant(caller, Role(fields["role"]))
        if fields["role"] == Role.SYSTEM_ADMIN or user.role == Role.SYSTEM_ADMIN:
            raise Unprocessable("system admin is not a role a business user can move to or from", code="invalid_role")
        user.role = Role(fields["role"])
    if "is_active" in fields:
        if is_self:
            raise Forbidden("you cannot deactivate yourself", code="role_required")
        user.is_active = fields["is_active"]
        if not user.is_active:
            sessions.end_all(session, user.id)
    if "name" in fields:
        user.name = fields["name"]
    if "password" in fields:
        user.password_hash = hash_password(fields["password"])
        sessions.end_all(session, user.id, keep=current_session if is_self else None)
    session.flush()
    return user_json(user)
