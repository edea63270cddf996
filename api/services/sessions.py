"""Server-side sessions (sync services): the ``user_session`` table.

The signed cookie carries a random session id (``secrets.token_urlsafe(32)``, 256 bits); the
table holds its SHA-256, the user, when it began and when it was last seen. A cookie is valid
only while its row exists, the row is younger than the absolute lifetime
(SESSION_MAX_AGE_SECONDS, counted from login: Quart re-signs the cookie on every response, so
the cookie's own timestamp slides and cannot enforce it) and was seen within the idle timeout
(SESSION_IDLE_SECONDS). Logout, a password change and deactivation delete rows.

Fail-closed: the check reads the database the request needs anyway; when the database is down,
no session is valid.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import final

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from api.db.models import UserSession

__all__ = ["Lifetimes", "end", "end_all", "is_live", "purge_expired", "start"]

# last_seen_at is written at most once per this many seconds per session (at most a tenth of the
# idle timeout), so a busy page does not turn every read into a write; the effective idle
# timeout is therefore between idle - TOUCH and idle.
MAX_TOUCH_INTERVAL_SECONDS = 60


@final
@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long a session lives: ``idle_seconds`` since last seen, ``max_age_seconds`` since login."""

    idle_seconds: int
    max_age_seconds: int

    @property
    def touch_interval(self) -> timedelta:
        return timedelta(seconds=min(MAX_TOUCH_INTERVAL_SECONDS, self.idle_seconds / 10))


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user_id: int, now: datetime) -> str:
    """Record a new session for ``user_id``; returns the id to put in the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_key(token), user_id=user_id, created_at=now, last_seen_at=now))
    session.flush()
    return token


def is_live(
    session: Session, token: str, user_id: int, now: datetime, lifetimes: Lifetimes, *, touch: bool = True
) -> bool:
    """Whether ``token`` is a live session of ``user_id``; a live one is marked seen at ``now``
    (unless ``touch`` is False: an open event stream is not the user's activity), an expired
    one is deleted."""
    key = _key(token)
    row = session.execute(
        select(UserSession.user_id, UserSession.created_at, UserSession.last_seen_at).where(UserSession.id == key)
    ).one_or_none()
    if row is None or row.user_id != user_id:
        return False
    # Core statements, not ORM flushes: a concurrent logout may delete the row between the read
    # and the write, and that must read as "ended", not as a stale-data error.
    if (now - row.last_seen_at > timedelta(seconds=lifetimes.idle_seconds)
            or now - row.created_at > timedelta(seconds=lifetimes.max_age_seconds)):
        session.execute(delete(UserSession).where(UserSession.id == key))
        return False
    if touch and now - row.last_seen_at >= lifetimes.touch_interval:
        session.execute(update(UserSession).where(UserSession.id == key).values(last_seen_at=now))
    return True


def end(session: Session, token: str) -> int:
    """Delete one session; returns how many rows went (0 or 1)."""
    result = session.execute(delete(UserSession).where(UserSession.id == _key(token)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def end_all(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Delete every session of ``user_id`` but ``keep`` (a token); returns how many went."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        query = query.where(UserSession.id != _key(keep))
    result = session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_expired(session: Session, now: datetime, lifetimes: Lifetimes) -> int:
    """Delete every expired session (of any user): run at login, so the table stays small."""
    result = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.last_seen_at < now - timedelta(seconds=lifetimes.idle_seconds),
                UserSession.created_at < now - timedelta(seconds=lifetimes.max_age_seconds),
            )
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
