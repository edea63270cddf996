"""``/api/businesses`` and ``/api/users``."""

from __future__ import annotations

import trio
from pydantic import BaseModel
from quart import Blueprint, Response, jsonify, session
from quart_schema import tag_blueprint, validate_querystring, validate_request

from api.auth import authenticated
from api.crypto import SecretBox
from api.db.models import Role
from api.errors import Forbidden, Unprocessable
from api.openapi import responds
from api.responses import Business, BusinessPage, SessionsEnded, User, UserPage
from api.runtime import current_runtime
from api.schemas import (
    BusinessCreate,
    BusinessUpdate,
    NoQuery,
    PageQuery,
    UserCreate,
    UsersQuery,
    UserUpdate,
    path_id,
)
from api.security import RANK, Caller
from api.services import directory, webhooks

__all__ = ["businesses", "users"]

businesses = Blueprint("businesses", __name__, url_prefix="/api/businesses")
users = Blueprint("users", __name__, url_prefix="/api/users")
tag_blueprint(businesses, ["businesses"])
tag_blueprint(users, ["users"])
BUSINESS_ID = path_id("business_id")
USER_ID = path_id("user_id")


def _set_fields(model: BaseModel) -> dict[str, object]:
    fields = model.model_dump(exclude_unset=True)
    return {k: v for k, v in fields.items() if v is not None or k == "whatsapp_number"}


@businesses.get("")
@authenticated()
@validate_querystring(PageQuery)
@responds(200, "a page of businesses", model=BusinessPage)
async def list_businesses(caller: Caller, query_args: PageQuery) -> Response:
    """List businesses (own, or all for a system admin)"""
    page = await current_runtime().db(directory.list_businesses, caller, query_args.page, query_args.per_page)
    return jsonify(page.to_json())


@businesses.post("")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(NoQuery)
@validate_request(BusinessCreate)
@responds(201, "created", model=Business)
@responds(409, "the phone number is in use")
async def create_business(caller: Caller, query_args: NoQuery, data: BusinessCreate) -> tuple[Response, int]:
    """Create a business (system admin)"""
    return jsonify(await current_runtime().db(directory.create_business, data.model_dump())), 201


@businesses.get(f"/{BUSINESS_ID}")
@authenticated()
@validate_querystring(NoQuery)
@responds(200, "the business and its settings", model=Business)
async def get_business(caller: Caller, query_args: NoQuery, business_id: int) -> Response:
    """Business and its settings"""
    return jsonify(await current_runtime().db(directory.get_business, caller, business_id))


@businesses.patch(f"/{BUSINESS_ID}")
@authenticated()
@validate_querystring(NoQuery)
@validate_request(BusinessUpdate)
@responds(200, "updated", model=Business)
@responds(409, "the phone number is in use")
@responds(422, "the webhook URL is refused (private address, not http(s)) or has no secret")
async def update_business(caller: Caller, query_args: NoQuery, data: BusinessUpdate, business_id: int) -> Response:
    """Update business settings (webhook_secret is write-only: GET shows webhook_secret_set)"""
    rt = current_runtime()
    fields = _set_fields(data)
    if RANK[caller.role] < RANK[Role.ADMIN]:
        raise Forbidden("requires role admin or higher", code="role_required")
    if fields.get("webhook_url"):
        url = str(fields["webhook_url"])
        allow_private = rt.settings.webhook_allow_private
        try:  # resolving the host blocks: in a thread
            await trio.to_thread.run_sync(lambda: webhooks.check_url(url, allow_private=allow_private))
        except webhooks.UnsafeUrl as exc:
            raise Unprocessable(f"webhook_url: {exc}", code="webhook_url_refused") from None
    if "webhook_secret" in fields:
        fields["webhook_secret_encrypted"] = SecretBox.from_settings(rt.settings).encrypt(str(fields.pop("webhook_secret")))
    return jsonify(await rt.db(directory.update_business, caller, business_id, fields))


@users.get("")
@authenticated(Role.ADMIN)
@validate_querystring(UsersQuery)
@responds(200, "a page of users", model=UserPage)
async def list_users(caller: Caller, query_args: UsersQuery) -> Response:
    """List users (admin)"""
    query = query_args
    page = await current_runtime().db(directory.list_users, caller, query.business_id, query.page, query.per_page)
    return jsonify(page.to_json())


@users.post("")
@authenticated(Role.ADMIN)
@validate_querystring(NoQuery)
@validate_request(UserCreate)
@responds(201, "created", model=User)
@responds(409, "the email is in use")
async def create_user(caller: Caller, query_args: NoQuery, data: UserCreate) -> tuple[Response, int]:
    """Create a user (admin)"""
    return jsonify(await current_runtime().db(directory.create_user, caller, data.model_dump())), 201


@users.get(f"/{USER_ID}")
@authenticated()
@validate_querystring(NoQuery)
@responds(200, "the user", model=User)
async def get_user(caller: Caller, query_args: NoQuery, user_id: int) -> Response:
    """User detail"""
    if caller.user_id != user_id and caller.role is Role.AGENT:
        raise Forbidden("requires role admin or higher", code="role_required")
    return jsonify(await current_runtime().db(directory.get_user, caller, user_id))


@users.patch(f"/{USER_ID}")
@authenticated()
@validate_querystring(NoQuery)
@validate_request(UserUpdate)
@responds(200, "updated", model=User)
async def update_user(caller: Caller, query_args: NoQuery, data: UserUpdate, user_id: int) -> Response:
    """Update a user (name, password, role, active)"""
    fields = _set_fields(data)
    if caller.user_id != user_id and caller.role is Role.AGENT:
        raise Forbidden("requires role admin or higher", code="role_required")
    if caller.user_id == user_id and set(fields) - {"name", "password"}:
        raise Forbidden("you may change only your own name and password", code="role_required")
    current = session.get("sid")
    return jsonify(await current_runtime().db(
        lambda s: directory.update_user(s, caller, user_id, fields, current_session=str(current) if current else None)
    ))


@users.delete(f"/{USER_ID}/sessions")
@authenticated(Role.ADMIN)
@validate_querystring(NoQuery)
@responds(200, "every session of the user is ended (the account is untouched)", model=SessionsEnded)
@responds(404, "no such user in your business")
@responds(403, "the user's role is above yours")
async def end_user_sessions(caller: Caller, query_args: NoQuery, user_id: int) -> Response:
    """End every session of a user (admin)"""
    return jsonify({"ended": await current_runtime().db(directory.end_user_sessions, caller, user_id)})
