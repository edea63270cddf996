"""Users and login (sync services)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import User, utcnow
from api.security import verify_password

__all__ = ["authenticate", "user_json"]


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "business_id": user.business_id,
        "is_active": user.is_active,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials (one argon2 verification either way)."""
    user = session.scalar(select(User).where(User.email == email.lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user
