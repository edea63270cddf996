"""Redis reporting for the calls service (docs/ARCHITECTURE.md §3): the only module that talks to Redis.

One background task per process batches everything: call leases in ``calls:active`` (renewed
every ``HEARTBEAT_SECONDS``, expired ones pruned and ``calls:active_count`` rewritten in one Lua
script), per-business lease sets, ``calls:state:{sid}`` hashes, this instance's hash and the
cluster ``calls:capacity``, and the ``calls:events`` stream. redis-py is synchronous, so each
batch runs in a worker thread under a small limiter; calls never wait for Redis.

When Redis is unreachable the calls go on: the reporter logs once, retries with exponential
backoff, buffers events (bounded), spools call records to disk, and republishes everything
once Redis answers again.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

import redis
import trio
from redis.backoff import NoBackoff
from redis.retry import Retry

from callengine.errors import ReportingError, map_redis_errors
from callengine.reporting import spool
from callengine.reporting.base import FinalizeOutcome, LiveCall
from callengine.reporting.enqueue import enqueue_finalize_call
from contracts import keys

if TYPE_CHECKING:
    from callengine.admission import Admission
    from callengine.settings import Settings

__all__ = ["RedisReporter", "open_redis_reporter"]

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
LEASE_MS = 15_000  # a crashed instance's calls vanish from the count within 15 s
STATE_TTL_SECONDS = 15
MAX_BACKOFF_SECONDS = 10.0
MIN_FLUSH_INTERVAL = 0.5  # coalesce call starts, ends and barge-in events into one round trip
MAX_BUFFERED_EVENTS = keys.EVENTS_MAXLEN
REDIS_TIMEOUT_SECONDS = 2.0
ENDED_CHECK_TIMEOUT_SECONDS = 0.5  # at a call's start, once: Twilio waits for our first audio

# Renew/remove leases, prune expired ones, rewrite the gauge: one atomic step.
HEARTBEAT_LUA = """
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
local i = 3
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('ZADD', KEYS[1], expiry, ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('ZREM', KEYS[1], ARGV[i]); i = i + 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
redis.call('SET', KEYS[2], count)
return count
"""

# calls:capacity = sum over live, non-draining instances; prune instances whose hash expired.
CAPACITY_LUA = """
local total = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HMGET', ARGV[1] .. id, 'capacity', 'draining')
  if h[1] then
    if h[2] ~= '1' then total = total + tonumber(h[1]) end
  else
    redis.call('SREM', KEYS[1], id)
  end
end
redis.call('SET', KEYS[2], total)
return total
"""


@dataclass
class _Batch:
    """What one round trip writes; built on the Trio thread, executed in a worker thread."""

    full: bool
    add: list[LiveCall]
    remove: dict[str, str]  # call_sid -> business_id
    events: list[dict[str, str]]
    republish: bool = False  # rewrite every state hash (Redis may have lost them)
    new: set[str] = field(default_factory=set)  # calls whose state hash is not written yet
    instance: dict[str, str] = field(default_factory=dict)


@final
class RedisReporter:
    """Implements ``reporting.base.Reporter`` on a real Redis."""

    def __init__(
        self,
        settings: Settings,
        admission: Admission,
        client: redis.Redis,
        *,
        version: str,
    ) -> None:
        self._settings = settings
        self._admission = admission
        self._client = client
        self._version = version
        self._started_at = str(int(time.time()))
        self._heartbeat = client.register_script(HEARTBEAT_LUA)
        self._capacity = client.register_script(CAPACITY_LUA)
        self._limiter = trio.CapacityLimiter(2)
        self._live: dict[str, LiveCall] = {}
        self._new: dict[str, LiveCall] = {}
        self._gone: dict[str, str] = {}
        self._events: deque[dict[str, str]] = deque()
        self.events_dropped = 0
        self._wake = trio.Event()
        self._reachable = False
        self._republish = True
        self._spool_waiting = True  # drain anything left by a previous run
        self.last_active_count: int | None = None

    # --- Reporter protocol (non-blocking, never fails) --------------------------------------

    @property
    def reachable(self) -> bool:
        return self._reachable

    def call_started(self, call: LiveCall) -> None:
        self._live[call.call_sid] = call
        self._new[call.call_sid] = call
        self._gone.pop(call.call_sid, None)
        self._wake.set()

    def call_ended(self, call_sid: str) -> None:
        call = self._live.pop(call_sid, None)
        self._new.pop(call_sid, None)
        if call is not None:
            self._gone[call_sid] = call.business_id
            self._wake.set()

    def publish(self, kind: str, fields: dict[str, str]) -> None:
        if len(self._events) >= MAX_BUFFERED_EVENTS:
            self._events.popleft()
            self.events_dropped += 1
        self._events.append({"type": kind, "ts": str(int(time.time() * 1000)), **fields})
        self._wake.set()

    async def finalize(self, record: dict[str, Any]) -> str:
        if self._reachable:
            try:
                await trio.to_thread.run_sync(self._enqueue, record, limiter=self._limiter)
                return FinalizeOutcome.ENQUEUED
            except ReportingError as exc:
                log.warning("enqueue of finalize_call failed (%s); spooling", exc)
        path = await trio.to_thread.run_sync(spool.write, self._settings.spool_dir, record)
        log.info("call record spooled to %s until Redis is back", path)
        self._spool_waiting = True
        return FinalizeOutcome.SPOOLED

    async def has_ended(self, call_sid: str) -> bool:
        """``EXISTS calls:ended:{sid}`` in a thread, at most ``ENDED_CHECK_TIMEOUT_SECONDS``.

        Cancellation: safe (an abandoned read finishes in its thread and is discarded).
        """
        if not self._reachable:
            return False
        with trio.move_on_after(ENDED_CHECK_TIMEOUT_SECONDS):
            try:
                return await trio.to_thread.run_sync(
                    self._exists, keys.call_ended(call_sid), abandon_on_cancel=True
                )
            except ReportingError as exc:
                log.warning("cannot tell whether call %s already ended: %s", call_sid, exc)
        return False

    # --- the background task ----------------------------------------------------------------

    async def run(self) -> None:
        """Flush to Redis until cancelled. Cancellation: safe at any await."""
        backoff = 0.0
        next_beat = trio.current_time()
        while True:
            if self._reachable:
                with trio.move_on_at(next_beat):
                    await self._wake.wait()
            else:
                await trio.sleep_until(next_beat)
            self._wake = trio.Event()
            now = trio.current_time()
            full = self._republish or now >= next_beat
            batch = self._take_batch(full)
            try:
                await trio.to_thread.run_sync(self._write, batch, limiter=self._limiter)
            except ReportingError as exc:
                self._give_back(batch)
                if self._reachable or backoff == 0.0:
                    log.warning(
                        "redis unreachable (%s): calls go on; retrying with backoff", exc
                    )
                self._reachable = False
                self._republish = True
                backoff = min(MAX_BACKOFF_SECONDS, max(0.5, backoff * 2))
                next_beat = now + backoff
                continue
            if not self._reachable and backoff:
                log.info("redis reachable again: republished %d live calls", len(self._live))
            self._reachable = True
            backoff = 0.0
            if batch.full and batch.republish:
                self._republish = False
            if batch.full:
                next_beat = now + HEARTBEAT_SECONDS
            if self._spool_waiting:
                await self._drain_spool()
            await trio.sleep(MIN_FLUSH_INTERVAL)

    async def close(self) -> None:
        """Remove this instance from the cluster view (best effort; caller bounds the time)."""
        batch = self._take_batch(full=True)
        batch.instance = {}
        try:
            await trio.to_thread.run_sync(self._write_goodbye, batch, limiter=self._limiter)
        except ReportingError as exc:
            log.warning("could not deregister from redis on shutdown: %s", exc)

    # --- helpers ----------------------------------------------------------------------------

    def _take_batch(self, full: bool) -> _Batch:
        stats = self._admission.statistics()
        batch = _Batch(
            full=full,
            add=list(self._live.values()) if full else list(self._new.values()),
            remove=dict(self._gone),
            events=list(self._events),
            republish=self._republish,
            new=set(self._new),
            instance={
                "active": str(stats.active),
                "capacity": str(stats.capacity),
                "pending": str(stats.pending),
                "draining": "1" if stats.draining else "0",
                "started_at": self._started_at,
                "version": self._version,
            },
        )
        self._new.clear()
        self._gone.clear()
        self._events.clear()
        return batch

    def _give_back(self, batch: _Batch) -> None:
        for sid in batch.new:
            if sid in self._live:
                self._new.setdefault(sid, self._live[sid])
        for sid, business in batch.remove.items():
            if sid not in self._live:
                self._gone.setdefault(sid, business)
        self._events.extendleft(reversed(batch.events))
        while len(self._events) > MAX_BUFFERED_EVENTS:
            self._events.popleft()
            self.events_dropped += 1

    def _write(self, batch: _Batch) -> None:
        """One pipelined round trip (runs in a worker thread)."""
        now_ms = int(time.time() * 1000)
        expiry = now_ms + LEASE_MS
        with map_redis_errors():
            pipe = self._client.pipeline(transaction=False)
            adds = [c.call_sid for c in batch.add]
            self._heartbeat(
                keys=[keys.ACTIVE, keys.ACTIVE_COUNT],
                args=[now_ms, expiry, len(adds), *adds, len(batch.remove), *batch.remove],
                client=pipe,
            )
            businesses = set()
            for call in batch.add:
                bkey = keys.business_active(call.business_id)
                businesses.add(bkey)
                pipe.zadd(bkey, {call.call_sid: expiry})
                state = keys.call_state(call.call_sid)
                if not batch.republish and call.call_sid not in batch.new:
                    pipe.expire(state, STATE_TTL_SECONDS)
                else:
                    pipe.hset(
                        state,
                        mapping={
                            "business_id": call.business_id,
                            "instance": self._settings.instance_id,
                            "state": "active",
                            "started_at": str(int(call.started_at)),
                            "stream_sid": call.stream_sid,
                        },
                    )
                    pipe.expire(state, STATE_TTL_SECONDS)
            for sid, business in batch.remove.items():
                bkey = keys.business_active(business)
                businesses.add(bkey)
                pipe.zrem(bkey, sid)
                pipe.delete(keys.call_state(sid))
                pipe.set(keys.call_ended(sid), "1", ex=keys.ENDED_TTL_SECONDS)
            for bkey in businesses:
                pipe.zremrangebyscore(bkey, "-inf", now_ms)
            if batch.full and batch.instance:
                ikey = keys.instance(self._settings.instance_id)
                pipe.hset(ikey, mapping=batch.instance)  # type: ignore[arg-type]  # invariant stub
                pipe.expire(ikey, STATE_TTL_SECONDS)
                pipe.sadd(keys.INSTANCES, self._settings.instance_id)
                self._capacity(
                    keys=[keys.INSTANCES, keys.CAPACITY], args=[keys.INSTANCE_PREFIX], client=pipe
                )
            for event in batch.events:
                pipe.xadd(keys.EVENTS, event, maxlen=keys.EVENTS_MAXLEN, approximate=True)  # type: ignore[arg-type]
            results = pipe.execute()
            self.last_active_count = int(results[0])

    def _write_goodbye(self, batch: _Batch) -> None:
        self._write(batch)
        with map_redis_errors():
            pipe = self._client.pipeline(transaction=False)
            pipe.delete(keys.instance(self._settings.instance_id))
            pipe.srem(keys.INSTANCES, self._settings.instance_id)
            self._capacity(
                keys=[keys.INSTANCES, keys.CAPACITY], args=[keys.INSTANCE_PREFIX], client=pipe
            )
            pipe.execute()

    def _exists(self, key: str) -> bool:
        with map_redis_errors():
            return bool(self._client.exists(key))

    def _enqueue(self, record: dict[str, Any]) -> str:
        with map_redis_errors():
            return enqueue_finalize_call(self._client, record)

    async def _drain_spool(self) -> None:
        try:
            sent = await trio.to_thread.run_sync(
                spool.drain, self._settings.spool_dir, self._enqueue, limiter=self._limiter
            )
        except ReportingError as exc:
            log.warning("spooled call records stay on disk for now: %s", exc)
            return
        self._spool_waiting = False
        if sent:
            log.info("enqueued %d spooled call records", sent)


def make_redis_client(url: str) -> redis.Redis:
    """A client that fails fast: the reporter owns retries and backoff."""
    return redis.Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


@asynccontextmanager
async def open_redis_reporter(
    settings: Settings,
    admission: Admission,
    *,
    version: str,
    client_factory: Callable[[str], redis.Redis] = make_redis_client,
) -> AsyncIterator[RedisReporter]:
    """Run a ``RedisReporter`` for the duration of the block.

    On exit it deregisters this instance (shielded, at most a few seconds) and stops.
    """
    client = client_factory(settings.redis_url)
    reporter = RedisReporter(settings, admission, client, version=version)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(reporter.run, name="calls:reporter")
            try:
                yield reporter
            finally:
                with trio.move_on_after(REDIS_TIMEOUT_SECONDS * 2, shield=True) as scope:
                    await reporter.close()
                if scope.cancelled_caught:
                    log.warning("redis deregistration timed out on shutdown")
                nursery.cancel_scope.cancel()
    finally:
        client.close()
