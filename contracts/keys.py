"""Redis key names and RQ queue names shared across services; nothing else spells them.

The calls service owns the ``calls:`` keys (it writes live state, the events stream and the
instance registry); the API writes ``calls:setup:{call_sid}`` and reads the rest for admission,
``/health`` and the events feed. Queue names are shared by whoever enqueues (the calls service,
the API) and the RQ worker. See docs/ARCHITECTURE.md for who writes and who reads each key.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE",
    "ACTIVE_COUNT",
    "ALL_QUEUES",
    "BROADCASTS",
    "CAPACITY",
    "DEAD_LETTER",
    "DEFAULT",
    "EVENTS",
    "EVENTS_MAXLEN",
    "HIGH",
    "INSTANCES",
    "INSTANCE_PREFIX",
    "LOW",
    "ENDED_TTL_SECONDS",
    "ADMIT_PENDING_MS",
    "business_active",
    "business_pending",
    "call_ended",
    "call_setup",
    "call_state",
    "instance",
]

PREFIX = "calls:"
ACTIVE = PREFIX + "active"  # ZSET call_sid -> lease expiry (ms)
ACTIVE_COUNT = PREFIX + "active_count"  # derived gauge, rewritten by every heartbeat
CAPACITY = PREFIX + "capacity"  # sum of live, non-draining instances' capacities
EVENTS = PREFIX + "events"  # stream: call_started, call_ended, barge_in, rejected; whatsapp_state (the API)
EVENTS_MAXLEN = 10_000
INSTANCES = PREFIX + "instances"  # SET of instance ids (pruned when their hash expires)
INSTANCE_PREFIX = PREFIX + "instance:"

# RQ queues, most urgent first (a worker listens to them in this order).
HIGH = "high"  # finalize_call, outbound webhooks
DEFAULT = "default"
LOW = "low"
BROADCASTS = "broadcasts"
ALL_QUEUES = (HIGH, DEFAULT, LOW, BROADCASTS)
# Dead letters: the list rq:queue:failed that no worker consumes (jobs/deadletter.py).
DEAD_LETTER = "failed"


def instance(instance_id: str) -> str:
    """The hash of one calls-service instance (capacity, live calls, draining flag)."""
    return INSTANCE_PREFIX + instance_id


def call_state(call_sid: str) -> str:
    """The live state of one call while its stream is open."""
    return f"{PREFIX}state:{call_sid}"


def call_setup(call_sid: str) -> str:
    """The call setup the API's voice webhook stores (``contracts.call_setup``)."""
    return f"{PREFIX}setup:{call_sid}"


# How long a finished call's CallSid is remembered (``call_ended``): a stream for it is refused.
# The per-call token is an HMAC of the CallSid alone, so a captured one never expires by
# itself; a day covers replays of a captured webhook answer and costs ~100 bytes per call.
ENDED_TTL_SECONDS = 24 * 3600


def call_ended(call_sid: str) -> str:
    """Set by the calls service when a call that started has ended (TTL ``ENDED_TTL_SECONDS``)."""
    return f"{PREFIX}ended:{call_sid}"


def business_active(business_id: str) -> str:
    """The set of a business's live calls (per-business admission)."""
    return f"{PREFIX}business:{business_id}:active"


# How long an admitted call that has not started yet holds one of its business's slots: Twilio
# opens the stream within a second or two of the webhook's answer; a stream that never comes
# frees the slot after this.
ADMIT_PENDING_MS = 30_000


def business_pending(business_id: str) -> str:
    """ZSET call_sid -> expiry (ms) of the business's admitted calls whose stream has not yet
    started (written by the API's admission script, which also prunes it)."""
    return f"{PREFIX}business:{business_id}:pending"
