"""Checks driven from the app's route table (``url_map``), so a new route is covered by them as
soon as it exists: CSRF on every state-changing ``/api/`` route and method, and every role
against every route that needs more than an agent. Also the tenancy of the leads CSV export."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlalchemy import select

from api.db.models import Lead, Role, User
from api.security import CSRF_EXEMPT, CSRF_HEADER, RANK, SAFE_METHODS, hash_password
from tests.api.conftest import PASSWORD, login, make_admin, make_tenant

PATH_ID = re.compile(r"<id\([^)]*\):(\w+)_id>")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PUBLIC = None  # no session needed
# The role each route needs (the effective minimum, wherever it is enforced: the decorator or the
# service). Every route of the app must be listed: a new route fails
# test_every_route_has_a_declared_role until its role is written down here.
POLICY: dict[tuple[str, str], Role | None] = {
    ("GET", "/static/<path:filename>"): PUBLIC,
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/docs/assets/<name>"): PUBLIC,
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/version"): PUBLIC,
    ("GET", "/metrics.json"): PUBLIC,  # its own token
    ("GET", "/health/whatsapp"): PUBLIC,
    ("POST", "/twilio/voice"): PUBLIC,  # Twilio's signature
    ("POST", "/twilio/stream-ended"): PUBLIC,
    ("POST", "/twilio/status"): PUBLIC,
    ("POST", "/internal/whatsapp/events"): PUBLIC,  # the gateway's signature (INTERNAL_SECRET)
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): Role.AGENT,
    ("POST", "/api/auth/logout-everywhere"): Role.AGENT,
    ("GET", "/api/auth/me"): Role.AGENT,
    ("GET", "/api/leads"): Role.AGENT,
    ("POST", "/api/leads"): Role.AGENT,
    ("GET", "/api/leads/{lead}"): Role.AGENT,
    ("PATCH", "/api/leads/{lead}"): Role.AGENT,
    ("GET", "/api/leads/export.csv"): Role.AGENT,
    ("GET", "/api/leads/{lead}/timeline"): Role.AGENT,
    ("GET", "/api/dashboard"): Role.AGENT,  # queue depths only for a system admin
    ("GET", "/api/ops/overview"): Role.SYSTEM_ADMIN,
    ("GET", "/api/ops/dead-letters"): Role.SYSTEM_ADMIN,
    ("GET", "/api/ops/dead-letters/<job_id>"): Role.SYSTEM_ADMIN,
    ("POST", "/api/ops/dead-letters/<job_id>/requeue"): Role.SYSTEM_ADMIN,
    ("DELETE", "/api/ops/dead-letters/<job_id>"): Role.SYSTEM_ADMIN,
    ("GET", "/api/calls"): Role.AGENT,
    ("GET", "/api/calls/{call}"): Role.AGENT,
    ("GET", "/api/calls/{call}/recording"): Role.AGENT,
    ("POST", "/api/calls/outbound"): Role.AGENT,
    ("POST", "/api/test-calls"): Role.ADMIN,  # a browser test call with the business's own agent
    ("GET", "/api/businesses"): Role.AGENT,
    ("POST", "/api/businesses"): Role.SYSTEM_ADMIN,
    ("GET", "/api/businesses/{business}"): Role.AGENT,
    ("PATCH", "/api/businesses/{business}"): Role.ADMIN,
    ("GET", "/api/users"): Role.ADMIN,
    ("POST", "/api/users"): Role.ADMIN,
    ("GET", "/api/users/{user}"): Role.ADMIN,  # of another user; one's own is open to an agent
    ("PATCH", "/api/users/{user}"): Role.ADMIN,  # likewise
    ("DELETE", "/api/users/{user}/sessions"): Role.ADMIN,
    ("GET", "/api/events"): Role.AGENT,
    ("POST", "/api/attachments"): Role.AGENT,
    ("GET", "/api/attachments/{attachment}"): Role.AGENT,
    ("GET", "/api/attachments/{attachment}/content"): Role.AGENT,
    ("GET", "/api/attachments/{attachment}/thumbnail"): Role.AGENT,
    ("GET", "/api/webhooks/deliveries"): Role.ADMIN,
    ("POST", "/api/webhooks/deliveries/{delivery}/redeliver"): Role.ADMIN,
    ("GET", "/api/email-accounts"): Role.ADMIN,
    ("POST", "/api/email-accounts"): Role.ADMIN,
    ("GET", "/api/email-accounts/{account}"): Role.ADMIN,
    ("PATCH", "/api/email-accounts/{account}"): Role.ADMIN,
    ("DELETE", "/api/email-accounts/{account}"): Role.ADMIN,
    ("POST", "/api/email-accounts/{account}/sync"): Role.ADMIN,
    ("GET", "/api/whatsapp/status"): Role.AGENT,
    ("POST", "/api/whatsapp/connect"): Role.ADMIN,
    ("GET", "/api/whatsapp/qr"): Role.ADMIN,
    ("POST", "/api/whatsapp/logout"): Role.ADMIN,
    ("POST", "/api/whatsapp/messages"): Role.AGENT,
    ("GET", "/api/whatsapp/conversations"): Role.AGENT,
    ("GET", "/api/whatsapp/conversations/{lead}/messages"): Role.AGENT,
    ("POST", "/api/whatsapp/conversations/{lead}/read"): Role.AGENT,
    ("GET", "/api/broadcasts"): Role.AGENT,
    ("POST", "/api/broadcasts"): Role.AGENT,
    ("GET", "/api/broadcasts/{broadcast}"): Role.AGENT,
    ("POST", "/api/broadcasts/{broadcast}/start"): Role.AGENT,
    ("POST", "/api/broadcasts/{broadcast}/pause"): Role.AGENT,
    ("POST", "/api/broadcasts/{broadcast}/resume"): Role.AGENT,
    ("POST", "/api/broadcasts/{broadcast}/cancel"): Role.AGENT,
}


def routes(app: Any) -> list[tuple[str, str]]:
    """(method, rule) of every route, path ids written as ``{lead}``, ``{user}``, …"""
    found = []
    for rule in app.app.url_map.iter_rules():
        path = PATH_ID.sub(r"{\1}", rule.rule)
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


async def test_every_route_has_a_declared_role(app: Any) -> None:
    table = routes(app)
    assert set(table) == set(POLICY), (
        f"routes without a declared role: {sorted(set(table) - set(POLICY))}; "
        f"declared but gone: {sorted(set(POLICY) - set(table))}"
    )


def fill(path: str, ids: dict[str, int]) -> str:
    return path.format(**ids)


def csrf_routes(app: Any) -> list[tuple[str, str]]:
    return [
        (method, path) for method, path in routes(app)
        if method in STATE_CHANGING and path.startswith("/api/") and path not in CSRF_EXEMPT
    ]


async def test_csrf_is_required_on_every_state_changing_api_route(app: Any, client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    make_admin(db)
    lead_id = db.scalar(select(Lead.id).where(Lead.business_id == tenant.business_id))
    user_id = db.scalar(select(User.id).where(User.email == tenant.agent_email))
    ids = {"lead": lead_id, "call": 1, "business": tenant.business_id, "user": user_id, "delivery": 1, "account": 1, "broadcast": 1}
    checked = csrf_routes(app)
    assert {"POST", "PATCH"} <= {method for method, _ in checked} and len(checked) >= 7, checked
    good = await login(client, "root@example.test")
    for method, path in checked:
        url = fill(path, ids)
        for headers in ({}, {CSRF_HEADER: "forged"}, {CSRF_HEADER: ""}):
            resp = await client.open(url, method=method, json={}, headers=headers)
            body = await resp.get_json()
            assert resp.status_code == 403 and body["error"]["code"] == "csrf_failed", (method, url, headers, body)
    # the session is intact and the right token passes the check (the route answers itself)
    for method, path in checked:
        if path in ("/api/auth/logout", "/api/auth/logout-everywhere"):
            continue  # they end the session the remaining checks use
        resp = await client.open(fill(path, ids), method=method, json={}, headers=good)
        body = await resp.get_json()
        assert body is None or body.get("error", {}).get("code") != "csrf_failed", (method, path, body)
    assert SAFE_METHODS.isdisjoint(STATE_CHANGING)


async def test_every_role_against_every_route_that_needs_more_than_an_agent(app: Any, client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    make_admin(db)
    admin_email = "admin1@example.test"
    db.add(User(email=admin_email, role=Role.ADMIN, business_id=tenant.business_id, password_hash=hash_password(PASSWORD)))
    db.commit()
    emails = {Role.AGENT: tenant.agent_email, Role.ADMIN: admin_email, Role.OWNER: tenant.owner_email,
              Role.SYSTEM_ADMIN: "root@example.test"}
    lead_id = db.scalar(select(Lead.id).where(Lead.business_id == tenant.business_id))
    owner_id = db.scalar(select(User.id).where(User.email == tenant.owner_email))
    agent_id = db.scalar(select(User.id).where(User.email == tenant.agent_email))
    # another user than the caller, never one above the caller (that refusal is a different rule)
    other = {role: agent_id for role in Role} | {Role.AGENT: owner_id}
    guarded = [(m, p, need) for (m, p), need in POLICY.items() if need is not None and RANK[need] > RANK[Role.AGENT]]
    assert ("POST", "/api/users", Role.ADMIN) in guarded and len(guarded) >= 5
    table = set(routes(app))
    for role, email in emails.items():
        headers = await login(client, email)
        ids = {"lead": lead_id, "call": 1, "business": tenant.business_id, "user": other[role], "delivery": 1, "account": 1, "broadcast": 1}
        for method, path, need in guarded:
            assert (method, path) in table, (method, path)
            url = fill(path, ids)
            resp = await client.open(url, method=method, json={}, headers=headers)
            body = await resp.get_json()
            if RANK[role] < RANK[need]:
                assert resp.status_code == 403, (role, method, url, body)
                assert body["error"]["code"] == "role_required", (role, method, url, body)
            else:
                assert resp.status_code not in (401, 403), (role, method, url, body)
        await client.post("/api/auth/logout", headers=headers)


def export_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("email_of", ["agent", "owner"])
async def test_the_leads_csv_export_has_only_the_callers_business(client: Any, db: Any, email_of: str) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    db.add_all([Lead(business_id=b.business_id, phone_e164="+15559990001", name="B secret"),
                Lead(business_id=a.business_id, phone_e164="+15559990002", name="A second")])
    db.commit()
    await login(client, getattr(a, f"{email_of}_email"))
    for query in ("", "?q=Lead", "?status=new", "?source=manual"):
        resp = await client.get("/api/leads/export.csv" + query)
        assert resp.status_code == 200
        rows = export_rows(await resp.get_data(as_text=True))
        phones = {row["phone_e164"] for row in rows}
        assert rows and "+14440000002" not in phones and "+15559990001" not in phones, (query, rows)
        assert phones <= {"+14440000001", "+15559990002"}, (query, rows)
    rows = export_rows(await (await client.get("/api/leads/export.csv")).get_data(as_text=True))
    assert {row["name"] for row in rows} == {"Lead of 1", "A second"}
