"""``/api/auth``: login, logout, log out everywhere, me. Login is rate-limited per account and per
client IP; each login is a server-side session (``api.services.sessions``) that logout ends."""

from __future__ import annotations

from typing import Any

import redis
from quart import Blueprint, Response, jsonify, request, session
from quart_schema import tag_blueprint, validate_request

from api import keys
from api.auth import authenticated, lifetimes
from api.db.models import User, utcnow
from api.errors import TooManyRequests, Unauthorized
from api.openapi import responds
from api.responses import LoggedOut, SessionInfo, SessionsEnded
from api.runtime import current_runtime
from api.schemas import LoginBody
from api.security import Caller, new_csrf_token
from api.services import sessions
from api.services.accounts import authenticate, user_json

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
tag_blueprint(bp, ["auth"])


def _count_attempt(client: redis.Redis, account: str, ip: str, window: int) -> tuple[int, int, int]:
    pipe = client.pipeline(transaction=True)
    pipe.incr(keys.login_account(account))
    pipe.expire(keys.login_account(account), window, nx=True)
    pipe.incr(keys.login_ip(ip))
    pipe.expire(keys.login_ip(ip), window, nx=True)
    pipe.ttl(keys.login_account(account))
    per_account, _, per_ip, _, ttl = pipe.execute()
    return int(per_account), int(per_ip), max(int(ttl), 1)


@bp.post("/login")
@validate_request(LoginBody)
@responds(200, "logged in: the user and the CSRF token (the session cookie is set)", model=SessionInfo)
@responds(401, "wrong email or password")
@responds(429, "too many attempts for this account or address (Retry-After says when to retry)")
async def login(data: LoginBody) -> Response:
    """Log in (sets the session cookie, returns the CSRF token)"""
    body = data
    rt = current_runtime()
    settings = rt.settings
    email = body.email.lower()
    ip = request.remote_addr or "unknown"
    per_account, per_ip, ttl = await rt.redis_call(_count_attempt, email, ip, settings.login_window_seconds)
    if per_account > settings.login_attempts_per_account or per_ip > settings.login_attempts_per_ip:
        raise TooManyRequests(
            "too many login attempts; try again later", retry_after_seconds=ttl,
            details={"scope": "account" if per_account > settings.login_attempts_per_account else "ip"},
        )
    limits = lifetimes(settings)
    previous: Any = session.get("sid")  # this browser's earlier login, replaced by this one

    def log_in(db: Any) -> tuple[dict[str, Any], str] | None:
        user = authenticate(db, email, body.password)
        if user is None:
            return None
        now = utcnow()
        sessions.purge_expired(db, now, limits)
        if isinstance(previous, str):
            sessions.end(db, previous)
        return user_json(user), sessions.start(db, user.id, now)

    found = await rt.db(log_in)
    if found is None:
        raise Unauthorized("wrong email or password", code="bad_credentials")
    user, token = found
    await rt.redis_call(lambda c: c.delete(keys.login_account(email)))
    session.clear()
    session.permanent = True
    session["uid"] = user["id"]
    session["sid"] = token
    session["csrf"] = new_csrf_token()
    return jsonify({"user": user, "csrf_token": session["csrf"]})


@bp.post("/logout")
@authenticated()
@responds(200, "logged out: this session is ended on the server, not only its cookie", model=LoggedOut)
async def logout(caller: Caller) -> Response:
    """Log out"""
    await current_runtime().db(sessions.end, str(session["sid"]))
    session.clear()
    return jsonify({"logged_out": True})


@bp.post("/logout-everywhere")
@authenticated()
@responds(200, "every session of the caller, this one included, is ended", model=SessionsEnded)
async def logout_everywhere(caller: Caller) -> Response:
    """Log out everywhere (every session of the caller)"""
    ended = await current_runtime().db(sessions.end_all, caller.user_id)
    session.clear()
    return jsonify({"ended": ended})


@bp.get("/me")
@authenticated()
@responds(200, "the user and the CSRF token", model=SessionInfo)
async def me(caller: Caller) -> Response:
    """The logged-in user and CSRF token"""
    user: Any = await current_runtime().db(lambda s: s.get(User, caller.user_id))
    return jsonify({"user": user_json(user), "csrf_token": session.get("csrf")})
