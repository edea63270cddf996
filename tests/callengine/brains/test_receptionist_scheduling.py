"""Recognition slots go to the turn that has waited longest (WaitQueue pure, PrioritySlots)."""

from __future__ import annotations

import pytest
import trio
import trio.lowlevel
import trio.testing

from callengine.brains.receptionist.scheduling import PrioritySlots, WaitQueue


def test_the_queue_serves_the_earliest_end_of_speech_first() -> None:
    queue = WaitQueue()
    for since, name in [(5.0, "late"), (1.0, "oldest"), (3.0, "middle"), (1.0, "oldest-2")]:
        queue.push(since, name)
    assert len(queue) == 4
    assert [queue.pop() for _ in range(5)] == ["oldest", "oldest-2", "middle", "late", None]
    assert len(queue) == 0


def test_a_waiter_that_gave_up_is_skipped() -> None:
    queue = WaitQueue()
    first = queue.push(1.0, "gone")
    queue.push(2.0, "kept")
    queue.remove(first)
    assert len(queue) == 1
    assert queue.pop() == "kept" and queue.pop() is None


async def test_a_freed_slot_goes_to_the_turn_that_waited_longest() -> None:
    slots = PrioritySlots(1)
    served: list[str] = []

    async def turn(name: str, since: float) -> None:
        async with slots.hold(since):
            served.append(name)
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        async with slots.hold(0.0):
            # Queued in arrival order late, oldest, middle: served by end of speech.
            for name, since in [("late", 9.0), ("oldest", 2.0), ("middle", 5.0)]:
                nursery.start_soon(turn, name, since)
                await trio.testing.wait_all_tasks_blocked()
            stats = slots.statistics()
            assert (stats.borrowed, stats.waiting) == (1, 3)
    assert served == ["oldest", "middle", "late"]
    assert slots.statistics().borrowed == 0


async def test_a_cancelled_waiter_leaves_the_queue_and_loses_no_slot() -> None:
    slots = PrioritySlots(1)
    got: list[str] = []

    async def turn(name: str, since: float, scope_box: list[trio.CancelScope]) -> None:
        with trio.CancelScope() as scope:
            scope_box.append(scope)
            async with slots.hold(since):
                got.append(name)

    cancelled: list[trio.CancelScope] = []
    kept: list[trio.CancelScope] = []
    async with trio.open_nursery() as nursery:
        async with slots.hold(0.0):
            nursery.start_soon(turn, "cancelled", 1.0, cancelled)
            nursery.start_soon(turn, "kept", 2.0, kept)
            await trio.testing.wait_all_tasks_blocked()
            cancelled[0].cancel()
            await trio.testing.wait_all_tasks_blocked()
            assert slots.statistics().waiting == 1
    assert got == ["kept"]
    assert (slots.statistics().borrowed, slots.statistics().waiting) == (0, 0)


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)
