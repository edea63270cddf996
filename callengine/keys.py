"""Redis keys of the calls service (DESIGN.md §3); nothing else spells them."""

from __future__ import annotations

__all__ = [
    "ACTIVE",
    "ACTIVE_COUNT",
    "CAPACITY",
    "EVENTS",
    "EVENTS_MAXLEN",
    "INSTANCES",
    "INSTANCE_PREFIX",
    "business_active",
    "call_setup",
    "call_state",
    "instance",
]

PREFIX = "calls:"
ACTIVE = PREFIX + "active"  # ZSET call_sid -> lease expiry (ms)
ACTIVE_COUNT = PREFIX + "active_count"  # derived gauge, rewritten by every heartbeat
CAPACITY = PREFIX + "capacity"  # sum of live, non-draining instances' capacities
EVENTS = PREFIX + "events"  # stream: call_started, call_ended, barge_in, rejected
EVENTS_MAXLEN = 10_000
INSTANCES = PREFIX + "instances"  # SET of instance ids (pruned when their hash expires)
INSTANCE_PREFIX = PREFIX + "instance:"


def instance(instance_id: str) -> str:
    return INSTANCE_PREFIX + instance_id


def call_state(call_sid: str) -> str:
    return f"{PREFIX}state:{call_sid}"


def call_setup(call_sid: str) -> str:
    return f"{PREFIX}setup:{call_sid}"


def business_active(business_id: str) -> str:
    return f"{PREFIX}business:{business_id}:active"
