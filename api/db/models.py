"""SQLAlchemy 2 models for docs/ARCHITECTURE.md §6.

Every row but ``user`` (a system_admin has no business) belongs to one business, and every
service query filters by it. Values that leave the process are ``StrEnum``s stored as strings
with a CHECK constraint, so SQLite and Postgres enforce the same sets. Constraint names follow
one convention so Alembic batch mode can drop and recreate them on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Attachment",
    "AttachmentStatus",
    "Base",
    "Broadcast",
    "BroadcastRecipient",
    "BroadcastStatus",
    "Business",
    "Call",
    "CallDirection",
    "CallStatus",
    "Channel",
    "EmailAccount",
    "Lead",
    "LeadSource",
    "LeadStatus",
    "DeliveryStatus",
    "Message",
    "MessageDirection",
    "Role",
    "TlsMode",
    "User",
    "UserSession",
    "WebhookDelivery",
    "WhatsAppContact",
    "WhatsAppEvent",
    "WhatsAppOptOut",
    "WhatsAppSession",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"
    OWNER = "owner"
    SYSTEM_ADMIN = "system_admin"


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    WON = "won"
    LOST = "lost"


class LeadSource(StrEnum):
    CALL = "call"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    MANUAL = "manual"
    IMPORT = "import"


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(StrEnum):
    """Twilio's call statuses (https://www.twilio.com/docs/voice/api/call-resource#call-status-values)
    plus ``rejected`` for calls the voice webhook refused."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"
    REJECTED = "rejected"


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class MessageDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class BroadcastStatus(StrEnum):
    ACCEPTED = "accepted"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class TlsMode(StrEnum):
    SSL = "ssl"  # IMAP over TLS (port 993)
    STARTTLS = "starttls"  # plain IMAP upgraded with STARTTLS (port 143); never sent in clear


class AttachmentStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or being retried
    DELIVERED = "delivered"
    FAILED = "failed"  # refused (4xx) or retries exhausted: dead-lettered


def _one_of(column: str, enum: type[StrEnum], name: str) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Business(Base):
    __tablename__ = "business"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone_e164: Mapped[str] = mapped_column(String(20), unique=True)
    whatsapp_number: Mapped[str | None] = mapped_column(String(20))
    whatsapp_shard: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    greeting: Mapped[str] = mapped_column(Text, default="", server_default="")
    brain: Mapped[str] = mapped_column(String(32), default="receptionist", server_default="receptionist")
    brain_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    max_concurrent_calls: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Outbound business webhooks (jobs.webhooks): empty URL = none. The secret signs each POST
    # (HMAC-SHA256); stored encrypted at rest like the email passwords (jobs.crypto).
    webhook_url: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    webhook_secret_encrypted: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Recordings older than this are deleted by the scheduler's retention job; 0 keeps them.
    recording_retention_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("whatsapp_shard >= 1", name="whatsapp_shard_positive"),
        CheckConstraint("max_concurrent_calls >= 0", name="max_calls_nonnegative"),
        CheckConstraint("recording_retention_days >= 0", name="retention_nonnegative"),
    )


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        _one_of("role", Role, "role"),
        # Everyone but a system admin works for exactly one business.
        CheckConstraint("role = 'system_admin' OR business_id IS NOT NULL", name="business_required"),
    )


class UserSession(Base):
    """A login, checked on every request: the signed cookie carries a random session id and this
    row is what makes it valid (logout, a password change and deactivation delete rows).

    The primary key is the SHA-256 of the cookie's session id, so a leaked copy of this table
    holds no usable session.
    """

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # the absolute lifetime counts from here
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the idle timeout from here


class Lead(Base):
    __tablename__ = "lead"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=LeadStatus.NEW, server_default="new")
    source: Mapped[str] = mapped_column(String(16), default=LeadSource.MANUAL, server_default="manual")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Filled by post-call processing (jobs.postcall): the latest call's summary and what the
    # caller wanted.
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    intent: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_contact_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        UniqueConstraint("business_id", "phone_e164"),
        Index("ix_lead_business_status", "business_id", "status"),
        _one_of("status", LeadStatus, "status"),
        _one_of("source", LeadSource, "source"),
    )


class Call(Base):
    __tablename__ = "call"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"), index=True)
    direction: Mapped[str] = mapped_column(String(16), default=CallDirection.INBOUND)
    from_number: Mapped[str] = mapped_column(String(32), default="", server_default="")
    to_number: Mapped[str] = mapped_column(String(32), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=CallStatus.INITIATED)
    end_reason: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    billed_duration_seconds: Mapped[int | None] = mapped_column(Integer)  # Twilio's CallDuration
    recording_path: Mapped[str | None] = mapped_column(String(500))
    transcript: Mapped[list[Any]] = mapped_column(default=list)
    events: Mapped[dict[str, Any]] = mapped_column(default=dict)  # dtmf, metrics, brain summary
    summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    summary_source: Mapped[str] = mapped_column(String(16), default="", server_default="")  # openai/offline
    brain: Mapped[str | None] = mapped_column(String(32))
    finalized_at: Mapped[datetime | None] = mapped_column()
    processed_at: Mapped[datetime | None] = mapped_column()  # post-call processing done
    recording_deleted_at: Mapped[datetime | None] = mapped_column()  # retention removed the file
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_call_business_created", "business_id", "created_at"),
        _one_of("direction", CallDirection, "direction"),
        _one_of("status", CallStatus, "status"),
    )


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    peer: Mapped[str] = mapped_column(String(254), default="", server_default="")  # phone or address
    subject: Mapped[str] = mapped_column(Text, default="", server_default="")  # email only
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    media: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(32), default="received", server_default="received")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("business_id", "channel", "external_id"),
        _one_of("channel", Channel, "channel"),
        _one_of("direction", MessageDirection, "direction"),
    )


class Broadcast(Base):
    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    channel: Mapped[str] = mapped_column(String(16), default=Channel.WHATSAPP)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=BroadcastStatus.ACCEPTED)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Media sent with the text (an uploaded attachment of the same business), or none.
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The id of the last run_broadcast job queued for it: the watchdog asks RQ whether that job
    # is still queued, scheduled or running before it queues another (jobs.maintenance).
    job_id: Mapped[str] = mapped_column(String(96), default="", server_default="")
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        _one_of("status", BroadcastStatus, "status"),
        _one_of("channel", Channel, "channel"),
        Index("ix_broadcast_business_created", "business_id", "created_at"),
    )


class BroadcastRecipient(Base):
    __tablename__ = "broadcast_recipient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcast.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column()
    # A temporary failure puts the recipient back to `pending` not before this time (backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    message_id: Mapped[str | None] = mapped_column(String(128))  # the gateway's WhatsApp message id
    # Every status change stamps it, so the broadcast watchdog can tell a recipient stuck in
    # `sending` (its sender died) from one being sent now. Null only for rows older than it.
    updated_at: Mapped[datetime | None] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status"
        ),
        Index("ix_broadcast_recipient_broadcast_status", "broadcast_id", "status"),
    )


class EmailAccount(Base):
    __tablename__ = "email_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    imap_host: Mapped[str] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(Integer, default=993, server_default="993")
    imap_username: Mapped[str] = mapped_column(String(254))
    secret_encrypted: Mapped[str] = mapped_column(Text)  # Fernet token; never the plain password
    tls_mode: Mapped[str] = mapped_column(String(16), default=TlsMode.SSL, server_default="ssl")
    mailbox: Mapped[str] = mapped_column(String(255), default="INBOX", server_default="INBOX")
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    uid_validity: Mapped[int | None] = mapped_column(BigInteger)
    # Sync bookkeeping (jobs.email): due when next_sync_at <= now; failures back off.
    sync_interval_seconds: Mapped[int] = mapped_column(Integer, default=300, server_default="300")
    next_sync_at: Mapped[datetime | None] = mapped_column(index=True)
    last_synced_at: Mapped[datetime | None] = mapped_column()
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("business_id", "address"),
        _one_of("tls_mode", TlsMode, "tls_mode"),
    )


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    thumbnail_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=AttachmentStatus.PENDING, server_default="pending")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (_one_of("status", AttachmentStatus, "status"),)


class WebhookDelivery(Base):
    """One outbound business webhook event and its delivery attempts (jobs.webhooks)."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64), unique=True)  # sent to the receiver for dedupe
    event: Mapped[str] = mapped_column(String(32))  # call_completed, lead_created, lead_updated
    url: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (
        Index("ix_webhook_delivery_business_created", "business_id", "created_at"),
        _one_of("status", DeliveryStatus, "status"),
    )


class WhatsAppEvent(Base):
    """A gateway event already processed (``POST /internal/whatsapp/events``): the unique
    ``event_id`` makes a redelivery a no-op. Written in the same transaction as the event's
    effect, so an event is applied exactly once even if Redis is flushed (docs/ARCHITECTURE.md §7)."""

    __tablename__ = "whatsapp_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    shard_id: Mapped[int] = mapped_column(Integer)
    epoch: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WhatsAppOptOut(Base):
    """A phone that asked the business (STOP, UNSUBSCRIBE, …) to send it nothing more; the
    broadcasts skip it (``api.services.whatsapp_optout``)."""

    __tablename__ = "whatsapp_opt_out"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    phone_e164: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(16), default="keyword", server_default="keyword")  # keyword/manual
    keyword: Mapped[str] = mapped_column(String(32), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("business_id", "phone_e164"),)


class WhatsAppContact(Base):
    """What WhatsApp told us about a sender's LID (``…@lid``): the phone it belongs to, learnt
    from a message that carried both. A later LID-only message links to that phone's lead."""

    __tablename__ = "whatsapp_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    lid: Mapped[str] = mapped_column(String(128))
    phone_e164: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("business_id", "lid"),)


class WhatsAppSession(Base):
    """The last session state a gateway reported for the business (``session.state`` and
    ``session.limited`` events): what ``GET /api/whatsapp/status`` shows while the gateway is
    down. ``epoch``/``seq`` of the last applied event: an older one is not applied over it."""

    __tablename__ = "whatsapp_session"

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), primary_key=True)
    shard_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="stopped", server_default="stopped")
    reason: Mapped[str | None] = mapped_column(String(64))
    me_phone: Mapped[str | None] = mapped_column(String(20))
    me_lid: Mapped[str | None] = mapped_column(String(128))
    limited_until: Mapped[datetime | None] = mapped_column()
    epoch: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reported_at: Mapped[str] = mapped_column(String(40), default="", server_default="")  # the gateway's updated_at
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "state IN ('stopped', 'starting', 'qr', 'connected', 'logged_out', 'failed')", name="state"
        ),
    )
