"""``POST /internal/whatsapp/events`` through the app, on SQLite and Postgres: the signature
(401 and nothing stored), bad bodies (400 naming the problem), dedupe by event id and message
id, leads from WhatsApp (and their webhook job), LID-only senders, opt-out keywords, message
status that never goes backwards, session state from the right shard and in order."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.db.models import (
    Business,
    Lead,
    Message,
    WebhookDelivery,
    WhatsAppEvent,
    WhatsAppOptOut,
    WhatsAppSession,
)
from api.services import whatsapp_optout
from contracts.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header
from tests.api.conftest import INTERNAL, REDIS_URL, make_tenant
from tests.contracts.test_wa_events import envelope, inbound_data, session_data

__all__ = ["post_event"]

URL = "/internal/whatsapp/events"
PHONE = "+15557654321"


def event(business_id: int, kind: str, data: dict[str, Any], **over: Any) -> dict[str, Any]:
    return envelope(kind, data, business_id=str(business_id), event_id=str(uuid.uuid4())) | over


async def post_event(client: Any, body: dict[str, Any] | bytes, *, secret: str = INTERNAL, skew: int = 0,
                     headers: dict[str, str] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = int(time.time()) + skew
    sent = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: signature_header(secret, ts, raw)}
    if headers is not None:
        sent = {"Content-Type": "application/json", **headers}
    return await client.post(URL, data=raw, headers=sent)


def count(db: Session, model: Any) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


async def test_bad_missing_or_stale_signature_is_401_and_stores_nothing(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    body = event(business, "message.inbound", inbound_data())
    raw = json.dumps(body).encode()
    ts = str(int(time.time()))
    attempts = [
        await post_event(client, body, secret="wrong-secret"),
        await post_event(client, body, skew=-301),
        await post_event(client, body, skew=400),
        await post_event(client, body, headers={}),
        await post_event(client, body, headers={TIMESTAMP_HEADER: ts}),
        # signed over another body
        await post_event(client, raw, headers={TIMESTAMP_HEADER: ts,
                                               SIGNATURE_HEADER: signature_header(INTERNAL, int(ts), raw + b" ")}),
    ]
    for resp in attempts:
        payload = await resp.get_json()
        assert resp.status_code == 401 and payload["error"]["code"] == "bad_signature", payload
    assert count(db, WhatsAppEvent) == count(db, Message) == 0
    assert count(db, Lead) == 1  # the tenant's own
    ok = await post_event(client, body, skew=-290)  # inside the window
    assert ok.status_code == 200 and await ok.get_json() == {"stored": True}


async def test_bad_bodies_are_400_naming_the_problem(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    resp = await post_event(client, b"{not json")
    assert resp.status_code == 400 and (await resp.get_json())["error"]["code"] == "malformed_json"
    resp = await post_event(client, event(business, "message.inbound", inbound_data(message_id="", from_phone="12")))
    payload = await resp.get_json()
    assert resp.status_code == 400 and payload["error"]["code"] == "invalid_event"
    assert any("data.message_id" in p for p in payload["error"]["details"]["problems"])
    assert any("data.from_phone" in p for p in payload["error"]["details"]["problems"])
    resp = await post_event(client, event(business, "message.status", {"message_id": "x", "status": "read"}, version=2))
    assert resp.status_code == 400 and "newer" in (await resp.get_json())["error"]["message"]
    resp = await post_event(client, event(9999, "message.status", {"message_id": "x", "status": "read"}))
    assert resp.status_code == 400 and (await resp.get_json())["error"]["code"] == "unknown_business"
    assert count(db, WhatsAppEvent) == count(db, Message) == 0


async def test_inbound_creates_a_lead_and_a_message_once(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    db.execute(update(Business).values(webhook_url="https://hooks.example.test/in"))
    db.commit()
    queue = Queue("high", connection=redis.Redis.from_url(REDIS_URL), serializer=JSONSerializer)
    first = event(business, "message.inbound", inbound_data(text="Hi, are you open?", push_name="Ann"))
    assert (await (await post_event(client, first)).get_json()) == {"stored": True}
    again = await post_event(client, first)
    assert await again.get_json() == {"stored": False, "duplicate": True}
    same_message = event(business, "message.inbound", inbound_data(text="Hi, are you open?"))
    assert (await (await post_event(client, same_message)).get_json()) == {"stored": False, "duplicate": True}
    lead = db.scalar(select(Lead).where(Lead.phone_e164 == PHONE))
    assert lead is not None and lead.source == "whatsapp" and lead.name == "Ann" and lead.last_contact_at is not None
    messages = db.scalars(select(Message)).all()
    assert [(m.channel, m.direction, m.external_id, m.peer, m.body, m.lead_id, m.status) for m in messages] == [
        ("whatsapp", "inbound", "3EB0AA", PHONE, "Hi, are you open?", lead.id, "received")]
    deliveries = db.scalars(select(WebhookDelivery)).all()
    assert [d.event for d in deliveries] == ["lead_created"] and deliveries[0].payload["data"]["channel"] == "whatsapp"
    assert queue.job_ids == [f"deliver-webhook-{deliveries[0].id}-a0"]
    # a second message of the same sender: the same lead, no new webhook
    await post_event(client, event(business, "message.inbound", inbound_data(message_id="3EB0BB", text="hello?")))
    assert count(db, Lead) == 2 and count(db, Message) == 2 and count(db, WebhookDelivery) == 1


async def test_lid_only_sender(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    lid = "8812345@lid"
    await post_event(client, event(business, "message.inbound",
                                   inbound_data(message_id="L1", from_phone=None, from_lid=lid)))
    stored = db.scalar(select(Message).where(Message.external_id == "L1"))
    assert stored is not None and stored.peer == lid and stored.lead_id is None
    assert count(db, Lead) == 1
    # a message with both maps the LID; the next LID-only one links to that phone's lead
    await post_event(client, event(business, "message.inbound", inbound_data(message_id="L2", from_lid=lid)))
    await post_event(client, event(business, "message.inbound",
                                   inbound_data(message_id="L3", from_phone=None, from_lid=lid)))
    lead_id = db.scalar(select(Lead.id).where(Lead.phone_e164 == PHONE))
    linked = db.scalar(select(Message).where(Message.external_id == "L3"))
    assert linked is not None and linked.lead_id == lead_id and linked.peer == PHONE


async def test_opt_out_keywords(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    other = make_tenant(db, 2).business_id
    for n, text in enumerate(["please stop sending me these", "Stop!", " UNSUBSCRIBE "]):
        await post_event(client, event(business, "message.inbound", inbound_data(message_id=f"O{n}", text=text)))
        db.expire_all()
        assert whatsapp_optout.is_opted_out(db, business, PHONE) is (n >= 1), text
    assert count(db, WhatsAppOptOut) == 1
    assert not whatsapp_optout.is_opted_out(db, other, PHONE)  # per business
    assert whatsapp_optout.opted_out_phones(db, business, [PHONE, "+15550000000"]) == {PHONE}
    await post_event(client, event(business, "message.inbound", inbound_data(message_id="O9", text="start")))
    db.expire_all()
    assert not whatsapp_optout.is_opted_out(db, business, PHONE)


async def test_status_never_goes_backwards(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    db.add(Message(business_id=business, channel="whatsapp", direction="outbound", external_id="OUT1", peer=PHONE,
                   body="hi", status="sent"))
    db.commit()

    async def status(value: str) -> str:
        await post_event(client, event(business, "message.status", {"message_id": "OUT1", "status": value}))
        db.expire_all()
        return str(db.scalar(select(Message.status).where(Message.external_id == "OUT1")))

    assert await status("delivered") == "delivered"
    assert await status("server_ack") == "delivered"
    assert await status("failed") == "delivered"
    assert await status("read") == "read"
    assert await status("delivered") == "read"
    resp = await post_event(client, event(business, "message.status", {"message_id": "nope", "status": "read"}))
    assert (await resp.get_json())["applied"] is False


async def test_session_state_from_the_current_shard_in_order(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    state = {k: v for k, v in session_data(business_id=str(business)).items() if k != "qr"}
    await post_event(client, event(business, "session.state", state, epoch=2, seq=10))
    row = db.get(WhatsAppSession, business)
    assert row is not None and (row.state, row.me_phone, row.epoch, row.seq) == ("connected", "+15551230000", 2, 10)
    late = await post_event(client, event(business, "session.state", state | {"state": "qr"}, epoch=2, seq=9))
    assert (await late.get_json())["applied"] is False
    other_shard = await post_event(client, event(business, "session.state", state | {"state": "failed"}, shard_id=2,
                                                 epoch=9, seq=99))
    assert (await other_shard.get_json())["applied"] is False
    await post_event(client, event(business, "session.limited",
                                   {"until": "2026-12-07T00:00:00+00:00", "reason": "reach_out_limited"}, epoch=2, seq=11))
    db.expire_all()
    row = db.get(WhatsAppSession, business)
    assert row is not None and row.state == "connected" and row.limited_until is not None
    assert row.limited_until.isoformat() == "2026-12-07T00:00:00+00:00"
    await post_event(client, event(business, "session.state", state | {"state": "logged_out", "reason": "logged_out",
                                                                      "me": None}, epoch=3, seq=1))
    db.expire_all()
    row = db.get(WhatsAppSession, business)
    assert row is not None and (row.state, row.reason, row.me_phone) == ("logged_out", "logged_out", None)


async def test_free_text_with_nul_is_stored_cleaned_and_ids_out_of_range_are_400(client: Any, db: Session) -> None:
    business = make_tenant(db, 1).business_id
    resp = await post_event(client, event(business, "message.inbound", inbound_data(text="a\x00b", push_name="Bo\x00b")))
    assert resp.status_code == 200, await resp.get_json()
    stored = db.scalar(select(Message).where(Message.external_id == "3EB0AA"))
    assert stored is not None and stored.body == "ab"
    assert db.scalar(select(Lead.name).where(Lead.phone_e164 == PHONE)) == "Bob"
    body = event(business, "message.status", {"message_id": "x" * 300, "status": "read"}) | {"business_id": "4294967296"}
    resp = await post_event(client, body)
    problems = (await resp.get_json())["error"]["details"]["problems"]
    assert resp.status_code == 400 and len(problems) == 2, problems


async def test_old_event_ids_are_pruned(client: Any, db: Session) -> None:
    from datetime import timedelta

    from api.db.models import utcnow
    from api.services.whatsapp_events import EVENT_RETENTION, prune_events

    business = make_tenant(db, 1).business_id
    body = event(business, "message.status", {"message_id": "x", "status": "read"})
    await post_event(client, body)
    assert prune_events(db) == 0
    assert prune_events(db, now=utcnow() + EVENT_RETENTION + timedelta(minutes=1)) == 1
    db.commit()
    assert count(db, WhatsAppEvent) == 0
    assert (await (await post_event(client, body)).get_json())["stored"] is True  # forgotten: applied again
