"""Applying a gateway event (``POST /internal/whatsapp/events``) to the database.

One transaction per event: the ``whatsapp_event`` row (unique ``event_id``) and the event's
effect commit together, so a redelivered event is recognised and changes nothing, and a crash
between the two cannot happen. Why a table and not a Redis SET with a TTL: the dedupe must be
atomic with the write it protects and survive a Redis flush or failover; a SET would be
checked in one system and written in another (docs/ARCHITECTURE.md §7).

* ``message.inbound``: the sender's lead is upserted by (business, phone) with source
  ``whatsapp`` (a new one records a ``lead_created`` webhook); the message is stored once per
  WhatsApp ``message_id`` (channel whatsapp, direction inbound, status ``received`` = unread).
  A LID-only sender (no phone) is stored with ``peer`` = the LID and linked to a lead only when
  an earlier message mapped that LID to a phone (``whatsapp_contact``). A whole-message
  STOP/UNSUBSCRIBE/… opts the phone out (``api.services.whatsapp_optout``); START opts back in.
* ``message.status``: the outbound message's status moves forward only
  (server_ack < delivered < read; ``failed`` only before delivery).
* ``session.state`` / ``session.limited``: the last state is kept in ``whatsapp_session`` when
  the event comes from the business's current shard and is newer (epoch, seq) than the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import (
    Business,
    Channel,
    Lead,
    LeadSource,
    Message,
    MessageDirection,
    WhatsAppContact,
    WhatsAppEvent,
    WhatsAppSession,
    utcnow,
)
from api.services import webhooks, whatsapp_optout
from contracts.wa_events import STATUS_RANK, Event, Inbound, Limited, SessionInfo, StatusUpdate

__all__ = ["EVENT_RETENTION", "Outcome", "UnknownBusiness", "apply_event", "clean", "parse_time", "prune_events", "upsert_lead"]

UNREAD = "received"
# How long an event id is remembered: far longer than the gateway retries one (its durable queue
# retries until the API answers, in order per business); a message id is remembered for ever
# anyway (message.external_id), so only session/status events could be applied twice after this.
EVENT_RETENTION = timedelta(days=30)


class UnknownBusiness(LookupError):
    """The event names a business that does not exist (deleted, or a gateway misconfigured)."""


@dataclass(frozen=True)
class Outcome:
    """What became of an event: ``stored`` false + ``duplicate`` true for a redelivery;
    ``applied`` false (with ``note``) when it was recorded but changed nothing."""

    stored: bool
    duplicate: bool = False
    applied: bool = True
    note: str = ""
    delivery_id: int | None = None  # a webhook delivery to enqueue after the commit

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"stored": self.stored}
        if self.duplicate:
            body["duplicate"] = True
        if not self.applied:
            body["applied"] = False
            body["note"] = self.note
        return body


def clean(text: str | None) -> str:
    """Text as PostgreSQL can store it: without NUL characters (a phone can send anything)."""
    return (text or "").replace("\x00", "")


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; None when unreadable or without a zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def apply_event(session: Session, event: Event) -> Outcome:
    """Record and apply ``event``; the caller commits.

    Raises:
        UnknownBusiness: no business ``event.business_id``.
    """
    business_id = int(event.business_id)
    business = session.get(Business, business_id)
    if business is None:
        raise UnknownBusiness(f"business {event.business_id} does not exist")
    try:
        with session.begin_nested():
            session.add(WhatsAppEvent(
                business_id=business_id, event_id=event.event_id, type=event.type, shard_id=event.shard_id,
                epoch=event.epoch, seq=event.seq,
            ))
    except IntegrityError:
        return Outcome(stored=False, duplicate=True)
    data = event.data
    if isinstance(data, Inbound):
        return _inbound(session, business_id, data)
    if isinstance(data, StatusUpdate):
        return _status(session, business_id, data)
    if event.shard_id != business.whatsapp_shard:
        return Outcome(stored=True, applied=False,
                       note=f"from shard {event.shard_id}; the business is on shard {business.whatsapp_shard}")
    return _session_event(session, business_id, event)


def upsert_lead(session: Session, business_id: int, phone: str, name: str) -> tuple[Lead, bool]:
    """The business's lead for ``phone``, created (source whatsapp) when there is none."""
    lead = session.scalar(select(Lead).where(Lead.business_id == business_id, Lead.phone_e164 == phone))
    if lead is not None:
        return lead, False
    lead = Lead(business_id=business_id, phone_e164=phone, name=name[:200], source=LeadSource.WHATSAPP)
    try:
        with session.begin_nested():
            session.add(lead)
    except IntegrityError:  # created concurrently (another event, the SPA): use that one
        found = session.scalar(select(Lead).where(Lead.business_id == business_id, Lead.phone_e164 == phone))
        if found is None:
            raise
        return found, False
    return lead, True


def _inbound(session: Session, business_id: int, data: Inbound) -> Outcome:
    phone = data.from_phone
    if phone and data.from_lid:
        _map_lid(session, business_id, data.from_lid, phone)
    elif phone is None and data.from_lid:
        phone = session.scalar(select(WhatsAppContact.phone_e164).where(
            WhatsAppContact.business_id == business_id, WhatsAppContact.lid == data.from_lid))
    existing = session.scalar(select(Message.id).where(
        Message.business_id == business_id, Message.channel == Channel.WHATSAPP, Message.external_id == data.message_id))
    if existing is not None:
        return Outcome(stored=False, duplicate=True)
    lead, delivery_id = None, None
    if phone:
        lead, created = upsert_lead(session, business_id, phone, clean(data.push_name))
        lead.last_contact_at = utcnow()
        if not lead.name and data.push_name:
            lead.name = clean(data.push_name)[:200]  # the name the sender gave WhatsApp
        if created:
            delivery_id = webhooks.record_lead_event(session, business_id, webhooks.LEAD_CREATED, lead.id,
                                                     {"channel": "whatsapp"})
    media = [] if data.media is None else [{"mime": clean(data.media.mime)[:127], "caption": clean(data.media.caption)}]
    try:
        with session.begin_nested():
            session.add(Message(
                business_id=business_id, lead_id=lead.id if lead else None, channel=Channel.WHATSAPP,
                direction=MessageDirection.INBOUND, external_id=data.message_id, peer=phone or data.from_lid or "",
                body=clean(data.text), media=media, status=UNREAD, created_at=parse_time(data.timestamp) or utcnow(),
            ))
    except IntegrityError:  # the same message under another event id, concurrently
        return Outcome(stored=False, duplicate=True)
    note = ""
    keyword = whatsapp_optout.keyword_of(clean(data.text))
    if keyword is not None and phone:
        if keyword[0] == "out":
            whatsapp_optout.opt_out(session, business_id, phone, source="keyword", keyword=keyword[1])
        else:
            whatsapp_optout.opt_in(session, business_id, phone)
        note = f"opt-{keyword[0]}"
    elif keyword is not None:
        note = "opt-out keyword from a sender without a known phone: not recorded"
    return Outcome(stored=True, delivery_id=delivery_id, note=note)


def _map_lid(session: Session, business_id: int, lid: str, phone: str) -> None:
    row = session.scalar(select(WhatsAppContact).where(
        WhatsAppContact.business_id == business_id, WhatsAppContact.lid == lid))
    if row is not None:
        row.phone_e164 = phone
        return
    try:
        with session.begin_nested():
            session.add(WhatsAppContact(business_id=business_id, lid=lid, phone_e164=phone))
    except IntegrityError:
        pass  # mapped concurrently by another message of the same sender


def _status(session: Session, business_id: int, data: StatusUpdate) -> Outcome:
    message = session.scalar(select(Message).where(
        Message.business_id == business_id, Message.channel == Channel.WHATSAPP,
        Message.external_id == data.message_id, Message.direction == MessageDirection.OUTBOUND))
    if message is None:
        return Outcome(stored=True, applied=False, note=f"no outbound message {data.message_id}")
    current = STATUS_RANK.get(message.status, 0)
    if data.status == "failed":
        if current >= STATUS_RANK["delivered"] or message.status == "failed":
            return Outcome(stored=True, applied=False, note=f"already {message.status}")
    elif message.status == "failed" or STATUS_RANK[data.status] <= current:
        return Outcome(stored=True, applied=False, note=f"already {message.status}")
    message.status = data.status
    return Outcome(stored=True)


def _session_event(session: Session, business_id: int, event: Event) -> Outcome:
    row = session.get(WhatsAppSession, business_id)
    if row is None:
        row = WhatsAppSession(business_id=business_id, shard_id=event.shard_id, epoch=-1, seq=-1)
        session.add(row)
    elif row.shard_id == event.shard_id and (event.epoch, event.seq) < (row.epoch, row.seq):
        return Outcome(stored=True, applied=False,
                       note=f"older than the stored state (epoch {row.epoch}, seq {row.seq})")
    row.shard_id, row.epoch, row.seq = event.shard_id, event.epoch, event.seq
    data = event.data
    if isinstance(data, SessionInfo):
        row.state, row.reason, row.reported_at = data.state, clean(data.reason) or None, clean(data.updated_at)
        row.me_phone = data.me.phone if data.me else None
        row.me_lid = clean(data.me.lid) or None if data.me else None
        if data.state != "connected":
            row.limited_until = None if data.state in ("logged_out", "stopped") else row.limited_until
    elif isinstance(data, Limited):
        row.limited_until = parse_time(data.until)
        if row.limited_until is None:
            return Outcome(stored=True, applied=False, note=f"until {data.until!r} is not an ISO time with a zone")
    row.updated_at = utcnow()
    session.flush()
    return Outcome(stored=True)


def prune_events(session: Session, *, now: datetime | None = None, keep: timedelta = EVENT_RETENTION) -> int:
    """Forget event ids older than ``keep``; returns how many (the scheduler's daily
    ``jobs.maintenance.stale_cleanup`` calls it)."""
    cutoff = (now or utcnow()) - keep
    result = session.execute(delete(WhatsAppEvent).where(WhatsAppEvent.received_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
