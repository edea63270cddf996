from __future__ import annotations

from typing import Any

import trio

from tests.api.conftest import login, make_tenant


async def read_stream(client: Any, until: bytes, *, headers: dict[str, str] | None = None, after_connect: Any = None) -> str:
    """Open /api/events, run ``after_connect`` once connected, read until ``until``, disconnect.

    Quart's test connection waits on exit for a body end that an endless stream never sends,
    so the surrounding scope is cancelled once the client has disconnected.
    """
    data = b""
    with trio.CancelScope() as scope, trio.fail_after(20):
        async with client.request("/api/events", headers=headers or {}) as conn:
            await conn.send_complete()
            while b": connected" not in data:
                data += await conn.receive()
            if after_connect is not None:
                after_connect()
            while until not in data:
                data += await conn.receive()
            await conn.disconnect()
            scope.cancel()
    return data.decode()


async def test_events_stream_only_the_callers_business(app: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    client = app.test_client()
    await login(client, a.agent_email)

    def publish() -> None:
        for fields in (
            {"type": "call_started", "call_sid": "CA-b", "business_id": str(b.business_id)},
            {"type": "barge_in", "call_sid": "CA-a", "business_id": str(a.business_id)},
            {"type": "call_started", "call_sid": "CA-a", "business_id": str(a.business_id)},
            {"type": "call_ended", "call_sid": "CA-a", "business_id": str(a.business_id), "reason": "stopped"},
        ):
            redis_client.xadd("calls:events", fields)

    text = await read_stream(client, b"event: call_ended", after_connect=publish)
    assert "event: call_started" in text and '"call_sid":"CA-a"' in text
    assert "CA-b" not in text and "barge_in" not in text
    assert text.index("call_started") < text.index("call_ended")


async def test_events_resume_after_last_event_id(app: Any, db: Any, redis_client: Any) -> None:
    a = make_tenant(db, 1)
    first = redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-1", "business_id": str(a.business_id)})
    redis_client.xadd("calls:events", {"type": "call_ended", "call_sid": "CA-1", "business_id": str(a.business_id)})
    client = app.test_client()
    await login(client, a.agent_email)
    text = await read_stream(client, b"event: call_ended", headers={"Last-Event-ID": first})
    assert "event: call_started" not in text


async def test_events_require_login(client: Any) -> None:
    assert (await client.get("/api/events")).status_code == 401
