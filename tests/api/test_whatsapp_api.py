"""``/api/whatsapp`` through the app against fake gateway shards over real HTTP, on SQLite and
Postgres: session status (with the stored fallback when the gateway is down), connect/QR/logout,
sending (idempotency, opt-outs, every gateway refusal as its JSON error), shard moves without a
restart, conversations with unread counts, read receipts, and tenancy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.db.models import Lead, Message, Role, User
from api.security import hash_password
from api.services import whatsapp_optout
from api.settings import Settings
from tests.api.conftest import INTERNAL, PASSWORD, login, make_admin, make_tenant
from tests.api.test_whatsapp_events import event, post_event
from tests.contracts.test_wa_events import inbound_data, session_data
from tests.fakes.fake_gateway import FakeGateway

__all__: list[str] = []

PHONE = "+15557654321"


@pytest.fixture
def shards() -> Iterator[tuple[FakeGateway, FakeGateway]]:
    with FakeGateway(1, INTERNAL) as one, FakeGateway(2, INTERNAL) as two:
        yield one, two


@pytest.fixture
async def wa_app(api_settings: Settings, shards: tuple[FakeGateway, FakeGateway]) -> AsyncIterator[Any]:
    settings = replace(api_settings, baileys_shard_urls=(shards[0].url, shards[1].url))
    application = create_app(settings)
    async with application.test_app() as test_app:
        yield test_app
    application.extensions["prosaas"].close()


async def admin_of(client: Any, db: Session, business_id: int, n: int = 1) -> dict[str, str]:
    email = f"waadmin{n}@example.test"
    db.add(User(email=email, role=Role.ADMIN, business_id=business_id, password_hash=hash_password(PASSWORD)))
    db.commit()
    return await login(client, email)


async def test_status_from_the_gateway_then_stored_when_it_is_down(wa_app: Any, db: Session,
                                                                   shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    await login(client, tenant.agent_email)
    one.set_state(tenant.business_id, "connected")
    body = await (await client.get("/api/whatsapp/status")).get_json()
    assert (body["state"], body["gateway_reachable"], body["source"], body["shard_id"]) == ("connected", True, "gateway", 1)
    one.close()
    body = await (await client.get("/api/whatsapp/status")).get_json()
    assert (body["state"], body["gateway_reachable"], body["source"]) == ("unknown", False, "none")
    assert "unreachable" in body["detail"]
    state = {k: v for k, v in session_data(business_id=str(tenant.business_id)).items() if k != "qr"}
    await post_event(client, event(tenant.business_id, "session.state", state))
    resp = await client.get("/api/whatsapp/status")
    body = await resp.get_json()
    assert resp.status_code == 200
    assert (body["state"], body["gateway_reachable"], body["source"], body["me"]["phone"]) == (
        "connected", False, "stored", "+15551230000")


async def test_connect_qr_logout_need_an_admin(wa_app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    agent = await login(client, tenant.agent_email)
    resp = await client.post("/api/whatsapp/connect", headers=agent)
    assert resp.status_code == 403
    admin = await admin_of(client, db, tenant.business_id)
    resp = await client.get("/api/whatsapp/qr")
    assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "no_qr"
    body = await (await client.post("/api/whatsapp/connect", headers=admin)).get_json()
    assert body["state"] == "qr" and body["qr"] == "2@fake-qr"
    assert (await (await client.get("/api/whatsapp/qr")).get_json())["qr"] == "2@fake-qr"
    body = await (await client.post("/api/whatsapp/logout", headers=admin)).get_json()
    assert body["state"] == "logged_out"


async def test_send_is_idempotent_and_stored(wa_app: Any, db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    tenant = make_tenant(db, 1)
    lead_id = db.scalar(select(Lead.id).where(Lead.business_id == tenant.business_id))
    client = wa_app.test_client()
    headers = await login(client, tenant.agent_email)
    resp = await client.post("/api/whatsapp/messages", json={"lead_id": lead_id, "text": "hi"}, headers=headers)
    assert resp.status_code == 409 and (await resp.get_json())["error"]["code"] == "not_connected"
    one.set_state(tenant.business_id, "connected")
    keyed = {**headers, "Idempotency-Key": "order-7"}
    first = await client.post("/api/whatsapp/messages", json={"lead_id": lead_id, "text": "hi"}, headers=keyed)
    again = await client.post("/api/whatsapp/messages", json={"lead_id": lead_id, "text": "hi"}, headers=keyed)
    a, b = await first.get_json(), await again.get_json()
    assert first.status_code == again.status_code == 201, a
    assert a["message_id"] == b["message_id"] and (a["duplicate"], b["duplicate"]) == (False, True)
    assert (a["direction"], a["status"], a["lead_id"], a["peer"]) == ("outbound", "sent", lead_id, "+14440000001")
    assert len(one.sent) == 1 and next(iter(one.sent)) == f"api-{tenant.business_id}-order-7"
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    # a new phone becomes a whatsapp lead
    resp = await client.post("/api/whatsapp/messages", json={"phone": PHONE, "text": "welcome"}, headers=headers)
    assert resp.status_code == 201
    db.expire_all()
    assert db.scalar(select(Lead.source).where(Lead.phone_e164 == PHONE)) == "whatsapp"
    # status events then move the stored message forward
    await post_event(client, event(tenant.business_id, "message.status", {"message_id": a["message_id"], "status": "read"}))
    page = await (await client.get(f"/api/whatsapp/conversations/{lead_id}/messages")).get_json()
    assert [m["status"] for m in page["items"]] == ["read"]


async def test_send_refusals(wa_app: Any, db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    headers = await login(client, tenant.agent_email)
    one.set_state(tenant.business_id, "connected")
    send = {"phone": PHONE, "text": "hi"}

    async def refused(status: int, code: str) -> dict[str, Any]:
        resp = await client.post("/api/whatsapp/messages", json=send, headers=headers)
        body = await resp.get_json()
        assert resp.status_code == status and body["error"]["code"] == code, body
        return dict(body["error"])

    for bad in ({"text": "x"}, {"phone": PHONE, "lead_id": 1, "text": "x"}, {"phone": PHONE, "text": ""}):
        resp = await client.post("/api/whatsapp/messages", json=bad, headers=headers)
        assert resp.status_code == 422, bad
    resp = await client.post("/api/whatsapp/messages", json=send, headers={**headers, "Idempotency-Key": "k" * 101})
    assert resp.status_code == 422 and (await resp.get_json())["error"]["code"] == "invalid_idempotency_key"
    one.fail_next(422, {"error": "invalid_number", "message": "not on WhatsApp"})
    await refused(422, "invalid_number")
    one.fail_next(423, {"error": "reach_out_limited", "until": "2026-12-07T00:00:00Z"})
    assert (await refused(423, "reach_out_limited"))["details"] == {"until": "2026-12-07T00:00:00Z"}
    one.fail_next(503, {"error": "send_failed", "message": "try again"})
    await refused(503, "gateway_unavailable")
    one.fail_next(500, {"error": "boom"})
    await refused(503, "gateway_unavailable")
    one.fail_next(400, {"error": "bad_request", "message": "schema"})
    await refused(502, "bad_request")
    db.execute(text("UPDATE business SET whatsapp_shard = 3"))
    db.commit()
    assert "shard 3" in (await refused(503, "gateway_unavailable"))["message"]
    # shard 2's URL answering as shard 1 (a swapped BAILEYS_SHARD_N_URL)
    db.execute(text("UPDATE business SET whatsapp_shard = 2"))
    db.commit()
    two.shard_id = 1
    error = await refused(409, "wrong_shard")
    assert error["details"] == {"shard": 2, "answered_as": 1} and "shard 2" in error["message"]
    two.shard_id = 2
    db.execute(text("UPDATE business SET whatsapp_shard = 1"))
    db.commit()
    whatsapp_optout.opt_out(db, tenant.business_id, PHONE)
    db.commit()
    await refused(409, "opted_out")
    one.close()
    whatsapp_optout.opt_in(db, tenant.business_id, PHONE)
    db.commit()
    await refused(503, "gateway_unavailable")
    assert db.scalar(select(func.count()).select_from(Message)) == 0 and not one.sent


async def test_moving_the_business_takes_effect_without_a_restart(
    wa_app: Any, db: Session, shards: tuple[FakeGateway, FakeGateway]
) -> None:
    one, two = shards
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    await login(client, tenant.agent_email)
    assert (await (await client.get("/api/whatsapp/status")).get_json())["shard_id"] == 1
    db.execute(text("UPDATE business SET whatsapp_shard = 2 WHERE id = :id"), {"id": tenant.business_id})
    db.commit()
    body = await (await client.get("/api/whatsapp/status")).get_json()
    assert body["shard_id"] == 2 and two.requests[-1].headers["X-WhatsApp-Shard"] == "2"
    assert len(one.requests) == 1


async def test_conversations_unread_and_read_receipts(wa_app: Any, db: Session,
                                                      shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    headers = await login(client, tenant.agent_email)
    for n in range(3):
        await post_event(client, event(tenant.business_id, "message.inbound",
                                       inbound_data(message_id=f"IN{n}", text=f"m{n}",
                                                    timestamp=f"2026-12-06T10:0{n}:00+00:00")))
    await post_event(client, event(tenant.business_id, "message.inbound",
                                   inbound_data(message_id="OTHER", from_phone="+15550001111", text="yo",
                                                timestamp="2026-12-06T09:00:00+00:00")))
    page = await (await client.get("/api/whatsapp/conversations")).get_json()
    assert page["total"] == 2
    first = page["items"][0]
    assert (first["lead"]["phone_e164"], first["unread"], first["last_message"]["body"]) == (PHONE, 3, "m2")
    lead_id = first["lead"]["id"]
    messages = await (await client.get(f"/api/whatsapp/conversations/{lead_id}/messages?per_page=2")).get_json()
    assert [m["body"] for m in messages["items"]] == ["m2", "m1"] and messages["total"] == 3 and messages["pages"] == 2
    resp = await client.post(f"/api/whatsapp/conversations/{lead_id}/read", headers=headers)
    assert await resp.get_json() == {"marked": 3, "receipts": "sent"}
    assert [(r["business"], r["chat"], sorted(r["message_ids"])) for r in one.reads] == [
        (str(tenant.business_id), PHONE, ["IN0", "IN1", "IN2"])]
    again = await client.post(f"/api/whatsapp/conversations/{lead_id}/read", headers=headers)
    assert await again.get_json() == {"marked": 0, "receipts": "none"}
    page = await (await client.get("/api/whatsapp/conversations")).get_json()
    assert [c["unread"] for c in page["items"]] == [0, 1]
    one.close()  # the local mark still happens when the gateway is down
    other = page["items"][1]["lead"]["id"]
    body = await (await client.post(f"/api/whatsapp/conversations/{other}/read", headers=headers)).get_json()
    assert (body["marked"], body["receipts"]) == (1, "failed") and "gateway_unavailable" in body["detail"]


async def test_tenancy(wa_app: Any, db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    first, second = make_tenant(db, 1), make_tenant(db, 2)
    make_admin(db)
    client = wa_app.test_client()
    await post_event(client, event(first.business_id, "message.inbound", inbound_data(text="secret of 1")))
    lead_of_first = db.scalar(select(Lead.id).where(Lead.phone_e164 == PHONE))
    one.set_state(first.business_id, "connected")
    one.set_state(second.business_id, "connected")
    headers = await login(client, second.agent_email)
    page = await (await client.get("/api/whatsapp/conversations")).get_json()
    assert page["total"] == 0 and page["items"] == []
    for resp in (
        await client.get(f"/api/whatsapp/conversations/{lead_of_first}/messages"),
        await client.post(f"/api/whatsapp/conversations/{lead_of_first}/read", headers=headers),
        await client.post("/api/whatsapp/messages", json={"lead_id": lead_of_first, "text": "x"}, headers=headers),
        await client.get(f"/api/whatsapp/conversations?business_id={first.business_id}"),
        await client.get(f"/api/whatsapp/status?business_id={first.business_id}"),
    ):
        assert resp.status_code == 404, await resp.get_json()
    assert not one.sent and not one.reads
    db.expire_all()
    assert db.scalar(select(Message.status).where(Message.external_id == "3EB0AA")) == "received"
    await login(client, "root@example.test")
    page = await (await client.get(f"/api/whatsapp/conversations?business_id={first.business_id}")).get_json()
    assert page["total"] == 1 and page["items"][0]["last_message"]["body"] == "secret of 1"
    resp = await client.get("/api/whatsapp/conversations")
    assert resp.status_code == 422  # a system admin names the business


async def test_answers_match_their_documented_models(wa_app: Any, db: Session,
                                                    shards: tuple[FakeGateway, FakeGateway]) -> None:
    from api.whatsapp_schemas import (
        ConversationPage,
        MessagePage,
        ReadResult,
        WhatsAppMessage,
        WhatsAppQr,
        WhatsAppStatus,
    )

    one, _ = shards
    tenant = make_tenant(db, 1)
    client = wa_app.test_client()
    admin = await admin_of(client, db, tenant.business_id)
    WhatsAppStatus.model_validate(await (await client.post("/api/whatsapp/connect", headers=admin)).get_json())
    WhatsAppQr.model_validate(await (await client.get("/api/whatsapp/qr")).get_json())
    one.set_state(tenant.business_id, "connected")
    WhatsAppStatus.model_validate(await (await client.get("/api/whatsapp/status")).get_json())
    sent = await client.post("/api/whatsapp/messages", json={"phone": PHONE, "text": "hi"}, headers=admin)
    WhatsAppMessage.model_validate(await sent.get_json())
    await post_event(client, event(tenant.business_id, "message.inbound", inbound_data(message_id="M1")))
    page = ConversationPage.model_validate(await (await client.get("/api/whatsapp/conversations")).get_json())
    lead_id = page.items[0].lead.id
    MessagePage.model_validate(await (await client.get(f"/api/whatsapp/conversations/{lead_id}/messages")).get_json())
    ReadResult.model_validate(await (await client.post(f"/api/whatsapp/conversations/{lead_id}/read",
                                                       headers=admin)).get_json())
    one.close()
    WhatsAppStatus.model_validate(await (await client.get("/api/whatsapp/status")).get_json())
