"""Outbound business webhooks: the headers each POST carries and how a receiver checks them.

Pure (``hmac`` and ``hashlib`` only), so the worker signs with it and a receiver written in
Python can copy it. Each POST (``jobs.webhooks.deliver``, docs/ARCHITECTURE.md §5) carries::

    Content-Type: application/json
    X-ProSaaS-Event: lead_created                 # call_completed | lead_created | lead_updated
    X-ProSaaS-Delivery: 0f1e…                     # the event id: the same on every retry
    X-ProSaaS-Timestamp: 1796000000               # Unix seconds when this attempt was signed
    X-ProSaaS-Signature: v1=5d41…                 # hex HMAC-SHA256 of "{timestamp}.{body}"

The HMAC key is the business's webhook secret (set through ``PATCH /api/businesses/{id}``).
A receiver recomputes the HMAC over the timestamp header, a dot and the raw body bytes (before
any JSON parsing), compares in constant time, refuses a timestamp more than a few minutes
from its own clock (a replayed request), and deduplicates on ``X-ProSaaS-Delivery`` (a retry
after a lost answer sends the same event again).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DELIVERY_HEADER",
    "EVENT_HEADER",
    "SCHEME",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "sign",
    "signature_header",
    "verify",
]

EVENT_HEADER = "X-ProSaaS-Event"
DELIVERY_HEADER = "X-ProSaaS-Delivery"
TIMESTAMP_HEADER = "X-ProSaaS-Timestamp"
SIGNATURE_HEADER = "X-ProSaaS-Signature"
SCHEME = "v1"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"{timestamp}." + body`` keyed with ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of ``X-ProSaaS-Signature``: ``v1=<hex>``."""
    return f"{SCHEME}={sign(secret, timestamp, body)}"


def verify(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """What a receiver runs: True when ``signature`` (the header's value, which may list
    several comma-separated ``v1=…`` entries) matches ``body`` and ``timestamp`` is within
    ``tolerance_seconds`` of ``now`` (Unix seconds)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now - int(timestamp)) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)  # over the header as sent
    for entry in signature.split(","):
        scheme, _, value = entry.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.encode("ascii", "replace"), expected.encode("ascii")):
            return True
    return False
