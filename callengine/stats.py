"""Process-wide call statistics for /health and the benchmarks (pure, no I/O).

``LagHistogram`` is a fixed-resolution histogram (0.5 ms buckets up to 2 s) cheap enough to
update once per inbound frame.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, final

__all__ = ["EngineStats", "LagHistogram"]


@final
class LagHistogram:
    __slots__ = ("buckets", "count", "max_ms")
    RESOLUTION_MS = 0.5
    LIMIT = 4000  # buckets: 2 s; anything later lands in the last one

    def __init__(self) -> None:
        self.buckets = [0] * (self.LIMIT + 1)
        self.count = 0
        self.max_ms = 0.0

    def add(self, lag_ms: float) -> None:
        index = int(lag_ms * 2.0)  # 1 / RESOLUTION_MS
        self.buckets[index if index < self.LIMIT else self.LIMIT] += 1
        self.count += 1
        if lag_ms > self.max_ms:
            self.max_ms = lag_ms

    def percentile(self, q: float) -> float:
        """Upper edge of the bucket holding the ``q``-th percentile (0 when empty)."""
        if not self.count:
            return 0.0
        rank = q / 100.0 * self.count
        seen = 0
        for index, n in enumerate(self.buckets):
            seen += n
            if seen >= rank and n:
                return (index + 1) * self.RESOLUTION_MS
        return self.max_ms

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50": self.percentile(50),
            "p99": self.percentile(99),
            "p999": self.percentile(99.9),
            "max": round(self.max_ms, 3),
        }


@final
class EngineStats:
    """Counters shared by every call of this process (single Trio thread: no locks)."""

    def __init__(self) -> None:
        self.calls_started = 0
        self.end_reasons: Counter[str] = Counter()
        self.frames_in = 0
        self.barge_ins = 0
        self.inbound_lag = LagHistogram()

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls_started": self.calls_started,
            "end_reasons": dict(self.end_reasons),
            "frames_in": self.frames_in,
            "barge_ins": self.barge_ins,
            "inbound_lag_ms": self.inbound_lag.summary(),
        }
