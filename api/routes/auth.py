"""``/api/auth``: login, logout, me. Login is rate-limited per account and per client IP."""

from __future__ import annotations

from typing import Any

import redis
from pydantic import Field
from quart import Blueprint, Response, jsonify, request, session

from api import keys
from api.auth import require
from api.errors import TooManyRequests, Unauthorized
from api.runtime import current_runtime
from api.security import new_csrf_token, password_fingerprint
from api.services.accounts import authenticate, user_json
from api.validation import Strict, parse_body

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


class LoginBody(Strict):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=1024)


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
async def login() -> Response:
    body = await parse_body(LoginBody)
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
async def logout() -> Response:
    await require()
    session.clear()
    return jsonify({"logged_out": True})


@bp.get("/me")
async def me() -> Response:
    found = await require()
    from api.db.models import User

    user: Any = await current_runtime().db(lambda s: s.get(User, found.user_id))
    return jsonify({"user": user_json(user), "csrf_token": session.get("csrf")})
