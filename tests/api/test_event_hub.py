"""The event hub's bookkeeping (api/event_hub.py) without Redis: slow consumers, the
process-wide cap, who sees which entry."""

from __future__ import annotations

import pytest
import trio

from api.event_hub import CloseReason, EventHub, HubFull, HubLimits


def hub(**limits: int) -> EventHub:
    settings = {"per_user": 5, "per_business": 10, "total": 20, "buffer": 2, **limits}
    return EventHub(HubLimits(**settings), newest=lambda: None, read=lambda after: [])


def entry(n: int, business: str = "1") -> tuple[str, dict[str, str]]:
    return f"{n}-0", {"type": "call_started", "business_id": business}


async def drain(sub: object) -> list[str]:
    got = []
    while True:
        try:
            got.append((await sub.receive())[0])  # type: ignore[attr-defined]
        except trio.EndOfChannel:
            return got


async def test_a_slow_stream_is_closed_and_the_others_still_get_every_entry() -> None:
    events = hub()
    slow, fast = events.subscribe(1, "1"), events.subscribe(2, "1")
    received = []
    for n in range(1, 4):
        await events.publish([entry(n)])
        received.append((await fast.receive())[0])
    assert received == ["1-0", "2-0", "3-0"]
    assert slow.closed_reason is CloseReason.SLOW_CONSUMER
    assert await drain(slow) == ["1-0", "2-0"]  # what it had buffered, then the end
    assert events.statistics().open_streams == 1


async def test_entries_reach_their_business_and_the_system_admin_only() -> None:
    events = hub(buffer=10)
    mine, theirs, admin = events.subscribe(1, "1"), events.subscribe(2, "2"), events.subscribe(3, None)
    await events.publish([entry(1, "1"), entry(2, "2")])
    events.shutdown()
    assert await drain(mine) == ["1-0"]
    assert await drain(theirs) == ["2-0"]
    assert await drain(admin) == ["1-0", "2-0"]


def test_the_process_wide_cap_refuses_the_next_stream() -> None:
    events = hub(per_user=2, per_business=2, total=3)
    for user in (1, 2, 3):
        events.subscribe(user, str(user))
    with pytest.raises(HubFull):
        events.subscribe(4, "4")
