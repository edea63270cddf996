"""``GET /api/calls`` filters (status, direction, lead, created from/to, part of a number) and the
call detail's transcript turns with barge-ins and its key presses with their times, on SQLite and
Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from api.db.models import Call
from api.responses import CallDetail, CallPage
from tests.api.conftest import login, make_tenant

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_calls_filter_by_date_range_and_number(client: Any, db: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    db.add_all([
        Call(call_sid="CA-1", business_id=a.business_id, from_number="+15551110001", to_number=a.phone,
             status="completed", created_at=T0),
        Call(call_sid="CA-2", business_id=a.business_id, from_number="+15552220002", to_number=a.phone,
             status="rejected", created_at=T0 + timedelta(hours=1)),
        Call(call_sid="CA-3", business_id=a.business_id, direction="outbound", from_number=a.phone,
             to_number="+15553330003", status="completed", created_at=T0 + timedelta(hours=2)),
        Call(call_sid="CB-1", business_id=b.business_id, from_number="+15551110001", to_number=b.phone,
             status="completed", created_at=T0 + timedelta(hours=1)),
    ])
    db.commit()
    await login(client, a.agent_email)

    async def sids(query: str) -> list[str]:
        resp = await client.get("/api/calls" + query)
        body = await resp.get_json()
        assert resp.status_code == 200, (query, body)
        CallPage.model_validate(body)
        return [item["call_sid"] for item in body["items"]]

    start, end = quote((T0 + timedelta(hours=1)).isoformat()), quote((T0 + timedelta(hours=2)).isoformat())
    assert await sids(f"?from={start}") == ["CA-3", "CA-2"]
    assert await sids(f"?to={end}") == ["CA-2", "CA-1"]  # to is exclusive
    assert await sids(f"?from={start}&to={end}") == ["CA-2"]
    assert await sids("?from=2026-12-01T10:00:00") == ["CA-3", "CA-2"]  # no zone: UTC
    assert await sids("?q=1110001") == ["CA-1"]  # never business 2's CB-1
    assert await sids("?q=%2B1555333") == ["CA-3"]  # the called number of an outbound call
    assert await sids("?q=5551&status=completed&direction=inbound") == ["CA-1"]
    for bad in ("?q=abc", "?q=1%25", f"?from={end}&to={start}", "?from=yesterday", "?q="):
        resp = await client.get("/api/calls" + bad)
        assert resp.status_code == 422, bad


async def test_call_detail_has_turns_barge_ins_and_timed_key_presses(client: Any, db: Any) -> None:
    a = make_tenant(db, 1)
    call = Call(call_sid="CA-t", business_id=a.business_id, status="completed", created_at=T0,
                transcript=[
                    {"speaker": "agent", "text": "Hello, how can", "audio_ms": 2400, "interrupted": True, "heard_ms": 900},
                    {"speaker": "caller", "text": "I want a quote", "audio_ms": 1500, "asr_ms": 120},
                    {"speaker": "caller", "dtmf": "3"},
                    {"speaker": "agent", "text": "Sure.", "audio_ms": 600, "interrupted": False},
                ],
                events={"dtmf": [{"digit": "3", "at_ms": 5120}, "7"], "stream_sid": "MZ1"})
    db.add(call)
    db.commit()
    await login(client, a.owner_email)
    resp = await client.get(f"/api/calls/{call.id}")
    body = await resp.get_json()
    assert resp.status_code == 200, body
    CallDetail.model_validate(body)
    assert body["barge_ins"] == 1
    assert body["dtmf"] == [{"digit": "3", "at_ms": 5120}, {"digit": "7", "at_ms": 0}]
    first = body["transcript"][0]
    assert (first["interrupted"], first["heard_ms"], first["text"]) == (True, 900, "Hello, how can")
    assert body["transcript"][1]["asr_ms"] == 120  # fields a brain adds are kept
    assert body["events"]["stream_sid"] == "MZ1"


async def test_a_time_beyond_the_utc_range_is_422_not_a_crash(client: Any, db: Any) -> None:
    a = make_tenant(db, 1)
    await login(client, a.agent_email)
    for bad in ("0001-01-01T00:00:00%2B01:00", "9999-12-31T23:59:59-01:00"):
        resp = await client.get(f"/api/calls?from={bad}")
        assert resp.status_code == 422, (bad, await resp.get_json())
