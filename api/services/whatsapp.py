"""WhatsApp data for the SPA (``/api/whatsapp``): the stored session state, conversations,
messages, the outbound message record and local read marks. Session-only: the routes talk to
the gateway (``api.services.whatsapp_gateway``) and call these before and after.

A conversation is a lead with WhatsApp messages; an inbound message is unread while its status
is ``received`` and ``read`` once an agent opened the conversation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import Channel, Lead, Message, MessageDirection, WhatsAppSession, utcnow
from api.errors import Conflict, NotFound
from api.services import webhooks, whatsapp_optout
from api.services.common import Page, iso, page_rows
from api.services.whatsapp_events import UNREAD, upsert_lead

__all__ = [
    "conversations",
    "lead_messages",
    "mark_read",
    "message_json",
    "recipient",
    "record_outbound",
    "stored_session",
]


def stored_session(session: Session, business_id: int) -> dict[str, Any] | None:
    """The last state a gateway event reported, or None when none ever did."""
    row = session.get(WhatsAppSession, business_id)
    if row is None:
        return None
    return {
        "shard_id": row.shard_id, "state": row.state, "reason": row.reason,
        "me": {"phone": row.me_phone, "lid": row.me_lid} if row.me_phone or row.me_lid else None,
        "limited_until": iso(row.limited_until), "updated_at": row.reported_at or iso(row.updated_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id, "lead_id": message.lead_id, "direction": message.direction, "message_id": message.external_id,
        "peer": message.peer, "body": message.body, "media": message.media, "status": message.status,
        "created_at": iso(message.created_at),
    }


def _lead(session: Session, business_id: int, lead_id: int) -> Lead:
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.business_id == business_id))
    if lead is None:
        raise NotFound(f"lead {lead_id} not found", code="lead_not_found")
    return lead


def recipient(session: Session, business_id: int, lead_id: int | None, phone: str | None) -> str:
    """The phone to send to: the lead's, or ``phone``.

    Raises:
        NotFound: the lead is not the business's.
        Conflict: the phone opted out (``opted_out``).
    """
    to = _lead(session, business_id, lead_id).phone_e164 if lead_id is not None else phone
    assert to is not None  # the body model requires one of them
    if whatsapp_optout.is_opted_out(session, business_id, to):
        raise Conflict(f"{to} opted out of WhatsApp messages from this business (they can send START)",
                       code="opted_out", details={"phone": to})
    return to


def record_outbound(
    session: Session, business_id: int, to: str, text: str, message_id: str
) -> tuple[dict[str, Any], int | None]:
    """Store the message the gateway accepted (once per ``message_id``: a retried send with the
    same idempotency key returns the row already stored), linked to the phone's lead (created
    with source whatsapp when there is none). Returns its JSON and a webhook delivery to enqueue."""
    existing = session.scalar(select(Message).where(
        Message.business_id == business_id, Message.channel == Channel.WHATSAPP, Message.external_id == message_id))
    if existing is not None:
        return message_json(existing), None
    lead, created = upsert_lead(session, business_id, to, "")
    lead.last_contact_at = utcnow()
    delivery_id = None
    if created:
        delivery_id = webhooks.record_lead_event(session, business_id, webhooks.LEAD_CREATED, lead.id, {"channel": "whatsapp"})
    message = Message(business_id=business_id, lead_id=lead.id, channel=Channel.WHATSAPP,
                      direction=MessageDirection.OUTBOUND, external_id=message_id, peer=to, body=text, status="sent")
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same send stored concurrently
        found = session.scalar(select(Message).where(
            Message.business_id == business_id, Message.channel == Channel.WHATSAPP, Message.external_id == message_id))
        if found is None:
            raise
        return message_json(found), None
    return message_json(message), delivery_id


def conversations(session: Session, business_id: int, page: int, per_page: int) -> Page:
    """Leads with WhatsApp messages, the latest conversation first: each with its last message
    and its unread count."""
    unread = func.sum(case((
        (Message.direction == MessageDirection.INBOUND) & (Message.status == UNREAD), 1), else_=0))
    grouped = (
        select(Message.lead_id, func.max(Message.id).label("last_id"), unread.label("unread"),
               func.max(Message.created_at).label("last_at"))
        .where(Message.business_id == business_id, Message.channel == Channel.WHATSAPP, Message.lead_id.is_not(None))
        .group_by(Message.lead_id)
    )
    total = int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)
    rows = session.execute(
        grouped.order_by(func.max(Message.created_at).desc(), Message.lead_id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    lead_ids = [row.lead_id for row in rows]
    leads = {lead.id: lead for lead in session.scalars(
        select(Lead).where(Lead.business_id == business_id, Lead.id.in_(lead_ids)))}
    last = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_([row.last_id for row in rows])))}
    items = []
    for row in rows:
        lead = leads[row.lead_id]
        items.append({
            "lead": {"id": lead.id, "name": lead.name, "phone_e164": lead.phone_e164, "status": lead.status},
            "last_message": message_json(last[row.last_id]),
            "unread": int(row.unread or 0),
        })
    return Page(items, total, page, per_page)


def lead_messages(session: Session, business_id: int, lead_id: int, page: int, per_page: int) -> Page:
    """The lead's WhatsApp messages, newest first."""
    _lead(session, business_id, lead_id)
    query = (
        select(Message)
        .where(Message.business_id == business_id, Message.lead_id == lead_id, Message.channel == Channel.WHATSAPP)
        .order_by(Message.created_at.desc(), Message.id.desc())
    )
    rows, total = page_rows(session, query, page, per_page)
    return Page([message_json(m) for m in rows], total, page, per_page)


def mark_read(session: Session, business_id: int, lead_id: int) -> tuple[str, list[str]]:
    """Mark the lead's unread inbound WhatsApp messages read; the chat (phone) and the WhatsApp
    ids just marked, for the gateway's read receipts."""
    lead = _lead(session, business_id, lead_id)
    unread = session.scalars(select(Message).where(
        Message.business_id == business_id, Message.lead_id == lead_id, Message.channel == Channel.WHATSAPP,
        Message.direction == MessageDirection.INBOUND, Message.status == UNREAD)).all()
    for message in unread:
        message.status = "read"
    return lead.phone_e164, [m.external_id for m in unread]
