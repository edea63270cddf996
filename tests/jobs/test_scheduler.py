"""The scheduler loop: periodic jobs enqueued once per slot by the leader only (real Redis),
and two real ``python -m jobs.scheduler`` processes failing over on a private redis-server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from contracts.jobs import RECONCILE_CALL_LEASES
from jobs.enqueue import periodic_job_id
from jobs.leader import LAST_SLOTS_KEY, LOCK_KEY
from jobs.schedule import DEFAULT_TABLE, Entry
from jobs.scheduler import Scheduler, SchedulerSettings, SettingsError, heartbeat_key
from tests.conftest import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_796_601_600.0  # a UTC midnight: every default slot starts here


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def settings(replica: str, *, ttl: int = 30, table: tuple[Entry, ...] = DEFAULT_TABLE) -> SchedulerSettings:
    return SchedulerSettings(redis_url="", replica_id=replica, lock_ttl_seconds=ttl, log_level="INFO", table=table)


def queued(client: redis.Redis) -> list[str]:
    ids: list[str] = []
    for name in ("high", "default", "low"):
        ids += Queue(name, connection=client, serializer=JSONSerializer).job_ids
    return sorted(ids)


def test_the_leader_enqueues_every_entry_once_per_slot(shared_redis: redis.Redis) -> None:
    clock = Clock(T0 + 5)
    scheduler = Scheduler(shared_redis, settings("a"), clock=clock)
    first = scheduler.step()
    assert sorted(first) == sorted(periodic_job_id(e.spec, int((T0 + 5) // e.interval_seconds)) for e in DEFAULT_TABLE)
    assert queued(shared_redis) == sorted(first)
    job = Queue("high", connection=shared_redis, serializer=JSONSerializer).fetch_job(
        periodic_job_id(RECONCILE_CALL_LEASES, int((T0 + 5) // 30))
    )
    assert job is not None
    assert job.func_name == "jobs.maintenance.reconcile_call_leases"
    assert job.args == [] and job.kwargs == {}
    assert job.timeout == RECONCILE_CALL_LEASES.timeout_seconds
    assert scheduler.step() == [], "same slot: nothing new"
    clock.now = T0 + 31
    assert scheduler.step() == [periodic_job_id(RECONCILE_CALL_LEASES, int((T0 + 31) // 30))]


def test_after_downtime_missed_slots_are_caught_up_once(shared_redis: redis.Redis) -> None:
    clock = Clock(T0 + 1)
    Scheduler(shared_redis, settings("a"), clock=clock).step()
    shared_redis.delete(LOCK_KEY)  # the first replica is gone; a new one starts 10 minutes later
    clock.now = T0 + 601
    later = Scheduler(shared_redis, settings("b"), clock=clock).step()
    lease_slot = int((T0 + 601) // 30)
    assert periodic_job_id(RECONCILE_CALL_LEASES, lease_slot) in later
    assert sum(1 for j in later if "reconcile_call_leases" in j) == 1, "twenty missed slots, one job"
    assert sorted(j.split("-")[1] for j in later) == [
        "broadcast_watchdog", "reconcile_call_leases", "requeue_unsent", "sync_due_accounts",
    ]
    assert shared_redis.hget(LAST_SLOTS_KEY, "leases") == str(lease_slot).encode()


def test_a_standby_replica_enqueues_nothing_and_takes_over_when_the_lock_expires(shared_redis: redis.Redis) -> None:
    clock = Clock(T0 + 1)
    leader, standby = (Scheduler(shared_redis, settings(r), clock=clock) for r in ("a", "b"))
    assert leader.step() and leader.lock.token == 1
    clock.now = T0 + 31
    assert standby.step() == []
    assert standby.lock.value is None
    assert json.loads(shared_redis.get(heartbeat_key("b")) or b"{}")["leader"] is False
    shared_redis.delete(LOCK_KEY)  # the leader died: its lock ran out
    taken = standby.step()
    assert taken == [periodic_job_id(RECONCILE_CALL_LEASES, int((T0 + 31) // 30))]
    assert standby.lock.token == 2
    # the old leader wakes up in the next slot: its renewal fails and it enqueues nothing
    clock.now = T0 + 61
    assert leader.step() == []
    assert leader.lock.value is None


def test_two_leaders_racing_for_one_slot_queue_one_job(shared_redis: redis.Redis) -> None:
    """Even if the fence were bypassed (two replicas both claimed), the job id dedupes."""
    from jobs.enqueue import enqueue_periodic

    for _ in range(2):
        enqueue_periodic(shared_redis, RECONCILE_CALL_LEASES, 77, stale_after_seconds=30)
    assert queued(shared_redis) == [periodic_job_id(RECONCILE_CALL_LEASES, 77)]


def test_settings_report_every_bad_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        SchedulerSettings.from_env({"REDIS_URL": "http://x", "SCHEDULER_LOCK_TTL_SECONDS": "1",
                                    "SCHEDULER_ID": "a:b", "SCHEDULER_LEASES_SECONDS": "x"})
    assert len(caught.value.problems) == 4
    ok = SchedulerSettings.from_env({"SCHEDULER_ID": "s1", "SCHEDULER_LOCK_TTL_SECONDS": "3"})
    assert ok.tick_seconds == 1.0 and ok.replica_id == "s1"


# --- real processes -------------------------------------------------------------------------

TTL = 2  # seconds: short, so the failover test is quick


def spawn(url: str, replica: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ, "REDIS_URL": url, "SCHEDULER_ID": replica, "SCHEDULER_LOCK_TTL_SECONDS": str(TTL),
        "SCHEDULER_LEASES_SECONDS": "1", "LOG_LEVEL": "INFO",
    }
    with (tmp_path / f"{replica}.log").open("wb") as log:  # the child keeps its own copy of the fd
        return subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, env=env, stdout=log, stderr=log)


def health(url: str, replica: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": url, "SCHEDULER_ID": replica, "SCHEDULER_LOCK_TTL_SECONDS": str(TTL)}
    return subprocess.run([sys.executable, "-m", "jobs.scheduler", "--health"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


def wait_for(predicate: object, timeout: float) -> float:
    """Seconds until ``predicate()`` is true; fails after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"not true within {timeout}s")


def lease_slots(client: redis.Redis) -> list[int]:
    ids = Queue("high", connection=client, serializer=JSONSerializer).job_ids
    return [int(i.rsplit("-", 1)[1]) for i in ids if "reconcile_call_leases" in i]


@pytest.fixture
def replicas(private_redis: PrivateRedis, tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    procs = {r: spawn(private_redis.url, r, tmp_path) for r in ("a", "b")}
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_sigkill_of_the_leader_hands_over_within_the_lock_ttl(
    private_redis: PrivateRedis, replicas: dict[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    client = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: client.get(LOCK_KEY) is not None and len(lease_slots(client)) >= 2, 20)
    first = client.get(LOCK_KEY).decode()  # type: ignore[union-attr]
    token, leader = first.split(":")
    standby = "b" if leader == "a" else "a"
    assert health(private_redis.url, leader).returncode == 0
    beat = health(private_redis.url, standby)
    assert beat.returncode == 0 and "standby" in beat.stdout
    replicas[leader].send_signal(signal.SIGKILL)
    replicas[leader].wait(timeout=10)
    killed_at = time.monotonic()
    before = max(lease_slots(client))

    wait_for(lambda: (client.get(LOCK_KEY) or b"").decode().endswith(":" + standby), TTL + 5)
    took = time.monotonic() - killed_at
    # the lock outlives its holder by at most the TTL; the standby looks once a tick (TTL/3);
    # half a second of slack for a loaded machine
    assert took <= TTL + TTL / 3 + 0.5, f"takeover after {took:.2f}s (TTL {TTL}s, tick {TTL / 3:.2f}s)"
    wait_for(lambda: max(lease_slots(client)) > before, 3)  # and the new leader enqueues
    new_token = int(client.get(LOCK_KEY).decode().split(":")[0])  # type: ignore[union-attr]
    assert new_token > int(token)
    # the dead replica's heartbeat runs out: its healthcheck fails
    wait_for(lambda: health(private_redis.url, leader).returncode == 1, TTL + 5)
    slots = lease_slots(client)
    assert len(slots) == len(set(slots)), f"a slot enqueued twice: {slots}"
    assert replicas[standby].poll() is None
    client.close()


@pytest.mark.slow
def test_sigterm_releases_the_lock_so_the_standby_takes_over_at_once(
    private_redis: PrivateRedis, replicas: dict[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    client = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: client.get(LOCK_KEY) is not None, 20)
    leader = client.get(LOCK_KEY).decode().split(":")[1]  # type: ignore[union-attr]
    standby = "b" if leader == "a" else "a"
    wait_for(lambda: client.get(heartbeat_key(standby)) is not None, 10)
    replicas[leader].send_signal(signal.SIGTERM)
    assert replicas[leader].wait(timeout=5) == 0
    assert client.get(heartbeat_key(leader)) is None
    took = wait_for(lambda: (client.get(LOCK_KEY) or b"").decode().endswith(":" + standby), TTL + 5)
    assert took < TTL, f"the standby waited {took:.2f}s: the lock was not released"
    log = (tmp_path / f"{leader}.log").read_text()
    assert "leader lock released" in log, log
    replicas[standby].send_signal(signal.SIGINT)
    assert replicas[standby].wait(timeout=5) == 0
    assert client.get(LOCK_KEY) is None
    client.close()


def test_health_fails_without_a_heartbeat_or_without_redis(private_redis: PrivateRedis) -> None:
    done = health(private_redis.url, "nobody")
    assert done.returncode == 1 and "no heartbeat from replica nobody" in done.stderr
    down = health("redis://127.0.0.1:9/0", "nobody")
    assert down.returncode == 1 and "redis unreachable" in down.stderr


def test_help_names_the_variables_and_bad_settings_exit_2() -> None:
    helped = subprocess.run([sys.executable, "-m", "jobs.scheduler", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    for name in ("REDIS_URL", "SCHEDULER_ID", "SCHEDULER_LOCK_TTL_SECONDS", "SCHEDULER_LEASES_SECONDS",
                 "SCHEDULER_CLEANUP_SECONDS"):
        assert name in text
    bad = subprocess.run([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, env={**os.environ, "SCHEDULER_LOCK_TTL_SECONDS": "0"})
    assert bad.returncode == 2 and "SCHEDULER_LOCK_TTL_SECONDS" in bad.stderr


@pytest.mark.slow
def test_a_redis_outage_is_logged_once_and_the_scheduler_resumes_when_it_is_back(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    proc = spawn(private_redis.url, "solo", tmp_path)
    try:
        client = redis.Redis.from_url(private_redis.url)
        wait_for(lambda: client.get(LOCK_KEY) == b"1:solo", 20)
        client.close()
        private_redis.stop()
        time.sleep(3 * TTL / 3 + 0.5)  # a few ticks against a dead Redis
        assert proc.poll() is None, "the scheduler died with Redis"
        private_redis.start()  # same port, empty: the lock and the slots are gone
        client = redis.Redis.from_url(private_redis.url)
        wait_for(lambda: client.get(LOCK_KEY) is not None and len(lease_slots(client)) >= 1, 10)
        assert client.get(LOCK_KEY) == b"1:solo"
        private_redis.stop()
        proc.send_signal(signal.SIGTERM)  # a stop while Redis is down still exits at once
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    log = (tmp_path / "solo.log").read_text()
    assert log.count("redis unreachable") == 1, log  # once per outage, not once per tick
    assert "redis reachable again" in log
    assert "could not release the leader lock on shutdown" in log
