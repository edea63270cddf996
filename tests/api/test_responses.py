"""Real responses validate against the models the OpenAPI document shows (``api/responses.py``);
the models refuse unknown fields, so a field a service adds must be documented too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import update

from api import responses
from api.db.models import Call, WebhookDelivery
from tests.api.conftest import login, make_admin, make_tenant


async def _check(client: Any, model: type[BaseModel], path: str, method: str = "GET", **kw: Any) -> Any:
    resp = await client.open(path, method=method, **kw)
    assert resp.status_code < 300, (path, resp.status_code, await resp.get_data(as_text=True))
    body = await resp.get_json()
    model.model_validate(body)
    return body


async def test_resource_responses_match_their_documented_models(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    lead = await _check(client, responses.Lead, "/api/leads", "POST", json={"phone_e164": "+15552223333"}, headers=headers)
    call = Call(call_sid="CA-doc", business_id=tenant.business_id, lead_id=lead["id"], status="completed",
                transcript=[{"role": "caller", "text": "hi"}], events={"dtmf": ["1"]})
    db.add(call)
    db.commit()
    await _check(client, responses.SessionInfo, "/api/auth/me")
    await _check(client, responses.LeadPage, "/api/leads")
    await _check(client, responses.LeadDetail, f"/api/leads/{lead['id']}")
    await _check(client, responses.Lead, f"/api/leads/{lead['id']}", "PATCH", json={"status": "won"}, headers=headers)
    page = await _check(client, responses.CallPage, "/api/calls")
    assert page["items"][0]["lead"]["id"] == lead["id"]
    await _check(client, responses.CallDetail, f"/api/calls/{call.id}")
    await _check(client, responses.BusinessPage, "/api/businesses")
    await _check(client, responses.Business, f"/api/businesses/{tenant.business_id}")
    await _check(client, responses.Business, f"/api/businesses/{tenant.business_id}", "PATCH",
                 json={"greeting": "Hi"}, headers=headers)
    await _check(client, responses.Business, f"/api/businesses/{tenant.business_id}", "PATCH", headers=headers,
                 json={"webhook_url": "https://hooks.example.test/in", "webhook_secret": "s" * 16,
                       "recording_retention_days": 30})
    await _check(client, responses.Lead, f"/api/leads/{lead['id']}", "PATCH", json={"status": "lost"}, headers=headers)
    deliveries = await _check(client, responses.WebhookDeliveryPage, "/api/webhooks/deliveries")
    delivery_id = deliveries["items"][0]["id"]
    db.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(status="failed"))
    db.commit()
    await _check(client, responses.WebhookDelivery, f"/api/webhooks/deliveries/{delivery_id}/redeliver", "POST",
                 headers=headers)
    users = await _check(client, responses.UserPage, "/api/users")
    user_id = users["items"][0]["id"]
    await _check(client, responses.User, f"/api/users/{user_id}")
    await _check(client, responses.User, f"/api/users/{user_id}", "PATCH", json={"name": "N"}, headers=headers)
    await _check(client, responses.User, "/api/users", "POST", headers=headers,
                 json={"email": "new@example.test", "password": "long enough pw"})
    await _check(client, responses.LoggedOut, "/api/auth/logout", "POST", headers=headers)
    headers = await login(client, make_admin(db))
    await _check(client, responses.Business, "/api/businesses", "POST", headers=headers,
                 json={"name": "New Co", "phone_e164": "+15556667777"})


async def test_runbook_responses_match_their_documented_models(client: Any, db: Any) -> None:
    await _check(client, responses.Health, "/api/health")
    await _check(client, responses.Readiness, "/readyz")
    await _check(client, responses.VersionInfo, "/version")
    await _check(client, responses.WhatsAppHealth, "/health/whatsapp")


async def test_error_bodies_match_the_error_model(client: Any, db: Any) -> None:
    for method, path, kw in (
        ("POST", "/api/auth/login", {"json": {"email": "a@b.c", "password": "x", "extra": 1}}),
        ("POST", "/api/auth/login", {"data": "{", "headers": {"Content-Type": "application/json"}}),
        ("GET", "/api/leads", {}),
        ("GET", "/nowhere", {}),
        ("POST", "/twilio/status", {"form": {"CallSid": "CA1"}}),
    ):
        resp = await client.open(path, method=method, **kw)
        assert resp.status_code >= 400
        responses.ErrorBody.model_validate(await resp.get_json())
