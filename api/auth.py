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

from api.db.models import Role, User, utcnow
from api.errors import Unauthorized
from api.openapi import SESSION
from api.runtime import Runtime, current_runtime
from api.security import Caller, require_role
from api.services import sessions
from api.settings import Settings

__all__ = ["authenticated", "caller", "lifetimes", "require"]

R = TypeVar("R")


def lifetimes(settings: Settings) -> sessions.Lifetimes:
    return sessions.Lifetimes(settings.session_idle_seconds, settings.session_max_age_seconds)


def _load(
    db: Session, token: str, user_id: int, limits: sessions.Lifetimes, *, touch: bool = True
) -> Caller | None:
    if not sessions.is_live(db, token, user_id, utcnow(), limits, touch=touch):
        return None
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        return None
    return Caller(user.id, user.email, Role(user.role), user.business_id)


async def caller() -> Caller | None:
    """The logged-in user, or ``None``.

    The cookie names a server-side session (``api.services.sessions``): logout, a password
    change, deactivation, an admin, the idle timeout or the absolute lifetime end it, and a
    copy of the cookie stops working at the same moment. The database is read on every
    request, so when it is down no session is valid (fail-closed).
    """
    if "caller" in g:
        cached: Caller | None = g.caller
        return cached
    user_id: Any = session.get("uid")
    token: Any = session.get("sid")
    found: Caller | None = None
    if isinstance(user_id, int) and isinstance(token, str):
        rt = current_runtime()
        found = await rt.db(_load, token, user_id, lifetimes(rt.settings))
    if found is None and session:
        session.clear()
    g.caller = found
    return found


def session_credentials() -> tuple[int, str] | None:
    """The request's (user id, session id), for a long-lived response that checks again later."""
    user_id: Any = session.get("uid")
    token: Any = session.get("sid")
    return (user_id, token) if isinstance(user_id, int) and isinstance(token, str) else None


async def still_logged_in(rt: Runtime, credentials: tuple[int, str]) -> bool:
    """Whether the session a stream was opened with is still live (logout, a password change,
    deactivation, an admin or a timeout end it). Does not count as the user's activity.

    Takes the runtime: a streaming body runs after its handler returned, outside the app
    context."""
    user_id, token = credentials
    found = await rt.db(functools.partial(_load, touch=False), token, user_id, lifetimes(rt.settings))
    return found is not None


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
