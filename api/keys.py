"""Redis keys the API owns (the calls service's keys live in ``contracts.keys``)."""

from __future__ import annotations

__all__ = [
    "METRICS_COUNTS",
    "METRICS_ERRORS",
    "METRICS_LATENCY_BUCKETS",
    "METRICS_LATENCY_SUM_MS",
    "login_account",
    "login_ip",
]

PREFIX = "api:"
METRICS_COUNTS = PREFIX + "metrics:requests"  # HASH "METHOD /rule" -> count
METRICS_ERRORS = PREFIX + "metrics:errors"  # HASH "METHOD /rule" -> 5xx count
METRICS_LATENCY_SUM_MS = PREFIX + "metrics:latency_sum_ms"  # HASH "METHOD /rule" -> float sum
METRICS_LATENCY_BUCKETS = PREFIX + "metrics:latency_buckets"  # HASH "METHOD /rule|le" -> count


def login_account(email: str) -> str:
    return f"{PREFIX}login:account:{email}"


def login_ip(ip: str) -> str:
    return f"{PREFIX}login:ip:{ip}"
