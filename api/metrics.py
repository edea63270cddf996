"""Per-route request counts and latencies, shared across Hypercorn workers through Redis.

Each worker accumulates in memory (no Redis round trip on the request path) and flushes every
``FLUSH_INTERVAL_SECONDS`` with one pipeline of HINCRBY/HINCRBYFLOAT, so ``/metrics.json``
served by any worker reports the sum of all of them (per-process counters would make each
scrape report whichever worker happened to answer it).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final

from api import keys

if TYPE_CHECKING:
    import redis

__all__ = ["BUCKETS_MS", "RequestMetrics", "read_metrics"]

FLUSH_INTERVAL_SECONDS = 1.0
# Upper bounds (ms) of the latency histogram; Twilio's webhook budget is 15 s, ours 50 ms.
BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000)
INF = "+Inf"


@final
@dataclass
class RequestMetrics:
    """In-memory accumulator of one worker; ``flush`` moves it into Redis."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latency_sum_ms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    buckets: Counter[str] = field(default_factory=Counter)

    def observe(self, route: str, status: int, elapsed_ms: float) -> None:
        self.counts[route] += 1
        if status >= 500:
            self.errors[route] += 1
        self.latency_sum_ms[route] += elapsed_ms
        index = bisect.bisect_left(BUCKETS_MS, elapsed_ms)
        bound = str(BUCKETS_MS[index]) if index < len(BUCKETS_MS) else INF
        self.buckets[f"{route}|{bound}"] += 1

    def take(self) -> RequestMetrics:
        """Return the pending numbers and start afresh (so a failed flush can be merged back)."""
        taken = RequestMetrics(self.counts, self.errors, self.latency_sum_ms, self.buckets)
        self.counts, self.errors, self.buckets = Counter(), Counter(), Counter()
        self.latency_sum_ms = defaultdict(float)
        return taken

    def merge(self, other: RequestMetrics) -> None:
        self.counts.update(other.counts)
        self.errors.update(other.errors)
        for route, ms in other.latency_sum_ms.items():
            self.latency_sum_ms[route] += ms
        self.buckets.update(other.buckets)

    def flush(self, client: redis.Redis) -> None:
        """Write the pending numbers to Redis (sync; run in a thread).

        Raises:
            redis.RedisError: the numbers stay pending for the next flush.
        """
        pending = self.take()
        if not pending.counts:
            return
        try:
            pipe = client.pipeline(transaction=False)
            for route, n in pending.counts.items():
                pipe.hincrby(keys.METRICS_COUNTS, route, n)
            for route, n in pending.errors.items():
                pipe.hincrby(keys.METRICS_ERRORS, route, n)
            for route, ms in pending.latency_sum_ms.items():
                pipe.hincrbyfloat(keys.METRICS_LATENCY_SUM_MS, route, round(ms, 3))
            for bucket, n in pending.buckets.items():
                pipe.hincrby(keys.METRICS_LATENCY_BUCKETS, bucket, n)
            pipe.execute()
        except Exception:
            self.merge(pending)
            raise


def read_metrics(client: redis.Redis) -> dict[str, Any]:
    """Per-route counts, 5xx counts, mean latency and a histogram-derived p50/p99 (upper bounds)."""
    pipe = client.pipeline(transaction=False)
    for key in (keys.METRICS_COUNTS, keys.METRICS_ERRORS, keys.METRICS_LATENCY_SUM_MS, keys.METRICS_LATENCY_BUCKETS):
        pipe.hgetall(key)
    counts, errors, sums, raw_buckets = pipe.execute()
    histograms: dict[str, dict[str, int]] = {}
    for bucket, n in raw_buckets.items():
        route, _, bound = bucket.rpartition("|")
        histograms.setdefault(route, {})[bound] = int(n)
    routes: dict[str, Any] = {}
    for route in sorted(counts):
        total = int(counts[route])
        histogram = histograms.get(route, {})
        routes[route] = {
            "count": total,
            "errors_5xx": int(errors.get(route, 0)),
            "latency_ms_mean": round(float(sums.get(route, 0.0)) / total, 3) if total else None,
            "latency_ms_p50_le": _quantile(histogram, 0.50),
            "latency_ms_p99_le": _quantile(histogram, 0.99),
            "latency_ms_buckets": {b: histogram.get(b, 0) for b in [*map(str, BUCKETS_MS), INF] if histogram.get(b)},
        }
    return routes


def _quantile(histogram: dict[str, int], q: float) -> str | None:
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for bound in [*map(str, BUCKETS_MS), INF]:
        seen += histogram.get(bound, 0)
        if seen >= q * total:
            return bound
    return INF
