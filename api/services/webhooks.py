"""Outbound business webhooks: the data side, shared by the API and the jobs.

An event (``call_completed``, ``lead_created``, ``lead_updated``) becomes a ``webhook_delivery``
row in the same transaction as the change it reports, when the business has a webhook URL;
the caller enqueues ``jobs.webhooks.deliver`` for the row *after* the commit (a job must never
look for a row that is not committed yet). The row keeps the URL and the JSON body as they were
when the event happened, so a retry sends the same bytes (re-signed with a fresh timestamp),
and the receiver deduplicates on the event id. docs/ARCHITECTURE.md §5 describes delivery.

The worker imports this module (the tests' boundary allow-list names it): keep it to data
logic and the URL check, no HTTP.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.db.models import Business, Call, DeliveryStatus, Lead, WebhookDelivery, utcnow
from api.errors import Conflict, NotFound
from api.services.common import Page, iso, paginate

__all__ = [
    "CALL_COMPLETED",
    "EVENTS",
    "LEAD_CREATED",
    "LEAD_UPDATED",
    "Attempt",
    "UnsafeUrl",
    "call_data",
    "call_event_id",
    "check_url",
    "claim",
    "delivery_json",
    "lead_data",
    "list_deliveries",
    "prepare_redelivery",
    "record_attempt",
    "record_event",
    "record_lead_event",
    "unsent",
]

CALL_COMPLETED = "call_completed"
LEAD_CREATED = "lead_created"
LEAD_UPDATED = "lead_updated"
EVENTS = (CALL_COMPLETED, LEAD_CREATED, LEAD_UPDATED)
MAX_ERROR = 500
UNSENT_AFTER = timedelta(minutes=1)
LOST_AFTER = timedelta(hours=3)  # longer than DELIVER_WEBHOOK's retries (10 s … 2 h, ≈ 2.6 h in all)
_CALL_EVENTS = uuid.UUID("5b0a4c39-5d6e-4f0e-9a59-7c2f4f1d8a10")  # uuid5 namespace of call events

Resolver = Callable[[str, int], Sequence[str]]


class UnsafeUrl(ValueError):
    """A webhook URL that is malformed, does not resolve, or points at a private address while
    they are not allowed (WEBHOOK_ALLOW_PRIVATE)."""


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"host {host!r} does not resolve: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def check_url(url: str, *, allow_private: bool, resolve: Resolver = _resolve) -> None:
    """Refuse what a webhook must not be: not http(s), credentials in the URL, no host, or
    (unless ``allow_private``) a host any of whose addresses is loopback, private, link-local,
    multicast, reserved or unspecified (server-side request forgery into our own network).

    Checked when the URL is saved and again before every attempt (DNS may have changed).

    Raises:
        UnsafeUrl: naming the problem.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("the webhook URL must start with https:// or http://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the webhook URL must not carry credentials")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("the webhook URL has no host")
    if allow_private:
        return
    for address in resolve(host, port or (443 if parts.scheme == "https" else 80)):
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise UnsafeUrl(f"host {host!r} resolves to {ip}, a private or reserved address")


def call_event_id(call_sid: str) -> str:
    """The event id of a call's ``call_completed``: one per call, so processing the call again
    does not announce it twice."""
    return uuid.uuid5(_CALL_EVENTS, call_sid).hex


def lead_data(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "phone_e164": lead.phone_e164,
        "name": lead.name,
        "email": lead.email,
        "status": lead.status,
        "source": lead.source,
        "summary": lead.summary,
        "intent": lead.intent,
        "created_at": iso(lead.created_at),
        "last_contact_at": iso(lead.last_contact_at),
    }


def call_data(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "call_sid": call.call_sid,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "status": call.status,
        "end_reason": call.end_reason,
        "started_at": iso(call.started_at),
        "ended_at": iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
        "summary": call.summary,
        "summary_source": call.summary_source,
        "lead_id": call.lead_id,
    }


def record_event(
    session: Session, business_id: int, event: str, data: dict[str, Any], *, event_id: str | None = None
) -> int | None:
    """Add the delivery row of ``event`` when the business has a webhook URL; its id, or None
    (no URL, or ``event_id`` already recorded). Enqueue the delivery after the commit."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    business = session.get(Business, business_id)
    if business is None or not business.webhook_url:
        return None
    if event_id is not None and session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)
    ) is not None:
        return None
    event_id = event_id or uuid.uuid4().hex
    now = utcnow()
    row = WebhookDelivery(
        business_id=business_id, event_id=event_id, event=event, url=business.webhook_url,
        payload={"id": event_id, "event": event, "created_at": iso(now), "business_id": business_id, "data": data},
        status=DeliveryStatus.PENDING, created_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def record_lead_event(
    session: Session, business_id: int, event: str, lead_id: int, extra: dict[str, Any] | None = None
) -> int | None:
    """``record_event`` for ``lead_created``/``lead_updated``: ``{"lead": {…}, **extra}``."""
    lead = session.get(Lead, lead_id)
    if lead is None or lead.business_id != business_id:
        return None
    session.flush()  # the lead's defaults and timestamps, as stored
    return record_event(session, business_id, event, {"lead": lead_data(lead), **(extra or {})})


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "business_id": row.business_id,
        "event_id": row.event_id,
        "event": row.event,
        "url": row.url,
        "status": row.status,
        "attempts": row.attempts,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "payload": row.payload,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "delivered_at": iso(row.delivered_at),
    }


def list_deliveries(
    session: Session, business_id: int, *, status: str | None, event: str | None, page: int, per_page: int
) -> Page:
    """The business's deliveries, newest first."""
    query = select(WebhookDelivery).where(WebhookDelivery.business_id == business_id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    if event:
        query = query.where(WebhookDelivery.event == event)
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    return paginate(session, query, page, per_page, delivery_json)


def prepare_redelivery(session: Session, business_id: int, delivery_id: int) -> dict[str, Any]:
    """Put a delivered or failed delivery back to pending (the caller enqueues it after the
    commit, with a job id derived from its attempts so far).

    Raises:
        NotFound: no such delivery in the business.
        Conflict: the delivery is still pending (queued or waiting for a retry).
    """
    row = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.business_id == business_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} not found", code="delivery_not_found")
    if row.status == DeliveryStatus.PENDING:
        raise Conflict(
            f"webhook delivery {delivery_id} is still pending (queued or waiting for a retry)",
            code="delivery_pending",
        )
    row.status = DeliveryStatus.PENDING
    row.last_error = ""
    row.last_status_code = None
    row.delivered_at = None
    session.flush()
    return delivery_json(row)


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one delivery attempt sends (read in one short transaction; the POST runs outside)."""

    delivery_id: int
    business_id: int
    event: str
    event_id: str
    url: str
    payload: dict[str, Any]
    secret_encrypted: str


def claim(session: Session, delivery_id: int) -> Attempt | None:
    """The attempt to make for a pending delivery, or None when it is delivered or failed
    already (a duplicate job, or a retry after a permanent failure).

    Raises:
        LookupError: no such delivery (deleted with its business).
    """
    row = session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise LookupError(f"webhook delivery {delivery_id} does not exist")
    if row.status != DeliveryStatus.PENDING:
        return None
    business = session.get(Business, row.business_id)
    return Attempt(
        delivery_id=row.id, business_id=row.business_id, event=row.event, event_id=row.event_id,
        url=row.url, payload=dict(row.payload),
        secret_encrypted=business.webhook_secret_encrypted if business is not None else "",
    )


def record_attempt(
    session: Session, delivery_id: int, *, status: DeliveryStatus, status_code: int | None, error: str
) -> None:
    """Count one attempt and its outcome (``status`` pending = will be retried)."""
    row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if row is None:
        return
    now = utcnow()
    row.attempts += 1
    row.last_status_code = status_code
    row.last_error = error[:MAX_ERROR]
    row.status = status
    row.updated_at = now
    if status == DeliveryStatus.DELIVERED:
        row.delivered_at = now
    session.flush()


def unsent(session: Session, *, now: datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(id, attempts) of pending deliveries no job is working on: never attempted a minute
    after they were recorded (the enqueue after the commit failed: Redis was down), or not
    touched for longer than the whole retry schedule (their job was lost). A periodic sweep
    (``jobs.webhooks.requeue_unsent``) enqueues them again."""
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            or_(
                and_(WebhookDelivery.attempts == 0, WebhookDelivery.created_at < now - UNSENT_AFTER),
                WebhookDelivery.updated_at < now - LOST_AFTER,
            ),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return [(int(row[0]), int(row[1])) for row in rows]
