"""``jobs.admin``, the operators' facade, against the real Redis: dead letters paged newest first
(offsets past the end, a zero limit), queue depths, registered RQ workers and the scheduler's
leader lock as ``jobs/leader.py`` writes it."""

from __future__ import annotations

import pytest
import redis
from rq import Worker
from rq.serializers import JSONSerializer

from jobs import admin
from jobs.leader import LeaderLock

__all__: list[str] = []


def bury(r: redis.Redis, *ids: str) -> None:
    for n, job_id in enumerate(ids):
        r.rpush("rq:queue:failed", job_id)
        r.hset(f"rq:dead:{job_id}", mapping={"queue": "low", "func": "f", "failed_at": f"2026-12-0{n + 1}",
                                             "reason": f"RuntimeError: {job_id}"})


def test_dead_letters_page_newest_first(shared_redis: redis.Redis) -> None:
    bury(shared_redis, "j1", "j2", "j3", "j4", "j5")  # oldest first, as the worker pushes them

    def ids(offset: int, limit: int | None) -> list[str]:
        found, total = admin.list_dead_letters(shared_redis, offset=offset, limit=limit)
        assert total == 5
        return [d.id for d in found]

    assert ids(0, None) == ["j5", "j4", "j3", "j2", "j1"]
    assert ids(0, 2) == ["j5", "j4"]
    assert ids(2, 2) == ["j3", "j2"]
    assert ids(4, 2) == ["j1"]
    assert ids(5, 2) == [] and ids(50, 2) == [] and ids(0, 0) == []
    assert ids(3, 10) == ["j2", "j1"]
    assert admin.dead_letter_count(shared_redis) == 5
    [first] = admin.list_dead_letters(shared_redis, limit=1)[0]
    assert (first.queue, first.reason, first.failed_at) == ("low", "RuntimeError: j5", "2026-12-05")


def test_show_requeue_and_purge_refuse_an_unknown_id(shared_redis: redis.Redis) -> None:
    for action in (admin.show_dead_letter, admin.requeue_dead_letter, admin.purge_dead_letter):
        with pytest.raises(admin.UnknownDeadJob):
            action(shared_redis, "nope")


def test_queue_depths_and_workers(shared_redis: redis.Redis) -> None:
    shared_redis.rpush("rq:queue:broadcasts", "a", "b")
    assert admin.queue_depths(shared_redis) == {"high": 0, "default": 0, "low": 0, "broadcasts": 2}
    worker = Worker(["low"], connection=shared_redis, name="w-admin", serializer=JSONSerializer)
    worker.register_birth()
    worker.heartbeat()
    try:
        [listed] = [w for w in admin.list_workers(shared_redis) if w.name == "w-admin"]
    finally:
        worker.register_death()
    assert listed.queues == ("low",) and listed.current_job is None and listed.pid is not None
    assert listed.last_heartbeat is not None and listed.last_heartbeat.tzinfo is not None


def test_the_scheduler_leader_as_the_lock_holds_it(shared_redis: redis.Redis) -> None:
    assert admin.scheduler_leader(shared_redis) is None
    lock = LeaderLock(shared_redis, "replica-a", ttl_ms=30_000)
    assert lock.acquire()
    leader = admin.scheduler_leader(shared_redis)
    assert leader is not None and leader.replica == "replica-a" and leader.token == lock.token
    assert 0 < leader.expires_in_ms <= 30_000
    lock.release()
    assert admin.scheduler_leader(shared_redis) is None
