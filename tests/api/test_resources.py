from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from api.app import create_app
from api.db.models import Call, Lead
from tests.api.conftest import login, make_admin, make_tenant


def add_call(db: Any, business_id: int, sid: str, lead_id: int | None = None, **kw: Any) -> Call:
    call = Call(call_sid=sid, business_id=business_id, lead_id=lead_id, status="completed",
                transcript=[{"role": "caller", "text": "hi"}], events={"dtmf": ["1"]}, **kw)
    db.add(call)
    db.commit()
    return call


async def test_leads_list_filter_search_and_paginate(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    for i in range(30):
        db.add(Lead(business_id=tenant.business_id, phone_e164=f"+1777000{i:04d}", name=f"Person {i}",
                    status="won" if i % 3 == 0 else "new"))
    db.commit()
    await login(client, tenant.agent_email)
    body = await (await client.get("/api/leads?per_page=10&page=2")).get_json()
    assert (body["total"], body["pages"], len(body["items"]), body["page"]) == (31, 4, 10, 2)
    won = await (await client.get("/api/leads?status=won&per_page=200")).get_json()
    assert won["total"] == 10 and {lead["status"] for lead in won["items"]} == {"won"}
    found = await (await client.get("/api/leads?q=Person%2012")).get_json()
    assert [lead["name"] for lead in found["items"]] == ["Person 12"]
    percent = await (await client.get("/api/leads?q=%25")).get_json()
    assert percent["total"] == 0  # LIKE wildcards are escaped


@pytest.mark.parametrize(
    "query", ["page=0", "per_page=1000", "status=bogus", "sort=id", "unknown=1", "page=1&page=2", "q="]
)
async def test_bad_list_queries_are_refused(client: Any, db: Any, query: str) -> None:
    tenant = make_tenant(db, 1)
    await login(client, tenant.agent_email)
    resp = await client.get(f"/api/leads?{query}")
    assert resp.status_code == 422, query
    error = (await resp.get_json())["error"]
    assert error["code"] == "invalid_query" and error["message"].startswith("invalid query parameters: ")
    assert [d["field"] for d in error["details"]] == [query.split("=")[0]]


async def test_a_repeated_query_parameter_says_so(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    await login(client, tenant.agent_email)
    error = (await (await client.get("/api/leads?page=1&page=2")).get_json())["error"]
    assert error["details"] == [{"field": "page", "problem": "given more than once; expected a single value",
                                 "type": "int_type"}]


async def test_ids_outside_the_column_range_are_404(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    await login(client, tenant.agent_email)
    for path in ("/api/leads/0", f"/api/leads/{2**31}", f"/api/calls/{2**63}", f"/api/users/{10**30}"):
        assert (await client.get(path)).status_code == 404, path


async def test_lead_create_update_and_conflict(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    resp = await client.post("/api/leads", json={"phone_e164": "+1 (555) 222-3333", "name": "Ann"}, headers=headers)
    assert resp.status_code == 201
    lead = await resp.get_json()
    assert lead["phone_e164"] == "+15552223333" and lead["status"] == "new"
    dup = await client.post("/api/leads", json={"phone_e164": "+15552223333"}, headers=headers)
    assert dup.status_code == 409 and (await dup.get_json())["error"]["code"] == "lead_exists"
    resp = await client.patch(f"/api/leads/{lead['id']}", json={"status": "qualified"}, headers=headers)
    assert (await resp.get_json())["status"] == "qualified"
    bad = await client.patch(f"/api/leads/{lead['id']}", json={"status": "married"}, headers=headers)
    assert bad.status_code == 422
    bad = await client.post("/api/leads", json={"phone_e164": "not a phone"}, headers=headers)
    assert bad.status_code == 422 and "E.164" in json.dumps(await bad.get_json())


async def test_leads_csv_export_neutralises_formulas(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    db.add(Lead(business_id=tenant.business_id, phone_e164="+15553334444", name="=HYPERLINK(1)"))
    db.commit()
    await login(client, tenant.agent_email)
    resp = await client.get("/api/leads/export.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await resp.get_data(as_text=True))))
    assert {row["name"] for row in rows} == {"Lead of 1", "'=HYPERLINK(1)"}


async def test_calls_list_and_detail_show_lead_transcript_and_events(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    lead_id = db.query(Lead).filter_by(business_id=tenant.business_id).one().id
    call = add_call(db, tenant.business_id, "CA1", lead_id)
    await login(client, tenant.agent_email)
    listing = await (await client.get("/api/calls")).get_json()
    assert listing["total"] == 1 and listing["items"][0]["lead"]["name"] == "Lead of 1"
    detail = await (await client.get(f"/api/calls/{call.id}")).get_json()
    assert detail["transcript"] == [{"role": "caller", "text": "hi"}] and detail["events"] == {"dtmf": ["1"]}


async def test_recording_download_supports_range(app: Any, client: Any, db: Any, api_settings: Any) -> None:
    tenant = make_tenant(db, 1)
    api_settings.recordings_dir.mkdir(parents=True)
    data = bytes(range(256)) * 8
    (api_settings.recordings_dir / "CA1.wav").write_bytes(data)
    call = add_call(db, tenant.business_id, "CA1", recording_path=str(api_settings.recordings_dir / "CA1.wav"))
    outside = add_call(db, tenant.business_id, "CA2", recording_path="/etc/passwd")
    await login(client, tenant.agent_email)
    full = await client.get(f"/api/calls/{call.id}/recording")
    assert full.status_code == 200 and await full.get_data() == data
    part = await client.get(f"/api/calls/{call.id}/recording", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert await part.get_data() == data[100:200]
    assert (await client.get(f"/api/calls/{outside.id}/recording")).status_code == 404


async def test_tenant_isolation_every_row_of_b_is_404_for_a(client: Any, db: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    b_lead = db.query(Lead).filter_by(business_id=b.business_id).one()
    b_call = add_call(db, b.business_id, "CA-b", b_lead.id)
    headers = await login(client, a.owner_email)
    me = await (await client.get("/api/auth/me")).get_json()
    b_user_id = me["user"]["id"] + 2  # tenant 2's owner (ids are sequential per test database)
    reads = [
        f"/api/leads/{b_lead.id}", f"/api/calls/{b_call.id}", f"/api/calls/{b_call.id}/recording",
        f"/api/businesses/{b.business_id}", f"/api/users/{b_user_id}",
        f"/api/leads?business_id={b.business_id}", f"/api/calls?business_id={b.business_id}",
        f"/api/users?business_id={b.business_id}", f"/api/leads/export.csv?business_id={b.business_id}",
    ]
    for path in reads:
        resp = await client.get(path)
        assert resp.status_code == 404, (path, resp.status_code)
    writes = [
        ("PATCH", f"/api/leads/{b_lead.id}", {"status": "lost"}),
        ("PATCH", f"/api/businesses/{b.business_id}", {"greeting": "hacked"}),
        ("PATCH", f"/api/users/{b_user_id}", {"name": "hacked"}),
        ("POST", "/api/calls/outbound", {"lead_id": b_lead.id}),
        ("POST", f"/api/leads?business_id={b.business_id}", {"phone_e164": "+15550009999"}),
    ]
    for method, path, payload in writes:
        resp = await client.open(path, method=method, json=payload, headers=headers)
        assert resp.status_code == 404, (path, resp.status_code)
    # and B's data is unchanged, while A's own listing never shows it
    db.expire_all()
    assert db.get(Lead, b_lead.id).status == "new"
    ids = {lead["id"] for lead in (await (await client.get("/api/leads")).get_json())["items"]}
    assert b_lead.id not in ids
    assert [c["call_sid"] for c in (await (await client.get("/api/calls")).get_json())["items"]] == []


async def test_system_admin_manages_businesses_and_users(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, make_admin(db))
    resp = await client.post("/api/businesses", json={"name": "New Co", "phone_e164": "+15556667777"}, headers=headers)
    assert resp.status_code == 201
    new = await resp.get_json()
    dup = await client.post("/api/businesses", json={"name": "X", "phone_e164": "+15556667777"}, headers=headers)
    assert dup.status_code == 409
    resp = await client.post("/api/users", json={"email": "boss@new.test", "password": "long enough pw", "role": "owner",
                                                 "business_id": new["id"]}, headers=headers)
    assert resp.status_code == 201
    listing = await (await client.get(f"/api/leads?business_id={tenant.business_id}")).get_json()
    assert listing["total"] == 1
    assert (await client.get("/api/leads")).status_code == 422  # an admin must name the business


async def test_roles_limit_what_business_users_may_do(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    assert (await client.get("/api/users")).status_code == 403
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"greeting": "x"}, headers=headers)
    assert resp.status_code == 403
    owner = app_client = client
    del app_client
    await client.post("/api/auth/logout", headers=headers)
    headers = await login(owner, tenant.owner_email)
    resp = await owner.post("/api/users", json={"email": "root2@x.test", "password": "long enough pw",
                                                "role": "system_admin"}, headers=headers)
    assert resp.status_code == 403
    resp = await owner.patch(f"/api/businesses/{tenant.business_id}",
                             json={"greeting": "Welcome!", "max_concurrent_calls": 3}, headers=headers)
    assert resp.status_code == 200 and (await resp.get_json())["greeting"] == "Welcome!"
    resp = await owner.patch(f"/api/businesses/{tenant.business_id}", json={"unknown": 1}, headers=headers)
    assert resp.status_code == 422


class FakeTwilioRest:
    """A local stand-in for api.twilio.com's Calls endpoint (form-encoded POST → call JSON)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                form = {k: v if len(v) > 1 else v[0] for k, v in parse_qs(body).items()}
                fake.requests.append({"path": self.path, "form": form, "auth": self.headers.get("Authorization")})
                if form.get("To") == "+15550000000":
                    payload = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
                    status = 400
                else:
                    payload = {"sid": "CA" + "f" * 32, "status": "queued", "to": form["To"], "from": form["From"]}
                    status = 201
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilioRest:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest() as fake:
        yield fake


async def test_outbound_call_goes_through_the_twilio_rest_client(
    api_settings: Any, db: Any, fake_twilio: FakeTwilioRest, tmp_path: Path
) -> None:
    tenant = make_tenant(db, 1)
    lead = db.query(Lead).filter_by(business_id=tenant.business_id).one()
    bad_lead = Lead(business_id=tenant.business_id, phone_e164="+15550000000")
    db.add(bad_lead)
    db.commit()
    app = create_app(replace(api_settings, twilio_api_base_url=fake_twilio.url))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        headers = await login(client, tenant.agent_email)
        resp = await client.post("/api/calls/outbound", json={"lead_id": lead.id}, headers=headers)
        assert resp.status_code == 201, await resp.get_data(as_text=True)
        call = await resp.get_json()
        failed = await client.post("/api/calls/outbound", json={"lead_id": bad_lead.id}, headers=headers)
    assert call["direction"] == "outbound" and call["to"] == lead.phone_e164 and call["status"] == "queued"
    [request, _] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{'AC' + '0' * 32}/Calls.json"
    assert request["form"]["To"] == lead.phone_e164 and request["form"]["From"] == tenant.phone
    assert request["form"]["Url"] == "https://api.example.test/twilio/voice"
    assert request["form"]["StatusCallback"] == "https://api.example.test/twilio/status"
    assert request["auth"].startswith("Basic ")
    assert failed.status_code == 502
    assert (await failed.get_json())["error"]["details"]["twilio_code"] == 21211


async def test_a_business_menu_the_calls_service_could_not_use_is_refused_with_422(client: Any, db: Any) -> None:
    """The API checks brain_settings.menu with the contract's own reader, so an owner learns at
    once that a key is not on a keypad instead of callers silently hearing the default menu."""
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    url = f"/api/businesses/{tenant.business_id}"
    bad_menus: list[Any] = [
        [{"digit": "#", "label": "billing", "intent": "billing"}],
        [{"digit": "12", "label": "billing", "intent": "billing"}],
        [{"digit": "3", "label": "billing", "intent": ""}],
        "press 1 for sales",
        [["1", "sales"]],
    ]
    for menu in bad_menus:
        resp = await client.patch(url, json={"brain_settings": {"menu": menu}}, headers=headers)
        assert resp.status_code == 422, menu
        body = await resp.get_json()
        assert "menu" in str(body), body
    good = [{"digit": "3", "label": "billing questions", "intent": "billing"}]
    resp = await client.patch(url, json={"brain_settings": {"menu": good}}, headers=headers)
    assert resp.status_code == 200
    assert (await resp.get_json())["brain_settings"]["menu"] == good
