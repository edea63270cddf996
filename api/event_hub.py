"""One reader of ``calls:events`` per process, fanned out to the open ``/api/events`` streams.

The stream carries the calls service's entries (``call_started``, ``call_ended``, ``barge_in``,
``rejected``), the API's admission refusals (``rejected``) and the WhatsApp session changes the
API learns from the gateway (``whatsapp_state``, written by ``publish_whatsapp_state``): one
stream, so ``Last-Event-ID`` resumes all of them with one position. Every entry names its
``business_id``; a stream sees only its business's entries (a system admin's, all).

Each stream used to block on ``XREAD`` in a worker thread of its own: 40 open streams took every
token of trio's default thread limiter, so ``/readyz`` (and anything else run in a default
thread) waited behind them, and a fixed process-wide cap let one user lock everyone out. Now
``serve_event_hub`` is the only task that reads the stream (one thread, under its own limiter of
one, on its own Redis client) and hands each entry to the subscriptions that may see it. A
subscription is a bounded memory channel; the reader never waits for one (``send_nowait``):
a stream that falls ``buffer`` entries behind is closed with ``slow_consumer``.

Caps: per user and per business, the *oldest* stream is closed (with its reason) to make room
for a new one; the process-wide cap refuses the new stream instead, and settings keep it above
the per-user and per-business caps so one account cannot reach it. The bookkeeping
(``subscribe``/``unsubscribe``) is synchronous and never awaits; ``publish`` only checkpoints.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast, final

import trio
from redis import Redis, RedisError

from contracts import keys as call_keys

__all__ = [
    "CloseReason",
    "Entry",
    "EventHub",
    "HubFull",
    "HubLimits",
    "HubStatistics",
    "Subscription",
    "WHATSAPP_STATE",
    "entry_key",
    "publish_whatsapp_state",
    "redis_event_hub",
]

log = logging.getLogger(__name__)
Entry = tuple[str, dict[str, str]]  # (stream entry id, fields)
RETRY_MIN_SECONDS = 0.1  # Redis down: retry the read with backoff, up to RETRY_MAX_SECONDS
RETRY_MAX_SECONDS = 5.0
BLOCK_MS = 5000  # one XREAD waits this long; the reader's socket timeout is longer
READ_COUNT = 500  # entries per XREAD: a burst is fanned out in a few reads
FANOUT_BATCH = 32  # subscriptions woken between two checkpoints of the reader
WHATSAPP_STATE = "whatsapp_state"  # entry type: a business's WhatsApp session changed state


class CloseReason(StrEnum):
    """Why the hub closed a stream (sent to the client in a final ``closed`` event)."""

    USER_LIMIT = "too_many_streams_for_user"
    BUSINESS_LIMIT = "too_many_streams_for_business"
    SLOW_CONSUMER = "slow_consumer"


class HubFull(Exception):
    """The process-wide cap is reached (only many accounts together can reach it)."""


@final
@dataclass(frozen=True)
class HubLimits:
    """Open streams allowed per user, per business and per process; entries buffered per stream."""

    per_user: int
    per_business: int
    total: int
    buffer: int = 256  # a burst of events (~1 s of a busy business) before a stream counts as slow


@final
@dataclass(frozen=True)
class HubStatistics:
    open_streams: int
    reader_running: bool
    position: str | None
    closed: dict[str, int]


def entry_key(entry_id: str) -> tuple[int, int]:
    """``"1700000000000-3"`` → ``(1700000000000, 3)``: stream ids compare as number pairs."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@final
class Subscription:
    """One open stream: ``receive()`` its entries; after ``trio.EndOfChannel``,
    ``closed_reason`` says why the hub closed it (``None`` when the hub was shut down)."""

    def __init__(self, number: int, user_id: int, business: str | None, buffer: int) -> None:
        self.number = number
        self.user_id = user_id
        self.business = business
        self.closed_reason: CloseReason | None = None
        self._send, self._receive = trio.open_memory_channel[Entry](buffer)

    async def receive(self) -> Entry:
        """The next entry; raises ``trio.EndOfChannel`` once closed and drained."""
        return await self._receive.receive()

    def _offer(self, entry: Entry) -> bool:
        try:
            self._send.send_nowait(entry)
        except trio.WouldBlock:
            return False
        except trio.ClosedResourceError:
            return True
        return True

    def _close(self, reason: CloseReason | None) -> None:
        if self.closed_reason is None:
            self.closed_reason = reason
        self._send.close()


@final
class EventHub:
    """Subscriptions of one process, indexed by user and business, and their single reader.

    Args:
        limits: the caps.
        newest: sync, returns the id of the stream's newest entry (``None`` when empty).
        read: sync, ``read(after)`` blocks up to a few seconds and returns entries after ``after``.
    """

    def __init__(
        self,
        limits: HubLimits,
        *,
        newest: Callable[[], str | None],
        read: Callable[[str], list[Entry]],
    ) -> None:
        self.limits = limits
        self._newest = newest
        self._read = read
        self._subs: dict[int, Subscription] = {}
        self._by_user: dict[int, dict[int, Subscription]] = {}
        self._by_business: dict[str, dict[int, Subscription]] = {}
        self._counter = 0
        self._closed: dict[str, int] = {}
        self._wanted = trio.Event()
        self._ready = trio.Event()
        self._running = False
        self._position: str | None = None
        self._thread_limiter = trio.CapacityLimiter(1)  # the one reader; never the request pools
        self._scope = trio.CancelScope()

    # -- bookkeeping (sync, never awaits) ------------------------------------------------------

    def subscribe(self, user_id: int, business: str | None) -> Subscription:
        """Register a stream; ``business`` ``None`` sees every business (system admin).

        Closes the oldest stream of the same user, then of the same business, when either is at
        its cap.

        Raises:
            HubFull: the process holds ``limits.total`` streams.
        """
        mine = self._by_user.get(user_id, {})
        while mine and len(mine) >= self.limits.per_user:
            self._evict(next(iter(mine.values())), CloseReason.USER_LIMIT)
        if business is not None:
            theirs = self._by_business.get(business, {})
            while theirs and len(theirs) >= self.limits.per_business:
                self._evict(next(iter(theirs.values())), CloseReason.BUSINESS_LIMIT)
        if len(self._subs) >= self.limits.total:
            raise HubFull(f"{len(self._subs)} event streams open in this process")
        self._counter += 1
        sub = Subscription(self._counter, user_id, business, self.limits.buffer)
        self._subs[sub.number] = sub
        self._by_user.setdefault(user_id, {})[sub.number] = sub
        if business is not None:
            self._by_business.setdefault(business, {})[sub.number] = sub
        self._wanted.set()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a stream (idempotent); its channel is closed."""
        self._forget(sub)
        sub._close(None)

    async def publish(self, entries: list[Entry]) -> None:
        """Hand entries to every subscription allowed to see them; a full one is closed.

        Never waits for a subscription. Checkpoints every ``FANOUT_BATCH`` subscriptions, so the
        writes an event wakes up are spread over several scheduler batches and a request (say
        ``/readyz``) runs between them instead of behind all of them.
        """
        for entry in entries:
            business = entry[1].get("business_id")
            targets = [s for s in self._subs.values() if s.business is None or s.business == business]
            for n, sub in enumerate(targets, start=1):
                if sub.closed_reason is None and not sub._offer(entry):
                    self._evict(sub, CloseReason.SLOW_CONSUMER)
                if n % FANOUT_BATCH == 0:
                    await trio.lowlevel.checkpoint()
            self._position = entry[0]

    def statistics(self) -> HubStatistics:
        return HubStatistics(len(self._subs), self._running, self._position, dict(self._closed))

    def _evict(self, sub: Subscription, reason: CloseReason) -> None:
        self._forget(sub)
        sub._close(reason)
        self._closed[reason.value] = self._closed.get(reason.value, 0) + 1
        log.info("event stream of user %s closed: %s", sub.user_id, reason.value)

    def _forget(self, sub: Subscription) -> None:
        self._subs.pop(sub.number, None)
        mine = self._by_user.get(sub.user_id)
        if mine is not None:
            mine.pop(sub.number, None)
            if not mine:
                del self._by_user[sub.user_id]
        theirs = self._by_business.get(sub.business) if sub.business is not None else None
        if theirs is not None and sub.business is not None:
            theirs.pop(sub.number, None)
            if not theirs:
                del self._by_business[sub.business]

    # -- the reader -----------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """The reader knows its position in the stream."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Wait until the reader knows its position, so no entry after this call is missed.
        Cancellable; the caller bounds it with a deadline (Redis may be down)."""
        await self._ready.wait()

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Run the reader until cancelled or ``shutdown()``. Touches Redis only once a stream
        has subscribed.

        Redis errors are logged and retried with backoff (streams stay open, without events,
        meanwhile). Cancellation returns at once: the blocked read is abandoned in its thread.
        """
        with self._scope:
            task_status.started()
            await self._wanted.wait()
            await self._read_forever()

    async def _read_forever(self) -> None:
        self._running = True
        backoff = RETRY_MIN_SECONDS
        try:
            while True:
                try:
                    if self._position is None:
                        newest = await self._in_thread(self._newest)
                        self._position = newest or "0-0"
                        self._ready.set()
                    entries = await self._in_thread(self._read, self._position)
                except (RedisError, OSError) as exc:  # retry; the streams stay open meanwhile
                    log.warning("reading calls:events failed (%s); retrying in %.1fs", exc, backoff)
                    await trio.sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX_SECONDS)
                    continue
                backoff = RETRY_MIN_SECONDS
                await self.publish(entries)
        finally:
            self._running = False

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await trio.to_thread.run_sync(fn, *args, limiter=self._thread_limiter, abandon_on_cancel=True)

    def shutdown(self) -> None:
        """Stop the reader and close every stream (their clients see the body end)."""
        self._scope.cancel()
        for sub in list(self._subs.values()):
            self.unsubscribe(sub)


def redis_event_hub(redis_url: str, limits: HubLimits) -> tuple[EventHub, Redis]:
    """The hub reading ``calls:events`` on a Redis client of its own (one connection: the
    reader), returned with the client for the caller to close."""
    client = Redis.from_url(redis_url, max_connections=2, socket_timeout=BLOCK_MS / 1000 + 5,
                            socket_connect_timeout=2, decode_responses=True)

    def newest() -> str | None:
        found = client.xrevrange(call_keys.EVENTS, count=1)
        return str(found[0][0]) if found else None

    def read(after: str) -> list[Entry]:
        batches = cast(list[Any], client.xread({call_keys.EVENTS: after}, count=READ_COUNT, block=BLOCK_MS) or [])
        return [(str(entry_id), dict(fields)) for _stream, entries in batches for entry_id, fields in entries]

    return EventHub(limits, newest=newest, read=read), client


def publish_whatsapp_state(client: Redis, business_id: str, state: str) -> str:
    """Append a ``whatsapp_state`` entry (``business_id``, ``state``, ``ts`` in ms) to
    ``calls:events``; returns its id.

    Raises:
        redis.RedisError: Redis unreachable (the caller logs it: the state is in the database).
    """
    entry = {"type": WHATSAPP_STATE, "ts": str(int(time.time() * 1000)), "business_id": business_id, "state": state}
    return str(client.xadd(call_keys.EVENTS, entry, maxlen=call_keys.EVENTS_MAXLEN, approximate=True))  # type: ignore[arg-type]
