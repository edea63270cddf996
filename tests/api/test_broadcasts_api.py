"""``/api/broadcasts``: create from a filter or a list (idempotent), the lifecycle with 409s
naming the state, progress counts, the queued job, tenancy, and Redis down at start."""

from __future__ import annotations

import dataclasses
from typing import Any

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from api.app import create_app
from api.db.models import Broadcast, BroadcastRecipient, Lead, WhatsAppOptOut
from api.routes import broadcasts as routes
from api.settings import Settings
from contracts.jobs import RUN_BROADCAST
from tests.api.conftest import REDIS_URL, login, make_tenant
from tests.conftest import PrivateRedis


def add_leads(db: Any, business_id: int, n: int, *, status: str = "new", offset: int = 0) -> list[int]:
    rows = [Lead(business_id=business_id, phone_e164=f"+1666{business_id:03d}{offset + i:04d}", status=status,
                 name=f"L{offset + i}") for i in range(n)]
    db.add_all(rows)
    db.commit()
    return [r.id for r in rows]


def queued_ids() -> list[str]:
    conn = Redis.from_url(REDIS_URL)
    try:
        return Queue(RUN_BROADCAST.queue, connection=conn, serializer=JSONSerializer).get_job_ids()
    finally:
        conn.close()


async def test_create_by_filter_is_idempotent_and_counts_progress(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)  # one lead of status new already
    add_leads(db, tenant.business_id, 3, status="qualified")
    skipped_phone = add_leads(db, tenant.business_id, 1, status="qualified", offset=10)
    db.add(WhatsAppOptOut(business_id=tenant.business_id,
                          phone_e164=db.get(Lead, skipped_phone[0]).phone_e164))
    db.commit()
    headers = await login(client, tenant.agent_email)
    body = {"text": "Sale today", "audience": {"status": "qualified"}}
    resp = await client.post("/api/broadcasts", json=body, headers={**headers, "Idempotency-Key": "abc-1"})
    assert resp.status_code == 201, await resp.get_data(as_text=True)
    made = await resp.get_json()
    routes.Broadcast.model_validate(made)
    assert made["status"] == "accepted"
    assert made["progress"] == {"total": 4, "sent": 0, "failed": 0, "skipped": 1, "pending": 3}
    again = await client.post("/api/broadcasts", json={**body, "idempotency_key": "abc-1"}, headers=headers)
    assert again.status_code == 200 and (await again.get_json())["id"] == made["id"]
    assert db.scalar(select(Broadcast.id).where(Broadcast.business_id == tenant.business_id).offset(1)) is None
    keys = db.scalars(select(BroadcastRecipient.idempotency_key).where(BroadcastRecipient.broadcast_id == made["id"]))
    assert len(set(keys)) == 4

    listed = await (await client.get("/api/broadcasts")).get_json()
    routes.BroadcastPage.model_validate(listed)
    assert [b["id"] for b in listed["items"]] == [made["id"]]


async def test_create_from_lead_ids_and_the_errors(client: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    mine = add_leads(db, a.business_id, 2)
    theirs = add_leads(db, b.business_id, 1)
    headers = await login(client, a.agent_email)
    resp = await client.post("/api/broadcasts", json={"text": "Hi", "audience": {"lead_ids": mine}}, headers=headers)
    assert resp.status_code == 201 and (await resp.get_json())["progress"]["total"] == 2
    cases = [
        ({"text": "Hi", "audience": {"lead_ids": [mine[0], theirs[0]]}}, 422, "unknown_leads"),
        ({"text": "Hi", "audience": {"q": "nobody-matches-this"}}, 422, "no_recipients"),
        ({"text": "Hi", "attachment_id": 999}, 422, "unknown_attachment"),
        ({"text": "", "audience": {}}, 422, None),
        ({"text": "Hi", "audience": {"lead_ids": mine, "status": "new"}}, 422, None),
    ]
    for body, code, error in cases:
        resp = await client.post("/api/broadcasts", json=body, headers=headers)
        got = await resp.get_json()
        assert resp.status_code == code, (body, got)
        if error:
            assert got["error"]["code"] == error and got["error"]["message"]
    bad = await client.post("/api/broadcasts", json={"text": "Hi"}, headers={**headers, "Idempotency-Key": "a b"})
    assert bad.status_code == 422 and (await bad.get_json())["error"]["code"] == "invalid_idempotency_key"


async def test_the_lifecycle_queues_jobs_and_refuses_illegal_transitions(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    made = await (await client.post("/api/broadcasts", json={"text": "Hi"}, headers=headers)).get_json()
    bid = made["id"]
    resp = await client.post(f"/api/broadcasts/{bid}/pause", headers=headers)
    err = (await resp.get_json())["error"]
    assert resp.status_code == 409 and err["code"] == "illegal_transition"
    assert "accepted" in err["message"] and err["details"] == {"status": "accepted", "action": "pause",
                                                               "allowed_actions": ["cancel", "start"]}
    started = await client.post(f"/api/broadcasts/{bid}/start", headers=headers)
    body = await started.get_json()
    assert started.status_code == 200 and body["status"] == "running" and body["job_queued"] is True
    routes.Transitioned.model_validate(body)
    [job_id] = queued_ids()
    db.expire_all()
    assert db.get(Broadcast, bid).job_id == job_id and job_id.startswith(f"broadcast-{bid}-start-")
    assert (await client.post(f"/api/broadcasts/{bid}/start", headers=headers)).status_code == 409
    assert (await (await client.post(f"/api/broadcasts/{bid}/pause", headers=headers)).get_json())["status"] == "paused"
    assert (await (await client.post(f"/api/broadcasts/{bid}/resume", headers=headers)).get_json())["status"] == "running"
    assert len(queued_ids()) == 2
    cancelled = await (await client.post(f"/api/broadcasts/{bid}/cancel", headers=headers)).get_json()
    assert cancelled["status"] == "cancelled" and cancelled["progress"]["skipped"] == 1
    for action in ("start", "pause", "resume", "cancel"):
        resp = await client.post(f"/api/broadcasts/{bid}/{action}", headers=headers)
        assert resp.status_code == 409 and (await resp.get_json())["error"]["details"]["allowed_actions"] == []


async def test_a_business_never_sees_or_drives_another_business_s_broadcasts(client: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    headers_b = await login(client, b.agent_email)
    theirs = await (await client.post("/api/broadcasts", json={"text": "B"}, headers=headers_b)).get_json()
    headers = await login(client, a.agent_email)
    mine = await (await client.post("/api/broadcasts", json={"text": "A"}, headers=headers)).get_json()
    listed = await (await client.get("/api/broadcasts")).get_json()
    assert [x["id"] for x in listed["items"]] == [mine["id"]]
    assert (await client.get(f"/api/broadcasts/{theirs['id']}")).status_code == 404
    for action in ("start", "pause", "resume", "cancel"):
        resp = await client.post(f"/api/broadcasts/{theirs['id']}/{action}", headers=headers)
        assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "broadcast_not_found"
    assert (await client.get(f"/api/broadcasts?business_id={b.business_id}")).status_code in (403, 404)
    # the same idempotency key in two businesses makes two broadcasts
    one = await client.post("/api/broadcasts", json={"text": "A", "idempotency_key": "same"}, headers=headers)
    headers_b = await login(client, b.agent_email)
    two = await client.post("/api/broadcasts", json={"text": "B", "idempotency_key": "same"}, headers=headers_b)
    assert one.status_code == 201 and two.status_code == 201
    assert (await two.get_json())["id"] != (await one.get_json())["id"]
    db.expire_all()
    assert db.get(Broadcast, theirs["id"]).status == "accepted" and queued_ids() == []


async def test_start_with_redis_down_still_runs_and_says_the_job_was_not_queued(
    db: Any, api_settings: Settings, private_redis: PrivateRedis
) -> None:
    tenant = make_tenant(db, 1)
    application = create_app(dataclasses.replace(api_settings, redis_url=private_redis.url))
    try:
        async with application.test_app() as test_app:
            client = test_app.test_client()
            headers = await login(client, tenant.agent_email)
            made = await (await client.post("/api/broadcasts", json={"text": "Hi"}, headers=headers)).get_json()
            private_redis.stop()
            resp = await client.post(f"/api/broadcasts/{made['id']}/start", headers=headers)
            body = await resp.get_json()
            assert resp.status_code == 200 and body["status"] == "running" and body["job_queued"] is False
    finally:
        application.extensions["prosaas"].close()
