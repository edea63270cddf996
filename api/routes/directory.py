"""``/api/businesses`` and ``/api/users``."""

from __future__ import annotations

from pydantic import Field
from quart import Blueprint, Response, jsonify

from api.auth import require
from api.db.models import Role
from api.errors import Forbidden
from api.runtime import current_runtime
from api.schemas import BusinessCreate, BusinessUpdate, UserCreate, UserUpdate
from api.services import directory
from api.validation import Strict, parse_body, parse_query

__all__ = ["businesses", "users"]

businesses = Blueprint("businesses", __name__, url_prefix="/api/businesses")
users = Blueprint("users", __name__, url_prefix="/api/users")


class PageQuery(Strict):
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=25, ge=1, le=200)


class UsersQuery(PageQuery):
    business_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class NoQuery(Strict):
    pass


def _set_fields(model: Strict) -> dict[str, object]:
    fields = model.model_dump(exclude_unset=True)
    return {k: v for k, v in fields.items() if v is not None or k == "whatsapp_number"}


@businesses.get("")
async def list_businesses() -> Response:
    caller = await require()
    query = parse_query(PageQuery)
    page = await current_runtime().db(directory.list_businesses, caller, query.page, query.per_page)
    return jsonify(page.to_json())


@businesses.post("")
async def create_business() -> tuple[Response, int]:
    caller = await require(Role.SYSTEM_ADMIN)
    parse_query(NoQuery)
    body = await parse_body(BusinessCreate)
    del caller
    return jsonify(await current_runtime().db(directory.create_business, body.model_dump())), 201


@businesses.get("/<int:business_id>")
async def get_business(business_id: int) -> Response:
    caller = await require()
    parse_query(NoQuery)
    return jsonify(await current_runtime().db(directory.get_business, caller, business_id))


@businesses.patch("/<int:business_id>")
async def update_business(business_id: int) -> Response:
    caller = await require()
    parse_query(NoQuery)
    body = await parse_body(BusinessUpdate)
    return jsonify(await current_runtime().db(directory.update_business, caller, business_id, _set_fields(body)))


@users.get("")
async def list_users() -> Response:
    caller = await require(Role.ADMIN)
    query = parse_query(UsersQuery)
    page = await current_runtime().db(directory.list_users, caller, query.business_id, query.page, query.per_page)
    return jsonify(page.to_json())


@users.post("")
async def create_user() -> tuple[Response, int]:
    caller = await require(Role.ADMIN)
    parse_query(NoQuery)
    body = await parse_body(UserCreate)
    return jsonify(await current_runtime().db(directory.create_user, caller, body.model_dump())), 201


@users.get("/<int:user_id>")
async def get_user(user_id: int) -> Response:
    caller = await require()
    parse_query(NoQuery)
    if caller.user_id != user_id and caller.role is Role.AGENT:
        raise Forbidden("requires role admin or higher", code="role_required")
    return jsonify(await current_runtime().db(directory.get_user, caller, user_id))


@users.patch("/<int:user_id>")
async def update_user(user_id: int) -> Response:
    caller = await require()
    parse_query(NoQuery)
    body = await parse_body(UserUpdate)
    fields = _set_fields(body)
    if caller.user_id != user_id and caller.role is Role.AGENT:
        raise Forbidden("requires role admin or higher", code="role_required")
    if caller.user_id == user_id and set(fields) - {"name", "password"}:
        raise Forbidden("you may change only your own name and password", code="role_required")
    return jsonify(await current_runtime().db(directory.update_user, caller, user_id, fields))
