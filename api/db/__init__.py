"""The API's database: models, engine and session helpers (sync SQLAlchemy 2, run in threads)."""

from __future__ import annotations

from api.db.engine import make_engine, make_session_factory, session_scope
from api.db.models import (
    Attachment,
    Base,
    Broadcast,
    BroadcastRecipient,
    Business,
    Call,
    EmailAccount,
    Lead,
    Message,
    User,
)

__all__ = [
    "Attachment",
    "Base",
    "Broadcast",
    "BroadcastRecipient",
    "Business",
    "Call",
    "EmailAccount",
    "Lead",
    "Message",
    "User",
    "make_engine",
    "make_session_factory",
    "session_scope",
]
