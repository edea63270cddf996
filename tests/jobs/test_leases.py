"""reconcile_call_leases on a real Redis: expired leases, orphaned business leases, dead
instances, both gauges; idempotent; atomic next to a live calls-service heartbeat."""

from __future__ import annotations

import threading
import time

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from callengine.reporting.redis_reporter import HEARTBEAT_LUA, LEASE_MS
from contracts import keys
from contracts.jobs import RECONCILE_CALL_LEASES
from jobs.enqueue import enqueue_periodic
from jobs.leases import GRACE_MS, reconcile_leases
from tests.conftest import SHARED_REDIS
from tests.fakes.burst_worker import run_burst

NOW = 1_796_601_600_000


def seed(client: redis.Redis, now: int) -> None:
    client.zadd(keys.ACTIVE, {"CAold": now - 60_000, "CAlive": now + 10_000, "CAjust": now - GRACE_MS + 1000})
    client.zadd(keys.business_active("1"), {"CAold": now - 60_000, "CAlive": now + 10_000})
    client.zadd(keys.business_active("2"), {"CAorphan": now + 10_000, "CAjust": now - GRACE_MS + 1000})
    client.set(keys.ACTIVE_COUNT, 99)
    client.sadd(keys.INSTANCES, "i-live", "i-dead", "i-draining")
    client.hset(keys.instance("i-live"), mapping={"capacity": "10", "draining": "0"})
    client.hset(keys.instance("i-draining"), mapping={"capacity": "5", "draining": "1"})
    client.set(keys.CAPACITY, 77)


def test_expired_leases_orphans_and_dead_instances_go_and_the_gauges_are_rewritten(shared_redis: redis.Redis) -> None:
    seed(shared_redis, NOW)
    report = reconcile_leases(shared_redis, NOW)
    assert report == {"expired_leases": 1, "business_leases": 2, "dead_instances": 1, "active_count": 2, "capacity": 10}
    assert shared_redis.zrange(keys.ACTIVE, 0, -1) == [b"CAjust", b"CAlive"], "a lease inside the grace stays"
    assert shared_redis.zrange(keys.business_active("1"), 0, -1) == [b"CAlive"]
    assert shared_redis.zrange(keys.business_active("2"), 0, -1) == [b"CAjust"]
    assert shared_redis.smembers(keys.INSTANCES) == {b"i-live", b"i-draining"}
    assert shared_redis.get(keys.ACTIVE_COUNT) == b"2"
    assert shared_redis.get(keys.CAPACITY) == b"10"
    again = reconcile_leases(shared_redis, NOW)
    assert again == {"expired_leases": 0, "business_leases": 0, "dead_instances": 0, "active_count": 2, "capacity": 10}


def test_a_business_set_left_empty_disappears(shared_redis: redis.Redis) -> None:
    shared_redis.zadd(keys.business_active("9"), {"CAgone": NOW - 60_000})
    reconcile_leases(shared_redis, NOW)
    assert not shared_redis.exists(keys.business_active("9"))
    assert shared_redis.get(keys.ACTIVE_COUNT) == b"0" and shared_redis.get(keys.CAPACITY) == b"0"


def test_the_job_runs_on_the_workers_connection(shared_redis: redis.Redis) -> None:
    now = int(time.time() * 1000)
    seed(shared_redis, now)
    enqueue_periodic(shared_redis, RECONCILE_CALL_LEASES, 1, stale_after_seconds=30)
    queue = Queue(RECONCILE_CALL_LEASES.queue, connection=shared_redis, serializer=JSONSerializer)
    assert run_burst(queue)
    job = queue.fetch_job("periodic-reconcile_call_leases-1")
    assert job is not None and job.is_finished, job and job.latest_result()
    assert job.return_value() == {"expired_leases": 1, "business_leases": 2, "dead_instances": 1,
                                  "active_count": 2, "capacity": 10}
    assert shared_redis.get(keys.ACTIVE_COUNT) == b"2"


def test_reconcile_never_races_a_live_heartbeat(shared_redis: redis.Redis) -> None:
    """A calls instance heartbeats (its own Lua) while the job runs over and over: every
    gauge the job writes counts exactly the live calls, and none of them is dropped."""
    live = [f"CAlive{i}" for i in range(20)]
    heartbeat = shared_redis.register_script(HEARTBEAT_LUA)
    stop = threading.Event()
    churn = 0

    def beat() -> None:
        nonlocal churn
        beat_client = redis.Redis.from_url(SHARED_REDIS)
        script = beat_client.register_script(HEARTBEAT_LUA)
        while not stop.is_set():
            now = int(time.time() * 1000)
            # renew the live calls, and start-then-end a short call each beat
            script(keys=[keys.ACTIVE, keys.ACTIVE_COUNT], args=[now, now + LEASE_MS, len(live) + 1, *live, f"CAshort{churn}", 0])
            script(keys=[keys.ACTIVE, keys.ACTIVE_COUNT], args=[now, now + LEASE_MS, 0, 1, f"CAshort{churn}"])
            churn += 1
        beat_client.close()

    now = int(time.time() * 1000)
    heartbeat(keys=[keys.ACTIVE, keys.ACTIVE_COUNT], args=[now, now + LEASE_MS, len(live), *live, 0])
    shared_redis.zadd(keys.ACTIVE, {f"CAdead{i}": now - 60_000 for i in range(50)})
    thread = threading.Thread(target=beat)
    thread.start()
    try:
        counts = [reconcile_leases(shared_redis, int(time.time() * 1000))["active_count"] for _ in range(200)]
    finally:
        stop.set()
        thread.join(timeout=10)
    assert churn > 0
    # between two heartbeat scripts a short call is either in (21) or out (20), never half-way
    assert set(counts) <= {20, 21}, sorted(set(counts))
    assert set(live) <= {m.decode() for m in shared_redis.zrange(keys.ACTIVE, 0, -1)}

