"""``POST /api/test-calls`` on both databases: the webhook's admission (cluster capacity, the
business limit and its pending accounting), the stored setup, the call row marked test, the
browser's access token and start parameters, and the refusals naming their reason."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import select

from api.db.models import Business, Call, Lead
from contracts.browser_access import AccessGrant, verify_access_token
from contracts.call_setup import read_setup
from contracts.call_token import verify_call_token
from tests.api.conftest import INTERNAL, login, make_admin, make_tenant
from tests.api.test_twilio import open_capacity


async def start(client: Any, headers: dict[str, str], query: str = "") -> tuple[int, dict[str, Any], Any]:
    resp = await client.post("/api/test-calls" + query, headers=headers)
    return resp.status_code, await resp.get_json(), resp


def rows(db: Any) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call)))


async def test_admits_a_test_call_like_the_voice_webhook(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    leads_before = db.scalars(select(Lead)).all()
    status, body, _ = await start(client, await login(client, tenant.owner_email))
    assert status == 201, body
    sid = body["call_sid"]
    assert sid.startswith("CA") and len(sid) == 34
    path, _, query = body["ws_path"].partition("?")
    assert path == "/ws/browser"
    [token] = parse_qs(query)["access"]
    grant = verify_access_token(INTERNAL, token, now=time.time(), call_sid=sid)
    assert grant == AccessGrant(sid, str(tenant.business_id), grant.expires_at)  # type: ignore[union-attr]
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == grant.expires_at  # type: ignore[union-attr]
    assert 25 <= grant.expires_at - time.time() <= 31  # type: ignore[union-attr]
    params = body["parameters"]
    assert verify_call_token(INTERNAL, sid, params["token"])
    assert params | {"token": ""} == {"business_id": str(tenant.business_id), "token": "", "direction": "inbound",
                                      "from": tenant.phone, "to": tenant.phone, "test": "1"}
    # The setup the calls service reads, marked test, with no lead.
    reading = read_setup(redis_client.get(f"calls:setup:{sid}"))
    assert reading.problems == () and reading.setup.test is True and reading.setup.lead is None
    assert reading.setup.greeting == "Hello from 1" and reading.setup.caller == tenant.phone
    # Counted as pending for the business, like a webhook's call.
    assert redis_client.zrange(f"calls:business:{tenant.business_id}:pending", 0, -1) == [sid]
    [call] = rows(db)
    assert (call.call_sid, call.business_id, call.status, call.events) == (sid, tenant.business_id, "ringing", {"test": True})
    assert call.from_number == tenant.phone and call.lead_id is None
    assert db.scalars(select(Lead)).all() == leads_before
    # The calls list shows it, flagged.
    listed = await (await client.get("/api/calls")).get_json()
    assert [(c["call_sid"], c["test"]) for c in listed["items"]] == [(sid, True)]


async def test_the_business_limit_and_pending_calls_apply(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1, max_calls=2)
    open_capacity(redis_client)
    headers = await login(client, tenant.owner_email)
    assert [(await start(client, headers))[0] for _ in range(2)] == [201, 201]
    status, body, resp = await start(client, headers)
    assert status == 429 and body["error"]["code"] == "business_limit", body
    assert "max_concurrent_calls" in body["error"]["message"] and resp.headers["Retry-After"] == "5"
    refused = [c for c in rows(db) if c.status == "rejected"]
    assert len(refused) == 1 and refused[0].end_reason == "business_limit" and refused[0].events == {"test": True}
    assert redis_client.get(f"calls:setup:{refused[0].call_sid}") is None
    assert redis_client.zcard(f"calls:business:{tenant.business_id}:pending") == 2


async def test_a_full_cluster_or_no_calls_service_is_refused_by_name(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    status, body, _ = await start(client, headers)  # no calls service ever reported capacity
    assert (status, body["error"]["code"]) == (409, "no_capacity")
    open_capacity(redis_client, active=50, capacity=50)
    status, body, _ = await start(client, headers)
    assert (status, body["error"]["code"]) == (429, "capacity")
    events = [e for _, e in redis_client.xrange("calls:events") if e.get("type") == "rejected"]
    assert [e["reason"] for e in events] == ["no_capacity", "capacity"]


async def test_roles_and_tenancy(client: Any, db: Any, redis_client: Any) -> None:
    one, two = make_tenant(db, 1), make_tenant(db, 2)
    open_capacity(redis_client)
    agent = await login(client, one.agent_email)
    status, body, _ = await start(client, agent)
    assert (status, body["error"]["code"]) == (403, "role_required")
    await client.post("/api/auth/logout", headers=agent)
    owner = await login(client, one.owner_email)
    status, body, _ = await start(client, owner, f"?business_id={two.business_id}")
    assert (status, body["error"]["code"]) == (404, "business_not_found")
    await client.post("/api/auth/logout", headers=owner)
    admin = await login(client, make_admin(db))
    status, body, _ = await start(client, admin)
    assert (status, body["error"]["code"]) == (422, "business_required")
    status, body, _ = await start(client, admin, "?business_id=999999")
    assert (status, body["error"]["code"]) == (404, "business_not_found")
    status, body, _ = await start(client, admin, f"?business_id={two.business_id}")
    assert status == 201 and body["parameters"]["business_id"] == str(two.business_id)
    assert [c.business_id for c in rows(db)] == [two.business_id]


async def test_csrf_and_session_are_required(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    status, body, _ = await start(client, {})
    assert status == 401
    await login(client, tenant.owner_email)
    status, body, _ = await start(client, {})  # logged in, but no CSRF header
    assert status == 403 and "csrf" in body["error"]["code"]
    assert rows(db) == []


async def test_an_inactive_business_takes_no_test_call(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    headers = await login(client, tenant.owner_email)
    business = db.get(Business, tenant.business_id)
    business.is_active = False
    db.commit()
    status, body, _ = await start(client, headers)
    assert (status, body["error"]["code"]) == (409, "business_inactive")
    assert rows(db) == []


async def test_the_full_stream_url_is_given_when_the_calls_service_has_its_own_origin(
    api_settings: Any, db: Any, redis_client: Any
) -> None:
    # Behind a gateway the browser opens ws_path on the API's host (ws_url null); in the local
    # stack the calls service is on its own port, which CALLS_PUBLIC_WS_URL names.
    import dataclasses

    from api.app import create_app

    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    for origin, expected in (("", None), ("ws://127.0.0.1:5050", "ws://127.0.0.1:5050")):
        application = create_app(dataclasses.replace(api_settings, calls_public_ws_url=origin))
        async with application.test_app() as test_app:
            client = test_app.test_client()
            status, body, _ = await start(client, await login(client, tenant.owner_email))
        application.extensions["prosaas"].close()
        assert status == 201, body
        assert body["ws_path"].startswith("/ws/browser?access=")
        assert body["ws_url"] == (None if expected is None else expected + body["ws_path"])
