"""Passwords, sessions, CSRF and roles.

* Passwords: argon2id (argon2-cffi defaults, RFC 9106 low-memory profile).
* Sessions: Quart's signed cookie (itsdangerous, SECRET_KEY), HttpOnly, SameSite=Lax, Secure in
  production. It holds the user id, a CSRF token and a random session id that must name a live
  row of ``user_session`` on every request (``api.services.sessions``: logout, password change,
  deactivation, an admin, the idle and absolute timeouts end it on the server).
* CSRF: every state-changing request under ``/api/`` must echo the session's token in the
  ``X-CSRF-Token`` header (login is exempt: it has no session yet and sets one). Twilio
  webhooks are authenticated by signature instead and ``/internal/`` by INTERNAL_SECRET.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from quart import request, session

from api.db.models import Role
from api.errors import Forbidden, NotFound, Unauthorized

__all__ = [
    "CSRF_HEADER",
    "Caller",
    "csrf_protect",
    "hash_password",
    "require_role",
    "verify_password",
]

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_EXEMPT = frozenset({"/api/auth/login"})
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
RANK = {Role.AGENT: 0, Role.ADMIN: 1, Role.OWNER: 2, Role.SYSTEM_ADMIN: 3}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check; an unknown user (``None``) still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_protect() -> None:
    """Refuse state-changing ``/api/`` requests whose header does not match the session token.

    Raises:
        Forbidden: code ``csrf_failed``.
    """
    if request.method in SAFE_METHODS or not request.path.startswith("/api/") or request.path in CSRF_EXEMPT:
        return
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected:
        return  # no session: the route's own authentication answers 401
    if not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header", code="csrf_failed")


@final
@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user of a request."""

    user_id: int
    email: str
    role: Role
    business_id: int | None

    @property
    def is_system_admin(self) -> bool:
        return self.role is Role.SYSTEM_ADMIN

    def scope(self, business_id: int | None) -> int:
        """The business a query must be limited to.

        A system admin may name any business; everyone else gets their own, and naming another
        one reads as "not found" (never "forbidden": existence is not disclosed).

        Raises:
            NotFound: another business was named by a non-admin.
            Unprocessable: a system admin gave no business.
        """
        if self.is_system_admin:
            if business_id is None:
                from api.errors import Unprocessable

                raise Unprocessable("business_id is required for a system admin", code="business_required")
            return business_id
        assert self.business_id is not None
        if business_id is not None and business_id != self.business_id:
            raise NotFound("no such business", code="business_not_found")
        return self.business_id


def require_role(caller: Caller | None, minimum: Role) -> Caller:
    """Raises Unauthorized without a session, Forbidden below ``minimum``."""
    if caller is None:
        raise Unauthorized("log in first", code="not_authenticated")
    if RANK[caller.role] < RANK[minimum]:
        raise Forbidden(f"requires role {minimum.value} or higher", code="role_required")
    return caller
