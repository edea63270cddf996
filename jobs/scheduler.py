"""``python -m jobs.scheduler``: enqueue the periodic jobs, one leader at a time.

Every replica runs the same loop once per tick (at most a second, a third of the lock TTL):
write its heartbeat, take or renew the leader lock (``jobs.leader``), and, while leading,
enqueue each entry of the periodic table (``jobs.schedule``) that is due, through a fenced
claim of its UTC slot and a slot-derived job id (docs/ARCHITECTURE.md §5). A replica that is
not the leader only heartbeats and retries the lock, so it takes over within the lock's TTL
of the leader's death. SIGTERM/SIGINT release the lock and exit within a tick.

``--health`` is the compose healthcheck: Redis answers and this replica's heartbeat is fresh.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import final

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from contracts.envvars import LOG_LEVELS, EnvReader, choice, int_range, redis_url, token
from jobs.enqueue import enqueue_periodic
from jobs.leader import HEARTBEAT_PREFIX, LAST_SLOTS_KEY, Claim, LeaderLock
from jobs.schedule import DEFAULT_TABLE, Entry, due_slot, interval_var, parse_last_slots, read_table
from jobs.schema import database_problem

__all__ = ["Scheduler", "SchedulerSettings", "SettingsError", "main"]

log = logging.getLogger("jobs.scheduler")

DEFAULT_LOCK_TTL_SECONDS = 30
MAX_TICK_SECONDS = 1.0


class SettingsError(Exception):
    """The environment is invalid; ``problems`` names every bad variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@final
@dataclass(frozen=True)
class SchedulerSettings:
    """What the scheduler reads from its environment (the README lists each variable)."""

    redis_url: str
    replica_id: str
    lock_ttl_seconds: int
    log_level: str
    table: tuple[Entry, ...]

    @property
    def tick_seconds(self) -> float:
        """How often a replica heartbeats, renews and looks for due slots."""
        return min(MAX_TICK_SECONDS, self.lock_ttl_seconds / 3)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SchedulerSettings:
        """Parse ``environ`` (default ``os.environ``).

        Raises:
            SettingsError: listing every invalid variable.
        """
        reader = EnvReader(os.environ if environ is None else environ)
        settings = cls(
            redis_url=reader.get("REDIS_URL", redis_url, "redis://127.0.0.1:6379/0"),
            replica_id=reader.get("SCHEDULER_ID", token, socket.gethostname().replace(":", "-") or "scheduler"),
            lock_ttl_seconds=reader.get("SCHEDULER_LOCK_TTL_SECONDS", int_range(2, 600), DEFAULT_LOCK_TTL_SECONDS),
            log_level=reader.get("LOG_LEVEL", choice(LOG_LEVELS, upper=True), "INFO"),
            table=read_table(reader),
        )
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings


def heartbeat_key(replica_id: str) -> str:
    return HEARTBEAT_PREFIX + replica_id


@final
class Scheduler:
    """One replica's loop; ``step`` is one pass (tests drive it with their own clock)."""

    def __init__(
        self, client: redis.Redis, settings: SchedulerSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self.lock = LeaderLock(client, settings.replica_id, settings.lock_ttl_seconds * 1000)
        self._redis_down = False
        self.stopping = False

    def step(self) -> list[str]:
        """Heartbeat, lead, enqueue what is due; returns the job ids enqueued in this pass.

        Raises:
            redis.exceptions.RedisError: Redis is unreachable (``run`` logs it and retries).
        """
        now = self._clock()
        was_leader = self.lock.value is not None
        if was_leader:
            if not self.lock.renew():
                log.warning("lost leadership (the lock expired or was taken); standing by")
        elif self.lock.acquire():
            log.info("became leader replica=%s token=%s", self._settings.replica_id, self.lock.token)
        self._beat(now)
        if self.lock.value is None:
            return []
        raw: dict[bytes, bytes] = self._client.hgetall(LAST_SLOTS_KEY)  # type: ignore[assignment]  # bytes client
        last = parse_last_slots({k.decode(): v.decode() for k, v in raw.items()})
        enqueued: list[str] = []
        for entry in self._settings.table:
            slot = due_slot(entry, last.get(entry.name), now)
            if slot is None:
                continue
            claim = self.lock.claim(entry.name, slot)
            if claim is Claim.NOT_LEADER:
                log.warning("lost leadership while claiming %s slot %d; enqueued nothing", entry.name, slot)
                break
            if claim is Claim.DONE:
                continue
            try:
                job_id = enqueue_periodic(self._client, entry.spec, slot, stale_after_seconds=entry.interval_seconds)
            except redis.RedisError:
                self.lock.unclaim(entry.name, slot, last.get(entry.name))
                raise
            missed = slot - last[entry.name] - 1 if entry.name in last else 0
            log.info(
                "enqueued %s (slot %d%s) token=%s", job_id, slot,
                f", {missed} missed slots caught up once" if missed > 0 else "", self.lock.token,
            )
            enqueued.append(job_id)
        return enqueued

    def _beat(self, now: float) -> None:
        """This replica's heartbeat, for ``--health`` (a follower beats too: it is healthy)."""
        value = json.dumps({"at": now, "leader": self.lock.value is not None, "token": self.lock.token})
        self._client.set(heartbeat_key(self._settings.replica_id), value, px=self._settings.lock_ttl_seconds * 1000)

    def run(self) -> None:
        """Step every tick until ``stopping``; then release the lock and the heartbeat."""
        tick = self._settings.tick_seconds
        log.info(
            "scheduler replica=%s lock_ttl=%ss table: %s", self._settings.replica_id,
            self._settings.lock_ttl_seconds,
            ", ".join(f"{e.name}={e.interval_seconds}s" if e.enabled else f"{e.name}=off" for e in self._settings.table),
        )
        while not self.stopping:
            try:
                self.step()
                if self._redis_down:
                    log.info("redis reachable again")
                self._redis_down = False
            except redis.RedisError as exc:
                if not self._redis_down:
                    log.warning("redis unreachable (%s); retrying every %.1fs", exc, tick)
                self._redis_down = True
                self.lock.forget()
            deadline = time.monotonic() + tick
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(min(0.1, tick))
        self.close()

    def close(self) -> None:
        """Release the lock (the other replica takes over at once) and drop the heartbeat."""
        try:
            released = self.lock.release()
            self._client.delete(heartbeat_key(self._settings.replica_id))
            log.info("scheduler stopped%s", "; leader lock released" if released else "")
        except redis.RedisError as exc:
            log.warning("could not release the leader lock on shutdown (%s); it expires by itself", exc)


def make_client(settings: SchedulerSettings) -> redis.Redis:
    """A client that fails fast (within a tick): the loop owns retries; RQ needs raw bytes."""
    timeout = max(0.5, settings.lock_ttl_seconds / 3)
    return redis.Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0), health_check_interval=0,
    )


def health(settings: SchedulerSettings) -> tuple[bool, str]:
    """(healthy, reason): Redis answers PING and this replica's heartbeat is fresh."""
    client = make_client(settings)
    try:
        client.ping()
        raw = client.get(heartbeat_key(settings.replica_id))
    except redis.RedisError as exc:
        return False, f"redis unreachable: {exc}"
    finally:
        client.close()
    if raw is None:
        return False, f"no heartbeat from replica {settings.replica_id}"
    beat = json.loads(raw)
    age = time.time() - float(beat["at"])
    if age > settings.lock_ttl_seconds:
        return False, f"heartbeat of replica {settings.replica_id} is {age:.0f}s old"
    role = f"leader (token {beat['token']})" if beat["leader"] else "standby"
    return True, f"replica {settings.replica_id} {role}, heartbeat {age:.1f}s ago"


def _parser() -> argparse.ArgumentParser:
    intervals = ", ".join(
        f"{interval_var(e.name)} ({e.spec.name}, default {e.interval_seconds})" for e in DEFAULT_TABLE
    )
    return argparse.ArgumentParser(
        prog="python -m jobs.scheduler",
        description="Enqueue the periodic jobs once per UTC slot, one leader at a time (a Redis lock with a "
        "fencing token; other replicas stand by and take over within the lock TTL).",
        epilog=(
            "Environment variables: REDIS_URL (default redis://127.0.0.1:6379/0); SCHEDULER_ID (this "
            "replica's id, default the hostname); SCHEDULER_LOCK_TTL_SECONDS (default 30: a standby takes "
            f"over within it); LOG_LEVEL (INFO). Intervals in seconds, 0 turns an entry off: {intervals}."
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    parser.add_argument("--health", action="store_true", help="check Redis and this replica's heartbeat; exit 0 if healthy")
    args = parser.parse_args(argv)
    try:
        settings = SchedulerSettings.from_env()
    except SettingsError as exc:
        print("invalid environment:\n  " + "\n  ".join(exc.problems), file=sys.stderr)
        return 2
    if args.health:
        ok, reason = health(settings)
        print(reason, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    problem = database_problem(os.environ)
    if problem is not None:
        print(f"jobs.scheduler: {problem}", file=sys.stderr)
        return 1
    client = make_client(settings)
    scheduler = Scheduler(client, settings)

    def stop(signum: int, frame: FrameType | None) -> None:
        scheduler.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.run()
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
