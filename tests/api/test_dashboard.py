"""``GET /api/dashboard`` on SQLite and Postgres with the real Redis: calls per UTC hour from the
calls table (hour boundaries included), rejections by reason, live leases of the business only,
the cluster gauges, queue depths for system admins only, the stored WhatsApp state, and the
database half still answering while Redis is unreachable."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from api.db.models import Call, WhatsAppSession
from api.responses import Dashboard
from api.runtime import make_redis
from api.services.dashboard import hour_buckets, hour_start
from tests.api.conftest import login, make_admin, make_tenant
from tests.conftest import free_port


def test_hour_buckets_put_each_call_in_its_utc_hour() -> None:
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    first = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)  # 23 hours before 10:00
    rows = [
        (first, "completed"),  # exactly at the window's first instant: the oldest bucket
        (first - timedelta(microseconds=1), "completed"),  # just before the window: ignored
        (datetime(2026, 12, 7, 9, 59, 59, 999999, tzinfo=UTC), "rejected"),  # 09:00 bucket
        (datetime(2026, 12, 7, 10, 0, tzinfo=UTC), "in-progress"),  # the current hour
        (datetime(2026, 12, 7, 12, 0, tzinfo=timedelta_zone(2)), "completed"),  # 10:00 UTC, other zone
        (datetime(2026, 12, 7, 10, 5, tzinfo=UTC), "no-answer"),  # neither answered nor rejected
    ]
    buckets = hour_buckets(rows, now)
    assert len(buckets) == 24
    assert buckets[0] == {"hour": "2026-12-06T11:00:00+00:00", "answered": 1, "rejected": 0}
    assert buckets[22] == {"hour": "2026-12-07T09:00:00+00:00", "answered": 0, "rejected": 1}
    assert buckets[23] == {"hour": "2026-12-07T10:00:00+00:00", "answered": 2, "rejected": 0}
    assert sum(b["answered"] + b["rejected"] for b in buckets) == 4
    assert hour_start(datetime(2026, 12, 7, 0, 0, tzinfo=timedelta_zone(-5))) == datetime(2026, 12, 7, 5, tzinfo=UTC)


def timedelta_zone(hours: int) -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=hours))


def _call(business_id: int, sid: str, status: str, created_at: datetime, reason: str | None = None) -> Call:
    return Call(call_sid=sid, business_id=business_id, status=status, end_reason=reason, created_at=created_at)


async def test_dashboard_counts_the_callers_business_from_the_database_and_redis(
    client: Any, db: Any, redis_client: Any
) -> None:
    a, b = make_tenant(db, 1, max_calls=7), make_tenant(db, 2)
    now = datetime.now(UTC)
    current = hour_start(now)
    db.add_all([
        _call(a.business_id, "CA1", "completed", current),
        _call(a.business_id, "CA2", "completed", current - timedelta(hours=1)),
        _call(a.business_id, "CA3", "rejected", current - timedelta(hours=1), "business_capacity"),
        _call(a.business_id, "CA4", "rejected", current - timedelta(hours=23), "cluster_capacity"),
        _call(a.business_id, "CA5", "rejected", current - timedelta(hours=30), "business_capacity"),  # too old
        _call(b.business_id, "CB1", "completed", current),  # another business
        _call(b.business_id, "CB2", "rejected", current, "business_capacity"),
    ])
    db.add(WhatsAppSession(business_id=a.business_id, shard_id=1, epoch=1, seq=1, state="connected",
                           me_phone="+15551230000", reported_at="2026-12-07T00:00:00Z"))
    db.commit()
    now_ms = int(time.time() * 1000)
    redis_client.zadd(f"calls:business:{a.business_id}:active", {"CA-live": now_ms + 60_000, "CA-dead": now_ms - 1})
    redis_client.zadd(f"calls:business:{b.business_id}:active", {"CB-live": now_ms + 60_000})
    redis_client.set("calls:active_count", 2)
    redis_client.set("calls:capacity", 40)
    redis_client.rpush("rq:queue:high", "j1", "j2")

    await login(client, a.owner_email)
    resp = await client.get("/api/dashboard")
    body = await resp.get_json()
    assert resp.status_code == 200, body
    Dashboard.model_validate(body)
    assert body["business_id"] == a.business_id and body["max_concurrent_calls"] == 7
    assert body["active_calls"] == 1  # the expired lease does not count, nor business 2's
    assert body["cluster"] == {"active_count": 2, "capacity": 40} and body["redis_available"] is True
    hours = body["calls_per_hour"]
    assert len(hours) == 24 and hours[-1]["hour"] == current.isoformat()
    assert hours[-1] == {"hour": current.isoformat(), "answered": 1, "rejected": 0}
    assert hours[-2] == {"hour": (current - timedelta(hours=1)).isoformat(), "answered": 1, "rejected": 1}
    assert hours[0]["rejected"] == 1
    # CA4 (23 h before this hour's start) is within the last 24 h; CA5 (30 h) is not
    assert body["rejected_24h"] == {"business_capacity": 1, "cluster_capacity": 1}
    assert body["queues"] is None  # not a system admin
    assert body["whatsapp"] == {"state": "connected", "phone": "+15551230000", "updated_at": "2026-12-07T00:00:00Z"}
    # another business is not found, never shown
    other = await client.get(f"/api/dashboard?business_id={b.business_id}")
    assert other.status_code == 404


async def test_a_system_admin_sees_queues_and_any_business_or_all(client: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    now = datetime.now(UTC)
    db.add_all([_call(a.business_id, "CA1", "completed", now), _call(b.business_id, "CB1", "completed", now),
                _call(b.business_id, "CB2", "rejected", now, "inactive")])
    db.commit()
    redis_client.rpush("rq:queue:low", "j1")
    redis_client.rpush("rq:queue:failed", "dead1", "dead2")
    redis_client.set("calls:active_count", 3)
    await login(client, make_admin(db))
    body = await (await client.get(f"/api/dashboard?business_id={b.business_id}")).get_json()
    Dashboard.model_validate(body)
    assert body["business_id"] == b.business_id and body["whatsapp"] is None
    assert body["rejected_24h"] == {"inactive": 1} and body["calls_per_hour"][-1]["answered"] == 1
    assert body["queues"] == [{"name": "high", "depth": 0}, {"name": "default", "depth": 0},
                              {"name": "low", "depth": 1}, {"name": "broadcasts", "depth": 0},
                              {"name": "failed", "depth": 2}]
    everything = await (await client.get("/api/dashboard")).get_json()
    Dashboard.model_validate(everything)
    assert everything["business_id"] is None and everything["max_concurrent_calls"] is None
    assert everything["active_calls"] == 3 and everything["calls_per_hour"][-1]["answered"] == 2
    missing = await client.get("/api/dashboard?business_id=999")
    assert missing.status_code == 404


async def test_redis_down_gives_the_database_numbers_and_nulls(app: Any, db: Any) -> None:
    a = make_tenant(db, 1)
    db.add(_call(a.business_id, "CA1", "completed", datetime.now(UTC)))
    db.commit()
    client = app.test_client()
    await login(client, a.owner_email)  # login counts attempts in Redis: before it goes away
    rt = app.app.extensions["prosaas"]
    dead = f"redis://127.0.0.1:{free_port()}/0"
    live_client, rt.redis = rt.redis, make_redis(dead, pool_size=2)
    try:
        resp = await client.get("/api/dashboard")
        body = await resp.get_json()
    finally:
        rt.redis.close()
        rt.redis = live_client
    assert resp.status_code == 200, body
    Dashboard.model_validate(body)
    assert body["redis_available"] is False
    assert body["active_calls"] is None and body["cluster"] is None and body["queues"] is None
    assert body["calls_per_hour"][-1]["answered"] == 1


async def test_redis_down_for_a_system_admin_nulls_the_queues_too(app: Any, db: Any) -> None:
    client = app.test_client()
    await login(client, make_admin(db))
    rt = app.app.extensions["prosaas"]
    dead = f"redis://127.0.0.1:{free_port()}/0"
    live_client, rt.redis = rt.redis, make_redis(dead, pool_size=2)
    rt.extras["queue_redis"] = make_redis(dead, pool_size=2, decode_responses=False)
    try:
        body = await (await client.get("/api/dashboard")).get_json()
    finally:
        rt.redis.close()
        rt.redis = live_client
        rt.extras.pop("queue_redis").close()
    assert body["redis_available"] is False and body["queues"] is None and len(body["calls_per_hour"]) == 24
