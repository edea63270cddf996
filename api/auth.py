"""Who is calling: loads the session's user once per request (``await caller()``), and
``@authenticated(role)``, the route decorator that checks it before the route's input.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import g, session
from quart_schema import security_scheme
from sqlalchemy.orm import Session

from api.db.models import Role, User
from api.errors import Unauthorized
from api.openapi import SESSION
from api.runtime import current_runtime
from api.security import Caller, password_fingerprint, require_role

__all__ = ["authenticated", "caller", "require"]

R = TypeVar("R")


def _load(db: Session, user_id: int, fingerprint: str) -> Caller | None:
    user = db.get(User, user_id)
    if user is None or not user.is_active or password_fingerprint(user.password_hash) != fingerprint:
        return None
    return Caller(user.id, user.email, Role(user.role), user.business_id)


async def caller() -> Caller | None:
    """The logged-in user, or ``None`` (a deleted/deactivated user or changed password ends the
    session)."""
    if "caller" in g:
        cached: Caller | None = g.caller
        return cached
    user_id: Any = session.get("uid")
    fingerprint: Any = session.get("pwf")
    found: Caller | None = None
    if isinstance(user_id, int) and isinstance(fingerprint, str):
        found = await current_runtime().db(_load, user_id, fingerprint)
        if found is None:
            session.clear()
    g.caller = found
    return found


async def require(minimum: Role = Role.AGENT) -> Caller:
    """The caller, at least ``minimum``.

    Raises:
        Unauthorized: not logged in.
        Forbidden: role below ``minimum``.
    """
    found = await caller()
    if found is None:
        raise Unauthorized("log in first", code="not_authenticated")
    return require_role(found, minimum)


def authenticated(
    minimum: Role = Role.AGENT,
) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """Route decorator: the handler runs only for a caller of at least ``minimum``, who is passed
    as ``caller=``; the OpenAPI operation gets the session security requirement.

    Put it directly under the route decorator, above quart-schema's ``@validate_*``, so that a
    request without a session is answered 401 (and a too-low role 403) whatever its body says.
    """

    def decorator(func: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> R:
            found = await require(minimum)
            return await func(*args, caller=found, **kwargs)

        return security_scheme([{SESSION: []}])(wrapper)

    return decorator
