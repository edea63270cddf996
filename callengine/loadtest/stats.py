"""Percentiles and the results document (pure).

:func:`summarize` turns the per-call recorders into the JSON-ready results dict documented in
the package docstring; :func:`flat_metrics` flattens it into the ``KEY`` names that ``--slo``
and benchmark scripts use.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from callengine.loadtest.metrics import CallMetrics, Outcome

__all__ = ["METRIC_KEYS", "METRIC_MEANINGS", "RESULTS_VERSION", "distribution", "flat_metrics", "percentile", "summarize"]

RESULTS_VERSION: Final = 1
# At most this many failures are listed individually in the results (the rest are counted).
_MAX_FAILURE_ROWS: Final = 50


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default) of already-sorted values.

    Args:
        sorted_values: Ascending values.
        q: Percentile in [0, 100].

    Returns:
        The percentile, or None for an empty sequence.
    """
    n = len(sorted_values)
    if n == 0:
        return None
    if n == 1:
        return float(sorted_values[0])
    pos = (n - 1) * min(100.0, max(0.0, q)) / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * frac)


def distribution(values: Iterable[float], qs: Sequence[float] = (50, 99), *, with_max: bool = True) -> dict[str, Any]:
    """Summarise samples as ``{"n", "p50", "p99", …, "max"}`` (None when there are none)."""
    data = sorted(values)
    out: dict[str, Any] = {"n": len(data)}
    for q in qs:
        v = percentile(data, q)
        out[f"p{q:g}"] = None if v is None else round(v, 3)
    if with_max:
        out["max"] = round(data[-1], 3) if data else None
    return out


def _concat(calls: Sequence[CallMetrics], attr: str) -> list[float]:
    out: list[float] = []
    for c in calls:
        out.extend(getattr(c, attr))
    return out


def _opt(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def summarize(
    calls: Sequence[CallMetrics],
    *,
    config: Mapping[str, Any],
    wall_s: float,
    server: Mapping[str, Any] | None = None,
    harness: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the results document for a run.

    Args:
        calls: One recorder per attempted call.
        config: The run's settings (echoed into the results).
        wall_s: Wall time of the whole run.
        server: Server CPU/RSS measurements (``--server-pid``), if any.
        harness: The harness's own resource use.

    Returns:
        A JSON-serialisable dict (see the package docstring for the schema).
    """
    outcomes = Counter(c.outcome for c in calls)
    connected = [c for c in calls if c.connect_ms is not None]  # set only on a 101 upgrade
    refused = [c for c in calls if c.outcome == Outcome.REFUSED]
    failed = [c for c in calls if c.outcome == Outcome.FAILED]
    call_minutes = sum(c.call_seconds() for c in calls) / 60.0
    underruns = sum(c.underruns for c in calls)
    failures = [
        {
            "call": c.index,
            "call_sid": c.call_sid,
            "reason": c.fail_reason,
            "close_code": c.close_code,
            "close_reason": c.close_reason,
            "closed_by": None if c.closed_by is None else str(c.closed_by),
        }
        for c in failed[:_MAX_FAILURE_ROWS]
    ]
    failed_by: Counter[str] = Counter()
    for c in failed:
        code = "" if c.close_code is None else f" {c.close_code}"
        by = "" if c.closed_by is None else f" (closed by {c.closed_by})"
        failed_by[f"{c.fail_reason}{code}{by}"] += 1
    refused_by_status: Counter[str] = Counter(str(c.refused_status) for c in refused if c.refused_status is not None)
    refused_reasons: Counter[str] = Counter(c.refused_reason or "" for c in refused)
    retry_after = sorted({c.retry_after for c in refused if c.retry_after is not None})
    results: dict[str, Any] = {
        "version": RESULTS_VERSION,
        "config": dict(config),
        "wall_s": round(wall_s, 3),
        "calls": {
            "attempted": len(calls),
            "connected": len(connected),
            "completed": outcomes.get(Outcome.COMPLETED, 0),
            "hung_up": outcomes.get(Outcome.HUNG_UP, 0),
            "refused": len(refused),
            "failed": len(failed),
            "refused_by_status": dict(refused_by_status),
            "refused_reasons": dict(refused_reasons),
            "retry_after": retry_after,
            "failed_by_reason": dict(failed_by),
            "failures": failures,
            "call_minutes": round(call_minutes, 3),
        },
        "connect_ms": distribution(_opt(c.connect_ms for c in calls)),
        "webhook_ms": distribution(_opt(c.webhook_ms for c in calls)),
        "inbound": {
            "media_sent": sum(c.media_sent for c in calls),
            "dtmf_sent": sum(c.dtmf_sent for c in calls),
            "messages_sent": sum(c.messages_sent for c in calls),
            "lateness_ms": distribution(_concat(calls, "lateness_ms"), (50, 99, 99.9)),
        },
        "outbound": {
            "media": sum(c.media_in for c in calls),
            "bytes": sum(c.media_bytes for c in calls),
            "audio_s": round(sum(c.media_bytes for c in calls) / 8000.0, 3),
            "marks": sum(c.marks_in for c in calls),
            "clears": sum(c.clears_in for c in calls),
            "other_events": sum(c.other_in for c in calls),
            "unknown_events": sum(c.unknown_in for c in calls),
            "binary_frames": sum(c.binary_in for c in calls),
            "wrong_stream_sid": sum(c.wrong_stream_sid for c in calls),
            "pings": sum(c.pings for c in calls),
            "underruns": underruns,
            "underrun_ms": round(sum(c.underrun_ms for c in calls), 3),
            "underruns_per_min": round(underruns / call_minutes, 4) if call_minutes > 0 else None,
            "lead_ms": distribution(_concat(calls, "lead_ms"), (1, 50, 99), with_max=False),
            "pacing_error_ms": distribution(_concat(calls, "pacing_ms")),
            "first_audio_ms": distribution(_opt(c.first_audio_ms for c in calls), with_max=False),
        },
        "marks": {
            "received": sum(c.marks_in for c in calls),
            "echoed": sum(c.marks_echoed for c in calls),
            "hold_ms": distribution(_concat(calls, "mark_hold_ms")),
        },
        "barge_in": {
            "onsets": sum(c.onsets for c in calls),
            "during_playback": sum(c.onsets_during_playback for c in calls),
            "cleared": sum(len(c.barge_in_ms) for c in calls),
            "missed": sum(c.barge_in_missed for c in calls),
            "latency_ms": distribution(_concat(calls, "barge_in_ms")),
        },
        "server": dict(server) if server else None,
        "harness": dict(harness) if harness else None,
        "per_call": [_per_call(c) for c in calls],
    }
    results["metrics"] = flat_metrics(results)
    return results


def _per_call(c: CallMetrics) -> dict[str, Any]:
    late = sorted(c.lateness_ms)
    p99 = percentile(late, 99)
    return {
        "call": c.index,
        "session": c.session,
        "call_sid": c.call_sid,
        "outcome": str(c.outcome),
        "refused_status": c.refused_status,
        "refused_reason": c.refused_reason,
        "fail_reason": c.fail_reason,
        "close_code": c.close_code,
        "close_reason": c.close_reason,
        "closed_by": None if c.closed_by is None else str(c.closed_by),
        "connect_ms": None if c.connect_ms is None else round(c.connect_ms, 3),
        "seconds": round(c.call_seconds(), 3),
        "media_sent": c.media_sent,
        "media_in": c.media_in,
        "marks_echoed": c.marks_echoed,
        "underruns": c.underruns,
        "underrun_ms": round(c.underrun_ms, 3),
        "barge_ins": len(c.barge_in_ms),
        "barge_in_missed": c.barge_in_missed,
        "first_audio_ms": None if c.first_audio_ms is None else round(c.first_audio_ms, 3),
        "lateness_p99_ms": None if p99 is None else round(p99, 3),
    }


# Flat metric key → path into the results document, and its meaning. This is the ``--slo`` key space.
_FLAT: Final[tuple[tuple[str, tuple[str, ...], str], ...]] = (
    ("attempted", ("calls", "attempted"), "calls started"),
    ("connected", ("calls", "connected"), "calls whose WebSocket upgrade succeeded"),
    ("completed", ("calls", "completed"), "calls that played their whole session"),
    ("hung_up", ("calls", "hung_up"), "calls the server ended normally before the session did"),
    ("refused", ("calls", "refused"), "calls refused (webhook or upgrade answered an error, or <Reject>)"),
    ("failed", ("calls", "failed"), "calls that broke (connection error, protocol error, abnormal close)"),
    ("connect_p50_ms", ("connect_ms", "p50"), "TCP connect + upgrade time, median"),
    ("connect_p99_ms", ("connect_ms", "p99"), "TCP connect + upgrade time, p99"),
    ("webhook_p99_ms", ("webhook_ms", "p99"), "voice webhook round trip, p99"),
    ("lateness_p50_ms", ("inbound", "lateness_ms", "p50"), "how late the harness sent inbound media frames, median"),
    ("lateness_p99_ms", ("inbound", "lateness_ms", "p99"), "inbound send lateness, p99"),
    ("lateness_max_ms", ("inbound", "lateness_ms", "max"), "inbound send lateness, max"),
    ("underruns", ("outbound", "underruns"), "gaps in the server's outbound audio while speaking"),
    ("underrun_ms", ("outbound", "underrun_ms"), "total length of those gaps"),
    ("underruns_per_min", ("outbound", "underruns_per_min"), "underruns per call-minute"),
    ("lead_p1_ms", ("outbound", "lead_ms", "p1"), "audio buffered ahead of playback, p1 (low = about to underrun)"),
    ("lead_p50_ms", ("outbound", "lead_ms", "p50"), "audio buffered ahead of playback, median"),
    ("lead_p99_ms", ("outbound", "lead_ms", "p99"), "audio buffered ahead of playback, p99"),
    ("pacing_p50_ms", ("outbound", "pacing_error_ms", "p50"), "outbound chunk timing error, median"),
    ("pacing_p99_ms", ("outbound", "pacing_error_ms", "p99"), "outbound chunk timing error, p99"),
    ("pacing_max_ms", ("outbound", "pacing_error_ms", "max"), "outbound chunk timing error, max"),
    ("first_audio_p50_ms", ("outbound", "first_audio_ms", "p50"), "start → first outbound audio, median"),
    ("first_audio_p99_ms", ("outbound", "first_audio_ms", "p99"), "start → first outbound audio, p99"),
    ("outbound_media", ("outbound", "media"), "outbound media messages received"),
    ("wrong_stream_sid", ("outbound", "wrong_stream_sid"), "outbound messages with another call's streamSid"),
    ("marks_echoed", ("marks", "echoed"), "marks echoed back after playback"),
    ("mark_hold_p50_ms", ("marks", "hold_ms", "p50"), "mark sent → echoed, median"),
    ("mark_hold_p99_ms", ("marks", "hold_ms", "p99"), "mark sent → echoed, p99"),
    ("barge_ins", ("barge_in", "cleared"), "caller speech during playback answered by a clear"),
    ("barge_in_missed", ("barge_in", "missed"), "barge-ins with no clear within 2 s"),
    ("barge_in_p50_ms", ("barge_in", "latency_ms", "p50"), "speech onset → clear, median"),
    ("barge_in_p99_ms", ("barge_in", "latency_ms", "p99"), "speech onset → clear, p99"),
    ("barge_in_max_ms", ("barge_in", "latency_ms", "max"), "speech onset → clear, max"),
    ("cpu_us_per_call_s", ("server", "cpu_us_per_call_s"), "server CPU µs per call-second (needs --server-pid)"),
    ("rss_per_call_kb", ("server", "rss_per_call_kb"), "server RSS growth per live call (needs --server-pid)"),
)
METRIC_KEYS: Final = tuple(key for key, _, _ in _FLAT)
# What each ``--slo`` key measures (``--help`` lists them).
METRIC_MEANINGS: Final = {key: meaning for key, _, meaning in _FLAT}


def flat_metrics(results: Mapping[str, Any]) -> dict[str, float | None]:
    """Flatten a results dict into the :data:`METRIC_KEYS` space (missing values are None)."""
    out: dict[str, float | None] = {}
    for key, path, _ in _FLAT:
        node: Any = results
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        out[key] = node
    return out
