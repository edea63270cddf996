from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
import trio
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from api.db.models import Call
from api.services.call_records import store_call_record
from contracts.call_record import read_record
from contracts.call_token import verify_call_token
from tests.api.conftest import AUTH_TOKEN, INTERNAL, PUBLIC, make_tenant

SID = "CA" + "a1" * 16


def signed(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, Any]:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return {
        "data": urlencode(form),
        "headers": {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
    }


def voice_form(to: str, sid: str = SID, caller: str = "+13330000009") -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": caller, "To": to,
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


def open_capacity(redis_client: Any, active: int = 0, capacity: int = 50) -> None:
    redis_client.set("calls:active_count", active)
    redis_client.set("calls:capacity", capacity)


async def post(client: Any, path: str, form: dict[str, str], **kw: Any) -> tuple[int, str]:
    resp = await client.post(path, **signed(path, form, **kw))
    return resp.status_code, await resp.get_data(as_text=True)


def calls(db: Any) -> list[Call]:
    db.expire_all()
    return list(db.scalars(select(Call)))


async def test_voice_connects_the_stream_with_parameters_token_and_setup(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone))
    assert status == 200, body
    root = ET.fromstring(body)
    connect = root.find("Connect")
    assert connect is not None and connect.get("action") == PUBLIC + "/twilio/stream-ended"
    stream = connect.find("Stream")
    assert stream is not None and stream.get("url") == "wss://api.example.test/ws/twilio"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert params["business_id"] == str(tenant.business_id)
    assert verify_call_token(INTERNAL, SID, params["token"])
    assert params["from"] == "+13330000009" and params["to"] == tenant.phone
    setup = json.loads(redis_client.get(f"calls:setup:{SID}"))
    assert 590 <= redis_client.ttl(f"calls:setup:{SID}") <= 600
    assert setup["business_id"] == str(tenant.business_id) and setup["greeting"] == "Hello from 1"
    assert setup["brain"] == "echo" and setup["menu"] == [{"digit": "1", "label": "new customers", "intent": "sales"}]
    assert setup["lead"] is None
    [call] = calls(db)
    assert (call.call_sid, call.status, call.business_id) == (SID, "ringing", tenant.business_id)


async def test_known_caller_is_linked_to_the_lead_in_setup(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    await post(client, "/twilio/voice", voice_form(tenant.phone, caller="+14440000001"))
    setup = json.loads(redis_client.get(f"calls:setup:{SID}"))
    assert setup["lead"]["name"] == "Lead of 1"
    assert calls(db)[0].lead_id == setup["lead"]["id"]


@pytest.mark.parametrize("headers", [{}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}])
async def test_voice_without_a_valid_signature_is_403_and_changes_nothing(
    client: Any, db: Any, redis_client: Any, headers: dict[str, str]
) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    resp = await client.post("/twilio/voice", data=urlencode(voice_form(tenant.phone)),
                             headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert resp.status_code == 403
    assert (await resp.get_json())["error"]["code"] == "bad_signature"
    assert redis_client.get(f"calls:setup:{SID}") is None and calls(db) == []


async def test_signature_with_another_token_or_tampered_form_is_refused(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    assert (await post(client, "/twilio/voice", voice_form(tenant.phone), token="other"))[0] == 403
    good = signed("/twilio/voice", voice_form(tenant.phone))
    good["data"] = urlencode(voice_form(tenant.phone, caller="+19999999999"))
    assert (await client.post("/twilio/voice", **good)).status_code == 403
    assert calls(db) == []


async def test_unknown_number_is_rejected_never_a_default_business(client: Any, db: Any, redis_client: Any) -> None:
    make_tenant(db, 1)
    open_capacity(redis_client)
    status, body = await post(client, "/twilio/voice", voice_form("+15559999999"))
    assert status == 200 and '<Reject reason="rejected" />' in body
    assert calls(db) == [] and redis_client.get(f"calls:setup:{SID}") is None
    [(_id, event)] = redis_client.xrange("calls:events")
    assert event["type"] == "rejected" and event["reason"] == "unknown_number"


@pytest.mark.parametrize(
    ("active", "capacity", "reason"),
    [(50, 50, "capacity"), (0, 0, "no_capacity"), (None, None, "no_capacity")],
)
async def test_cluster_full_or_no_engine_rejects_busy(
    client: Any, db: Any, redis_client: Any, active: int | None, capacity: int | None, reason: str
) -> None:
    tenant = make_tenant(db, 1)
    if capacity is not None:
        open_capacity(redis_client, active or 0, capacity)
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone))
    assert '<Reject reason="busy" />' in body
    [call] = calls(db)
    assert (call.status, call.end_reason) == ("rejected", reason)
    assert redis_client.get(f"calls:setup:{SID}") is None


async def test_per_business_limit_counts_only_live_leases(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1, max_calls=2)
    open_capacity(redis_client, 2, 50)
    key = f"calls:business:{tenant.business_id}:active"
    now_ms = int(time.time() * 1000)
    redis_client.zadd(key, {"CA-live": now_ms + 15_000, "CA-expired": now_ms - 1_000})
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]
    redis_client.zadd(key, {"CA-live-2": now_ms + 15_000})
    _, body = await post(client, "/twilio/voice", voice_form(tenant.phone, sid="CA" + "b2" * 16))
    assert '<Reject reason="busy" />' in body


def sid_of(n: int) -> str:
    return "CA" + f"{n:032x}"


async def test_a_burst_of_webhooks_admits_exactly_the_business_limit(client: Any, db: Any, redis_client: Any) -> None:
    # No stream has started yet when the whole burst arrives: admitted-but-not-started calls
    # must hold their slots, or every webhook of the burst passes (10 calls for a limit of 5).
    tenant = make_tenant(db, 1, max_calls=3)
    open_capacity(redis_client)
    bodies: list[str] = []

    async def one(n: int) -> None:
        bodies.append((await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(n))))[1])

    async with trio.open_nursery() as nursery:
        for n in range(7):
            nursery.start_soon(one, n)
    assert sum("<Connect" in b for b in bodies) == 3
    assert sum('<Reject reason="busy" />' in b for b in bodies) == 4
    reasons = [e["reason"] for _id, e in redis_client.xrange("calls:events") if e["type"] == "rejected"]
    assert reasons == ["business_limit"] * 4


async def test_a_pending_call_counts_once_and_leaves_when_it_starts_or_ends(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1, max_calls=2)
    open_capacity(redis_client)
    active = f"calls:business:{tenant.business_id}:active"
    for n in (1, 2):
        assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(n))))[1]
    assert "<Reject" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(3))))[1]
    # Call 1 starts (a lease) and call 2 ends: one slot is taken, by call 1, counted once.
    redis_client.zadd(active, {sid_of(1): int(time.time() * 1000) + 15_000})
    redis_client.set(f"calls:ended:{sid_of(2)}", "1")
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(4))))[1]
    assert "<Reject" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(5))))[1]
    pending = f"calls:business:{tenant.business_id}:pending"
    assert redis_client.zrange(pending, 0, -1) == [sid_of(4)]
    assert 0 < redis_client.pttl(pending) <= 30_000


async def test_a_stream_that_never_comes_frees_its_slot_after_the_pending_window(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1, max_calls=1)
    open_capacity(redis_client)
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(1))))[1]
    assert "<Reject" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(2))))[1]
    pending = f"calls:business:{tenant.business_id}:pending"
    redis_client.zadd(pending, {sid_of(1): int(time.time() * 1000) - 1})  # its window is over
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone, sid=sid_of(3))))[1]


async def test_a_retried_webhook_does_not_count_against_itself(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1, max_calls=1)
    open_capacity(redis_client)
    for _ in range(2):
        assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]


async def test_voice_webhook_retry_is_idempotent(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    for _ in range(2):
        assert (await post(client, "/twilio/voice", voice_form(tenant.phone)))[0] == 200
    assert len(calls(db)) == 1


async def test_stream_ended_hangs_up_after_a_started_stream(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    await post(client, "/twilio/voice", voice_form(tenant.phone))
    redis_client.xadd("calls:events", {"type": "call_started", "call_sid": SID, "business_id": "1"})
    _, body = await post(client, "/twilio/stream-ended", {"CallSid": SID})
    assert body.endswith("<Response><Hangup /></Response>")


async def test_stream_ended_says_busy_when_the_engine_refused_the_stream(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    await post(client, "/twilio/voice", voice_form(tenant.phone))
    redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-other"})
    _, body = await post(client, "/twilio/stream-ended", {"CallSid": SID})
    assert "<Say" in body and "busy" in body and "<Hangup />" in body


async def test_status_callbacks_reconcile_in_any_order(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    await post(client, "/twilio/voice", voice_form(tenant.phone))
    done = {"CallSid": SID, "CallStatus": "completed", "CallDuration": "42", "SequenceNumber": "3"}
    late = {"CallSid": SID, "CallStatus": "in-progress", "SequenceNumber": "2"}
    assert (await post(client, "/twilio/status", done))[0] == 204
    assert (await post(client, "/twilio/status", late))[0] == 204  # arrives after: ignored
    assert (await post(client, "/twilio/status", done))[0] == 204  # repeated: no change
    [call] = calls(db)
    assert (call.status, call.billed_duration_seconds) == ("completed", 42)
    assert call.ended_at is not None


async def test_status_without_signature_changes_nothing(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    await post(client, "/twilio/voice", voice_form(tenant.phone))
    resp = await client.post("/twilio/status", data=urlencode({"CallSid": SID, "CallStatus": "failed"}),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 403
    assert calls(db)[0].status == "ringing"


async def test_status_with_unknown_status_is_422_naming_the_field(client: Any, db: Any) -> None:
    status, body = await post(client, "/twilio/status", {"CallSid": SID, "CallStatus": "exploded"})
    assert status == 422, body
    error = json.loads(body)["error"]
    assert error["code"] == "invalid_body" and [d["field"] for d in error["details"]] == ["CallStatus"]


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ({"CallStatus": "completed"}, ["CallSid"]),
        ({"CallSid": "C-1", "CallStatus": "completed"}, ["CallSid"]),
        ({"CallSid": SID, "CallStatus": "completed", "CallDuration": "-3", "Timestamp": "yesterday"},
         ["CallDuration", "Timestamp"]),
    ],
)
async def test_signed_but_invalid_status_forms_name_each_field(client: Any, form: dict[str, str], fields: list[str]) -> None:
    status, body = await post(client, "/twilio/status", form)
    assert status == 422, body
    assert [d["field"] for d in json.loads(body)["error"]["details"]] == fields


async def test_an_unsigned_invalid_form_is_403_not_422(client: Any) -> None:
    resp = await client.post("/twilio/status", data=urlencode({"CallStatus": "exploded"}),
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 403


async def test_voice_still_connects_when_redis_is_down(api_settings: Any, db: Any) -> None:
    """The calls service's own limiter is the last word; a Redis outage must not drop calls."""
    from dataclasses import replace

    from api.app import create_app
    from tests.conftest import free_port

    tenant = make_tenant(db, 1)
    app = create_app(replace(api_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    async with app.test_app() as test_app:
        status, body = await post(test_app.test_client(), "/twilio/voice", voice_form(tenant.phone))
    assert status == 200 and "<Connect" in body
    assert calls(db)[0].status == "ringing"


async def test_answered_outbound_call_finds_the_business_by_from(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    form = {**voice_form("+14440000001"), "From": tenant.phone, "Direction": "outbound-api"}
    status, body = await post(client, "/twilio/voice", form)
    assert status == 200 and "<Connect" in body
    params = {p.get("name"): p.get("value") for p in ET.fromstring(body).iter("Parameter")}
    assert (params["direction"], params["from"], params["to"]) == ("outbound", tenant.phone, "+14440000001")
    [call] = calls(db)
    assert call.direction == "outbound" and call.lead_id is not None  # the lead who was called


@pytest.mark.parametrize("final", ["completed", "failed"])
async def test_a_replayed_voice_webhook_for_a_call_that_ended_is_rejected(
    client: Any, db: Any, redis_client: Any, final: str
) -> None:
    # Issue 10: Twilio retries the voice webhook only before the call is answered; a replay
    # after the call ended got a fresh <Connect> with the same per-call token.
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]
    assert (await post(client, "/twilio/status", {"CallSid": SID, "CallStatus": final}))[0] == 204
    redis_client.delete(f"calls:setup:{SID}")
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone))
    assert status == 200
    assert body.endswith('<Response><Reject reason="rejected" /></Response>'), body
    assert "token" not in body and redis_client.get(f"calls:setup:{SID}") is None
    [call] = calls(db)
    assert call.status == final  # untouched


async def test_a_replayed_voice_webhook_after_the_call_record_is_rejected(
    client: Any, db: Any, redis_client: Any
) -> None:
    # The calls service's record (finalize_call) ends the call even before Twilio's callback.
    tenant = make_tenant(db, 1)
    open_capacity(redis_client)
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]
    record, problems = read_record({
        "call_sid": SID, "stream_sid": "MZ1", "business_id": str(tenant.business_id),
        "direction": "inbound", "from": "+13330000009", "to": tenant.phone,
        "started_at": "2026-11-26T10:00:00.000+00:00", "ended_at": "2026-11-26T10:01:00.000+00:00",
        "duration_seconds": 60.0, "end_reason": "stopped", "dtmf": [], "transcript": [],
    })
    assert record is not None, problems
    store_call_record(db, record)
    db.commit()
    status, body = await post(client, "/twilio/voice", voice_form(tenant.phone))
    assert body.endswith('<Response><Reject reason="rejected" /></Response>'), body


async def test_a_retry_after_our_own_busy_answer_gets_a_fresh_decision(
    client: Any, db: Any, redis_client: Any
) -> None:
    # Our <Reject reason="busy"/> may never have reached Twilio (which is why it retries):
    # a call we refused ourselves is not one that ended.
    tenant = make_tenant(db, 1)
    open_capacity(redis_client, active=50, capacity=50)
    assert '<Reject reason="busy" />' in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]
    open_capacity(redis_client)
    assert "<Connect" in (await post(client, "/twilio/voice", voice_form(tenant.phone)))[1]
