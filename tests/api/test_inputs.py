"""No 500 from any input (issue 10): deep nesting, ids beyond int64, NUL bytes, huge counts and
phone numbers with non-ASCII digits get the 4xx they deserve, with the JSON error body, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from api.db.models import Call, Lead
from api.phones import normalize_e164
from tests.api.conftest import login, make_admin, make_tenant
from tests.api.test_twilio import SID, open_capacity, post, voice_form

BIG = "99999999999999999999"  # > 2**64


def assert_json_error(resp: Any, body: Any, status: int) -> None:
    assert resp.status_code == status, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("raw", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000])
async def test_deeply_nested_json_is_400_without_login(client: Any, raw: bytes) -> None:
    resp = await client.post("/api/auth/login", data=raw, headers={"Content-Type": "application/json"})
    body = await resp.get_json()
    assert_json_error(resp, body, 400)
    assert body["error"]["code"] == "malformed_json" and "nested" in body["error"]["message"]


async def test_nesting_is_bounded_before_parsing_even_where_the_model_takes_any_json(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    deep: Any = "x"
    for _ in range(200):  # parses fine (below the recursion limit), but no business setting is that deep
        deep = {"k": deep}
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"brain_settings": {"prompts": deep}},
                              headers=headers)
    assert_json_error(resp, await resp.get_json(), 400)
    # a bracket inside a string is text, not nesting
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"greeting": "[" * 500}, headers=headers)
    assert resp.status_code == 200, await resp.get_data(as_text=True)


async def test_a_json_body_over_the_json_size_bound_is_413(client: Any) -> None:
    raw = json.dumps({"email": "a@b.c", "password": "x" * (300 * 1024)}).encode()
    resp = await client.post("/api/auth/login", data=raw, headers={"Content-Type": "application/json"})
    assert_json_error(resp, await resp.get_json(), 413)


ID_ROUTES = [
    ("GET", "/api/leads/{}"), ("PATCH", "/api/leads/{}"), ("GET", "/api/calls/{}"), ("GET", "/api/calls/{}/recording"),
    ("GET", "/api/users/{}"), ("PATCH", "/api/users/{}"), ("GET", "/api/businesses/{}"), ("PATCH", "/api/businesses/{}"),
]


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
async def test_ids_beyond_int64_are_404_on_every_id_route(client: Any, db: Any, method: str, path: str) -> None:
    make_admin(db)
    headers = await login(client, "root@example.test")
    for value in (BIG, str(2**63), str(2**31), "0"):
        resp = await client.open(path.format(value), method=method, json={}, headers=headers)
        assert_json_error(resp, await resp.get_json(), 404)


def nul_cases(business_id: int, user_id: int, lead_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", "/api/leads", {"phone_e164": "+15551112222", "name": "Ann\x00"}),
        ("POST", "/api/leads", {"phone_e164": "+15551112222", "notes": "a\x00b"}),
        ("PATCH", f"/api/leads/{lead_id}", {"name": "\x00"}),
        ("PATCH", f"/api/users/{user_id}", {"name": "Bob\x00"}),
        ("PATCH", f"/api/businesses/{business_id}", {"greeting": "Hello\x00"}),
        ("PATCH", f"/api/businesses/{business_id}", {"brain_settings": {"prompts": {"system": "a\x00"}}}),
        ("PATCH", f"/api/businesses/{business_id}", {"brain_settings": {"k\x00": 1}}),
        ("GET", "/api/leads?q=" + quote("a\x00"), {}),
        ("GET", "/api/leads/export.csv?q=" + quote("\x00"), {}),
    ]


async def test_a_nul_byte_in_any_text_is_422(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.post("/api/auth/login", json={"email": "a\x00@b.c", "password": "x"})
    body = await resp.get_json()
    assert_json_error(resp, body, 422)
    assert body["error"]["details"][0]["field"] == "email"
    me = await (await client.get("/api/auth/me")).get_json()
    lead_id = db.scalar(select(Lead.id).where(Lead.business_id == tenant.business_id))
    for method, path, payload in nul_cases(tenant.business_id, me["user"]["id"], lead_id):
        kw: dict[str, Any] = {"json": payload} if method != "GET" else {}
        resp = await client.open(path, method=method, headers=headers, **kw)
        body = await resp.get_json() if resp.mimetype == "application/json" else await resp.get_data(as_text=True)
        assert resp.status_code == 422, (method, path, payload, body)
        assert body["error"]["code"] in {"invalid_body", "invalid_query"}, body
        assert "NUL" in body["error"]["message"], body


async def test_a_nul_byte_in_a_signed_webhook_is_stripped(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone, caller="+1333000\x000009"))
    assert status == 200, body
    assert ET.fromstring(body).find("Connect") is not None
    db.expire_all()
    call = db.scalar(select(Call).where(Call.call_sid == SID))
    assert call is not None and call.from_number == "+13330000009"
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone, sid="CA" + "b2" * 16,
                                                                  caller="anonymous\x00"))
    assert status == 200, body


async def test_a_status_callback_with_a_huge_duration_is_422(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    assert (await post(client, "/twilio/voice", voice_form(tenant.phone)))[0] == 200
    for duration in (BIG, "1" * 5000, "٣"):
        form = {"CallSid": SID, "CallStatus": "completed", "CallDuration": duration}
        status, body = await post(client, "/twilio/status", form)
        assert status == 422, (duration, body)
        assert json.loads(body)["error"]["details"][0]["field"] == "CallDuration"
    status, _ = await post(client, "/twilio/status", {"CallSid": SID, "CallStatus": "completed", "CallDuration": "42"})
    assert status == 204


@pytest.mark.parametrize("raw", ["+1555111001١", "+١5551110011", "+1555111001\uff11", "+1555", "+999123456789",
                                 "15551110011", "+1555111001x"])
def test_normalize_e164_refuses_what_is_not_an_ascii_e164_number(raw: str) -> None:
    assert normalize_e164(raw) is None


@pytest.mark.parametrize(("raw", "e164"), [("+1 (555) 222-3333", "+15552223333"), ("0044 20 7183 8750", "+442071838750"),
                                           ("+15550100000", "+15550100000")])
def test_normalize_e164_keeps_e164_output(raw: str, e164: str) -> None:
    assert normalize_e164(raw) == e164


async def test_phone_numbers_with_non_ascii_digits_are_refused_everywhere(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.post("/api/leads", json={"phone_e164": "+1555111001١"}, headers=headers)
    assert_json_error(resp, await resp.get_json(), 422)
    resp = await client.patch(f"/api/businesses/{tenant.business_id}", json={"whatsapp_number": "+1555111001١"},
                              headers=headers)
    assert_json_error(resp, await resp.get_json(), 422)
    # the webhook: a business number written with an Arabic-Indic digit is no number of ours
    open_capacity(redis_client)
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone[:-1] + "١"))
    assert status == 200 and ET.fromstring(body).find("Reject") is not None, body
    # …and a caller whose number has one is not stored as if it were E.164
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone, caller="+1333000000٩"))
    assert status == 200, body
    db.expire_all()
    call = db.scalar(select(Call).where(Call.call_sid == SID))
    assert call is not None and call.from_number != "+13330000009"


def test_the_seed_checks_its_phone_number_too(db: Any) -> None:
    from api.seed import seed

    with pytest.raises(ValueError, match="E.164"):
        seed(db, phone="+1555010000١")
    assert [login.email for login in seed(db, phone="+1 555 010 0000")][0] == "owner@demo.prosaas.local"
