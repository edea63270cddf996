"""``whatsapp_state`` on ``/api/events``: a session state the gateway reports on
``/internal/whatsapp/events`` reaches the open streams of its business (through ``calls:events``,
read by the one event hub) and never another business's; a system admin's stream sees both. An
event that is not applied (older, another shard, a redelivery) is not published."""

from __future__ import annotations

from typing import Any

import trio

from tests.api.conftest import login, make_admin, make_tenant
from tests.api.test_events import open_streams, read_stream, stop_all
from tests.api.test_whatsapp_events import event, post_event
from tests.contracts.test_wa_events import session_data


def state_body(business_id: int, state: str, *, seq: int, **over: Any) -> dict[str, Any]:
    data = {k: v for k, v in session_data(business_id=str(business_id)).items() if k != "qr"} | {"state": state}
    return event(business_id, "session.state", data, epoch=1, seq=seq, **over)


async def test_business_a_sees_its_whatsapp_state_and_never_b(app: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    agent_a, owner_b, admin = app.test_client(), app.test_client(), app.test_client()
    gateway = app.test_client()
    await login(agent_a, a.agent_email)
    await login(owner_b, b.owner_email)
    await login(admin, make_admin(db))
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            (stream_a,) = await open_streams(nursery, agent_a, 1)
            (stream_b,) = await open_streams(nursery, owner_b, 1)
            (stream_admin,) = await open_streams(nursery, admin, 1)
            for body in (state_body(b.business_id, "qr", seq=1), state_body(a.business_id, "starting", seq=1),
                         state_body(b.business_id, "connected", seq=2)):
                resp = await post_event(gateway, body)
                assert resp.status_code == 200, await resp.get_json()
            # not applied: older than the stored state; from another shard; a redelivery
            for body in (state_body(a.business_id, "failed", seq=0),
                         state_body(a.business_id, "stopped", seq=9, shard_id=2)):
                assert (await (await post_event(gateway, body)).get_json())["applied"] is False
            last = state_body(a.business_id, "connected", seq=3)
            assert (await post_event(gateway, last)).status_code == 200
            assert (await (await post_event(gateway, last)).get_json())["duplicate"] is True
            await stream_a.wait_for('"state":"connected"')
            await stream_b.wait_for('"state":"connected"')
            await stream_admin.wait_for(f'"business_id":"{a.business_id}","state":"connected"')
            stop_all([stream_a, stream_b, stream_admin])
    a_id, b_id = f'"business_id":"{a.business_id}"', f'"business_id":"{b.business_id}"'
    assert stream_a.text.count("event: whatsapp_state") == 2
    assert a_id in stream_a.text and b_id not in stream_a.text and '"state":"qr"' not in stream_a.text
    assert stream_b.text.count("event: whatsapp_state") == 2 and a_id not in stream_b.text
    assert stream_admin.text.count("event: whatsapp_state") == 4
    assert "failed" not in stream_admin.text and "stopped" not in stream_admin.text
    entries = redis_client.xrange("calls:events")
    assert [f["state"] for _, f in entries if f["type"] == "whatsapp_state"] == ["qr", "starting", "connected", "connected"]


async def test_a_resumed_stream_replays_only_its_business_whatsapp_state(app: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    gateway = app.test_client()
    first = redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-0", "business_id": str(a.business_id)})
    await post_event(gateway, state_body(b.business_id, "qr", seq=1))
    await post_event(gateway, state_body(a.business_id, "connected", seq=1))
    redis_client.xadd("calls:events", {"type": "call_ended", "call_sid": "CA-0", "business_id": str(a.business_id)})
    client = app.test_client()
    await login(client, a.owner_email)
    text = await read_stream(client, b"event: call_ended", headers={"Last-Event-ID": first})
    assert "event: whatsapp_state" in text and '"state":"connected"' in text
    assert f'"business_id":"{b.business_id}"' not in text and '"state":"qr"' not in text


async def test_redis_down_still_stores_the_state(app: Any, db: Any) -> None:
    from api.db.models import WhatsAppSession
    from api.runtime import make_redis
    from tests.conftest import free_port

    a = make_tenant(db, 1)
    rt = app.app.extensions["prosaas"]
    live, rt.redis = rt.redis, make_redis(f"redis://127.0.0.1:{free_port()}/0", pool_size=2)
    try:
        resp = await post_event(app.test_client(), state_body(a.business_id, "connected", seq=1))
    finally:
        rt.redis.close()
        rt.redis = live
    assert resp.status_code == 200 and await resp.get_json() == {"stored": True}
    row = db.get(WhatsAppSession, a.business_id)
    assert row is not None and row.state == "connected"
