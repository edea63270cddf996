"""``/api/auth``: login, logout, me. Login is rate-limited per account and per client IP."""

from __future__ import annotations

from typing import Any

import redis
from quart import Blueprint, Response, jsonify, request, session
from quart_schema import tag_blueprint, validate_request

from api import keys
from api.auth import authenticated
from api.errors import TooManyRequests, Unauthorized
from api.openapi import responds
from api.responses import LoggedOut, SessionInfo
from api.runtime import current_runtime
from api.schemas import LoginBody
from api.security import Caller, new_csrf_token, password_fingerprint
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
    user = await rt.db(authenticate, email, body.password)
    if user is None:
        raise Unauthorized("wrong email or password", code="bad_credentials")
    await rt.redis_call(lambda c: c.delete(keys.login_account(email)))
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["pwf"] = password_fingerprint(user.password_hash)
    session["csrf"] = new_csrf_token()
    return jsonify({"user": user_json(user), "csrf_token": session["csrf"]})


@bp.post("/logout")
@authenticated()
@responds(200, "logged out", model=LoggedOut)
async def logout(caller: Caller) -> Response:
    """Log out"""
    session.clear()
    return jsonify({"logged_out": True})


@bp.get("/me")
@authenticated()
@responds(200, "the user and the CSRF token", model=SessionInfo)
async def me(caller: Caller) -> Response:
    """The logged-in user and CSRF token"""
    from api.db.models import User

    user: Any = await current_runtime().db(lambda s: s.get(User, caller.user_id))
    return jsonify({"user": user_json(user), "csrf_token": session.get("csrf")})
