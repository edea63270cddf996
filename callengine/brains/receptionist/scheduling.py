"""Recognition slots handed out oldest turn first (the brain's scheduling).

The recognition workers are few (one per core) and callers' turns often end together. A
``CapacityLimiter`` serves waiters first come, first served; here a waiter carries the time
its caller stopped speaking and the free slot goes to the turn that has waited longest for its
answer. An early pass (decoding a candidate end of turn) carries the same time as the turn it
would end, so it queues exactly where that turn would.

``WaitQueue`` is the ordering (pure); ``PrioritySlots`` the trio shell around it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import final

import trio

__all__ = ["PrioritySlots", "SlotStatistics", "WaitQueue"]


@final
class WaitQueue:
    """Waiters ordered by ``since`` (earliest first), ties in arrival order (pure)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, object]] = []
        self._seq = itertools.count()
        self._gone: set[int] = set()
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def push(self, since: float, waiter: object) -> int:
        """Queue ``waiter``; returns a ticket for ``remove``."""
        ticket = next(self._seq)
        heapq.heappush(self._heap, (since, ticket, waiter))
        self._live += 1
        return ticket

    def remove(self, ticket: int) -> None:
        """Forget a waiter that gave up (lazily: skipped when it reaches the front)."""
        self._gone.add(ticket)
        self._live -= 1

    def pop(self) -> object | None:
        """The waiter that has waited longest, or None."""
        while self._heap:
            _, ticket, waiter = heapq.heappop(self._heap)
            if ticket in self._gone:
                self._gone.discard(ticket)
                continue
            self._live -= 1
            return waiter
        return None


@dataclass(frozen=True, slots=True)
class SlotStatistics:
    total: int
    borrowed: int
    waiting: int


@final
class PrioritySlots:
    """``total`` slots; ``async with slots.hold(since)`` waits for one, oldest ``since`` first."""

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError("at least one slot")
        self.total = total
        self._borrowed = 0
        self._queue = WaitQueue()

    def statistics(self) -> SlotStatistics:
        return SlotStatistics(self.total, self._borrowed, len(self._queue))

    @asynccontextmanager
    async def hold(self, since: float) -> AsyncIterator[None]:
        """Hold a slot for the block.

        Cancellation: a waiter cancelled before it got a slot leaves the queue; a slot handed
        to it at the same moment is passed on.
        """
        await trio.lowlevel.checkpoint_if_cancelled()
        if self._borrowed < self.total and not len(self._queue):
            self._borrowed += 1
        else:
            event = trio.Event()
            ticket = self._queue.push(since, event)
            try:
                await event.wait()
            except BaseException:
                if event.is_set():
                    self._release()  # handed over just as we were cancelled: pass it on
                else:
                    self._queue.remove(ticket)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        nxt = self._queue.pop()
        if nxt is None:
            self._borrowed -= 1
            return
        assert isinstance(nxt, trio.Event)
        nxt.set()  # the slot passes straight to the next waiter: borrowed stays the same
