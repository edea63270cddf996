"""Webhook settings on ``PATCH /api/businesses/{id}``, the events the lead routes record, and
``/api/webhooks/deliveries`` (list, filters, paging, redelivery, tenancy), on SQLite and
PostgreSQL with real Redis."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.crypto import SecretBox
from api.db.models import Business, DeliveryStatus, Lead, Role, User, WebhookDelivery
from api.security import hash_password
from api.services.webhooks import UnsafeUrl, check_url
from api.settings import Settings
from tests.api.conftest import PASSWORD, REDIS_URL, login, make_admin, make_tenant
from tests.conftest import free_port

SECRET = "business-webhook-secret-0001"


def runtime(app: Any) -> Any:
    return app.app.extensions["prosaas"]


def rq_queue() -> Queue:
    return Queue("high", connection=redis.Redis.from_url(REDIS_URL), serializer=JSONSerializer)


async def configure(client: Any, headers: dict[str, str], business_id: int, url: str = "https://hooks.example.test/in") -> Any:
    return await client.patch(
        f"/api/businesses/{business_id}", json={"webhook_url": url, "webhook_secret": SECRET}, headers=headers
    )


def add_delivery(db: Session, business_id: int, event: str = "lead_created", status: str = DeliveryStatus.PENDING,
                 n: int = 0) -> int:
    row = WebhookDelivery(business_id=business_id, event_id=f"evt-{business_id}-{event}-{status}-{n}", event=event,
                          url="https://hooks.example.test/in", payload={"n": n}, status=status, attempts=1)
    db.add(row)
    db.commit()
    return row.id


async def test_the_secret_is_write_only_and_encrypted_at_rest(app: Any, client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await configure(client, headers, tenant.business_id)
    body = await resp.get_json()
    assert resp.status_code == 200, body
    assert body["webhook_url"] == "https://hooks.example.test/in" and body["webhook_secret_set"] is True
    got = await (await client.get(f"/api/businesses/{tenant.business_id}")).get_data(as_text=True)
    assert SECRET not in got and '"webhook_secret_set":true' in got.replace(" ", "")
    db.expire_all()
    stored = db.get(Business, tenant.business_id)
    assert stored is not None and SECRET not in stored.webhook_secret_encrypted
    assert SecretBox.from_settings(runtime(app).settings).decrypt(stored.webhook_secret_encrypted) == SECRET
    # turning the webhook off keeps the secret; the URL alone may change afterwards
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"webhook_url": ""}, headers=headers)
    assert (await resp.get_json())["webhook_url"] == ""
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"webhook_url": "http://127.0.0.1:9/x"},
                              headers=headers)
    assert resp.status_code == 200  # development: private addresses allowed


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"webhook_url": "https://hooks.example.test/in"}, 422, "webhook_secret_required"),
        ({"webhook_url": "ftp://hooks.example.test/in", "webhook_secret": SECRET}, 422, "webhook_url_refused"),
        ({"webhook_url": "https://user:pw@hooks.example.test/", "webhook_secret": SECRET}, 422, "webhook_url_refused"),
        ({"webhook_url": "https://[::1/", "webhook_secret": SECRET}, 422, "webhook_url_refused"),
        ({"webhook_secret": "short"}, 422, "invalid_body"),
        ({"recording_retention_days": 3651}, 422, "invalid_body"),
        ({"recording_retention_days": -1}, 422, "invalid_body"),
        ({"webhook_secret_encrypted": "x" * 20}, 422, "invalid_body"),
    ],
)
async def test_bad_webhook_settings_are_refused_by_name(
    client: Any, db: Session, fields: dict[str, Any], status: int, code: str
) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json=fields, headers=headers)
    body = await resp.get_json()
    assert resp.status_code == status and body["error"]["code"] == code, body


async def test_retention_days_are_set_and_shown(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    for days in (0, 3650, 30):
        resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"recording_retention_days": days},
                                  headers=headers)
        assert (await resp.get_json())["recording_retention_days"] == days


async def test_an_agent_cannot_set_the_webhook(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    resp = await configure(client, await login(client, tenant.agent_email), tenant.business_id, "http://10.0.0.1/")
    assert resp.status_code == 403 and (await resp.get_json())["error"]["code"] == "role_required"


async def test_private_addresses_are_refused_when_not_allowed(app: Any, client: Any, db: Session) -> None:
    rt = runtime(app)
    rt.settings = dataclasses.replace(rt.settings, webhook_allow_private=False)
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest",
                "http://[::ffff:192.168.0.1]/", "http://0.0.0.0/", "https://no-such-host.invalid/in"):
        resp = await configure(client, headers, tenant.business_id, url)
        body = await resp.get_json()
        assert resp.status_code == 422 and body["error"]["code"] == "webhook_url_refused", (url, body)
    assert (await configure(client, headers, tenant.business_id, "https://93.184.215.14/hook")).status_code == 200


def test_the_url_check_resolves_every_address_of_the_host() -> None:
    def resolver(*addresses: str) -> Any:
        return lambda host, port: list(addresses)

    check_url("https://hooks.example.test/", allow_private=False, resolve=resolver("93.184.215.14", "2606:2800:21f::1"))
    with pytest.raises(UnsafeUrl, match="192.168.1.5"):
        check_url("https://hooks.example.test/", allow_private=False, resolve=resolver("93.184.215.14", "192.168.1.5"))
    with pytest.raises(UnsafeUrl, match="fe80::1"):
        check_url("https://hooks.example.test/", allow_private=False, resolve=resolver("fe80::1%eth0"))
    check_url("https://hooks.example.test/", allow_private=True, resolve=resolver("127.0.0.1"))


def test_private_addresses_are_allowed_by_default_only_outside_production() -> None:
    production = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "INTERNAL_SECRET": "i" * 32,
                  "TWILIO_AUTH_TOKEN": "t" * 32, "PUBLIC_BASE_URL": "https://api.example.test"}
    assert Settings.from_env({}).webhook_allow_private is True
    assert Settings.from_env(production).webhook_allow_private is False
    assert Settings.from_env({**production, "WEBHOOK_ALLOW_PRIVATE": "true"}).webhook_allow_private is True


async def test_lead_routes_record_and_enqueue_their_events(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    created = await client.post("/api/leads", json={"phone_e164": "+14445550111"}, headers=headers)
    assert created.status_code == 201
    assert db.scalars(select(WebhookDelivery)).all() == []  # no webhook yet: nothing recorded
    assert (await configure(client, headers, tenant.business_id)).status_code == 200
    created = await client.post("/api/leads", json={"phone_e164": "+14445550112", "name": "Ann"}, headers=headers)
    lead_id = (await created.get_json())["id"]
    patched = await client.patch(f"/api/leads/{lead_id}", json={"status": "contacted"}, headers=headers)
    assert patched.status_code == 200
    db.expire_all()
    rows = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.event, r.status, r.url) for r in rows] == [
        ("lead_created", "pending", "https://hooks.example.test/in"),
        ("lead_updated", "pending", "https://hooks.example.test/in"),
    ]
    assert rows[0].payload["data"]["lead"]["name"] == "Ann" and rows[1].payload["data"]["lead"]["status"] == "contacted"
    assert rows[0].payload["id"] == rows[0].event_id and rows[0].event_id != rows[1].event_id
    assert sorted(rq_queue().job_ids) == sorted(f"deliver-webhook-{r.id}-a0" for r in rows)


async def test_a_lead_is_saved_even_when_redis_is_down(app: Any, client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    assert (await configure(client, headers, tenant.business_id)).status_code == 200
    rt = runtime(app)
    working = rt.redis
    rt.redis = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    try:
        created = await client.post("/api/leads", json={"phone_e164": "+14445550113"}, headers=headers)
    finally:
        rt.redis.close()
        rt.redis = working
    assert created.status_code == 201
    db.expire_all()
    [row] = db.scalars(select(WebhookDelivery)).all()
    assert row.status == "pending" and row.attempts == 0  # the sweep sends it (jobs.webhooks.requeue_unsent)


async def test_deliveries_list_filters_and_pages(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    for n in range(3):
        add_delivery(db, tenant.business_id, "lead_created", DeliveryStatus.DELIVERED, n)
    add_delivery(db, tenant.business_id, "call_completed", DeliveryStatus.FAILED)
    await login(client, tenant.owner_email)
    page = await (await client.get("/api/webhooks/deliveries?per_page=2")).get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (4, 2, 2)
    assert set(page["items"][0]) >= {"event_id", "status", "attempts", "last_status_code", "last_error", "payload"}
    failed = await (await client.get("/api/webhooks/deliveries?status=failed")).get_json()
    assert [i["event"] for i in failed["items"]] == ["call_completed"]
    created = await (await client.get("/api/webhooks/deliveries?event=lead_created&status=delivered")).get_json()
    assert created["total"] == 3
    bad = await client.get("/api/webhooks/deliveries?status=lost")
    assert bad.status_code == 422 and (await bad.get_json())["error"]["code"] == "invalid_query"


@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_deliveries_of_another_business_are_never_shown(client: Any, db: Session, who: str) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    mine = add_delivery(db, a.business_id, status=DeliveryStatus.FAILED)
    theirs = add_delivery(db, b.business_id, status=DeliveryStatus.FAILED)
    email = a.owner_email
    if who == "admin":
        email = "admin-of-1@example.test"
        db.add(User(email=email, role=Role.ADMIN, business_id=a.business_id, password_hash=hash_password(PASSWORD)))
        db.commit()
    headers = await login(client, email)
    listed = await (await client.get("/api/webhooks/deliveries")).get_json()
    assert [i["id"] for i in listed["items"]] == [mine]
    other = await client.get(f"/api/webhooks/deliveries?business_id={b.business_id}")
    assert other.status_code == 404
    redo = await client.post(f"/api/webhooks/deliveries/{theirs}/redeliver", headers=headers)
    assert redo.status_code == 404 and (await redo.get_json())["error"]["code"] == "delivery_not_found"
    db.expire_all()
    assert db.get(WebhookDelivery, theirs).status == "failed"  # type: ignore[union-attr]


async def test_a_system_admin_names_the_business(client: Any, db: Session) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    add_delivery(db, a.business_id)
    theirs = add_delivery(db, b.business_id)
    await login(client, make_admin(db))
    listed = await (await client.get(f"/api/webhooks/deliveries?business_id={b.business_id}")).get_json()
    assert [i["id"] for i in listed["items"]] == [theirs]
    assert (await client.get("/api/webhooks/deliveries")).status_code == 422  # which business?


async def test_redeliver_resets_and_enqueues_a_finished_delivery(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    failed = add_delivery(db, tenant.business_id, status=DeliveryStatus.FAILED)
    pending = add_delivery(db, tenant.business_id, status=DeliveryStatus.PENDING, n=1)
    row = db.get(WebhookDelivery, failed)
    assert row is not None
    row.last_status_code, row.last_error, row.attempts = 410, "HTTP 410", 3
    db.commit()
    headers = await login(client, tenant.owner_email)
    resp = await client.post(f"/api/webhooks/deliveries/{failed}/redeliver", headers=headers)
    body = await resp.get_json()
    assert resp.status_code == 202 and body["status"] == "pending", body
    assert (body["last_status_code"], body["last_error"], body["attempts"]) == (None, "", 3)
    assert rq_queue().job_ids == [f"deliver-webhook-{failed}-a3"]
    again = await client.post(f"/api/webhooks/deliveries/{failed}/redeliver", headers=headers)
    assert again.status_code == 409 and (await again.get_json())["error"]["code"] == "delivery_pending"
    busy = await client.post(f"/api/webhooks/deliveries/{pending}/redeliver", headers=headers)
    assert busy.status_code == 409
    assert (await client.post("/api/webhooks/deliveries/999999/redeliver", headers=headers)).status_code == 404


async def test_an_agent_sees_no_deliveries(client: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    add_delivery(db, tenant.business_id)
    await login(client, tenant.agent_email)
    resp = await client.get("/api/webhooks/deliveries")
    assert resp.status_code == 403


async def test_leads_of_the_business_only_feed_its_own_webhook(client: Any, db: Session) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    headers_a = await login(client, a.owner_email)
    assert (await configure(client, headers_a, a.business_id)).status_code == 200
    await client.post("/api/auth/logout", headers=headers_a)
    headers_b = await login(client, b.owner_email)
    lead_b = db.scalar(select(Lead.id).where(Lead.business_id == b.business_id))
    await client.patch(f"/api/leads/{lead_b}", json={"name": "B only"}, headers=headers_b)
    db.expire_all()
    assert db.scalars(select(WebhookDelivery)).all() == []  # business 2 has no webhook
