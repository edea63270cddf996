"""Human output: the live progress line and the one-screen summary (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callengine.loadtest.metrics import CallMetrics, Outcome
from callengine.loadtest.stats import percentile

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["format_summary", "progress_line"]


def progress_line(metrics: Sequence[CallMetrics], up: int, total: int, elapsed_s: float) -> str:
    """One status line: calls up, frames sent, underruns and the barge-in p99 so far."""
    sent = refused = failed = underruns = 0
    barge: list[float] = []
    for m in metrics:
        sent += m.media_sent
        underruns += m.underruns
        refused += m.outcome == Outcome.REFUSED
        failed += m.outcome == Outcome.FAILED
        barge.extend(m.barge_in_ms)
    p99 = percentile(sorted(barge), 99)
    barge_txt = "-" if p99 is None else f"{p99:.0f} ms"
    return (
        f"[{elapsed_s:7.1f}s] up {up}/{total}  refused {refused}  failed {failed}  "
        f"frames {sent}  underruns {underruns}  barge-in p99 {barge_txt}"
    )


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _dist(d: Mapping[str, Any], keys: Sequence[str]) -> str:
    return " / ".join(_ms(d.get(k)) for k in keys) + " ms"


def format_summary(results: Mapping[str, Any]) -> str:
    """Render the results document as a one-screen text report."""
    cfg = results["config"]
    calls = results["calls"]
    inbound = results["inbound"]
    out = results["outbound"]
    marks = results["marks"]
    barge = results["barge_in"]
    what = ", ".join(cfg["sessions"]) if cfg["sessions"] else f"{cfg['scenario']} {cfg['duration_s']:g} s"
    target = cfg["url"] or cfg["twiml_url"]
    lines = [
        f"loadtest {target} — {calls['attempted']} calls ({what}), "
        f"ramp {cfg['ramp_s'] * 1000:g} ms, wall {results['wall_s']:.1f} s",
        f"calls      connected {calls['connected']}  completed {calls['completed']}  hung up {calls['hung_up']}  refused {calls['refused']}  "
        f"failed {calls['failed']}  ({calls['call_minutes']:.2f} call-min)",
    ]
    if calls["refused"]:
        status = ", ".join(f"HTTP {k}×{v}" for k, v in sorted(calls["refused_by_status"].items()))
        reasons = ", ".join(f"{k}×{v}" for k, v in sorted(calls["refused_reasons"].items()) if not k.startswith("HTTP"))
        retry = f"  Retry-After {', '.join(calls['retry_after'])}" if calls["retry_after"] else ""
        lines.append(f"  refused   {', '.join(x for x in (status, reasons) if x)}{retry}")
    for reason, count in sorted(calls["failed_by_reason"].items(), key=lambda kv: -kv[1])[:5]:
        lines.append(f"  failed    {count}× {reason}")
    lines += [
        f"connect    p50/p99/max {_dist(results['connect_ms'], ('p50', 'p99', 'max'))}"
        + (f"   webhook p50/p99 {_dist(results['webhook_ms'], ('p50', 'p99'))}" if results["webhook_ms"]["n"] else ""),
        f"inbound    media {inbound['media_sent']}  dtmf {inbound['dtmf_sent']}  send lateness p50/p99/max "
        f"{_dist(inbound['lateness_ms'], ('p50', 'p99', 'max'))}",
        f"outbound   media {out['media']}  {out['bytes'] / 1e6:.2f} MB ({out['audio_s']:.1f} s audio)  "
        f"first audio p50/p99 {_dist(out['first_audio_ms'], ('p50', 'p99'))}",
        f"playback   underruns {out['underruns']} ({out['underrun_ms']:.0f} ms, "
        f"{_ms(out['underruns_per_min'])}/call-min)  lead p1/p50/p99 {_dist(out['lead_ms'], ('p1', 'p50', 'p99'))}",
        f"           pacing error p50/p99/max {_dist(out['pacing_error_ms'], ('p50', 'p99', 'max'))}",
        f"marks      received {marks['received']}  echoed {marks['echoed']}  hold p50/p99/max "
        f"{_dist(marks['hold_ms'], ('p50', 'p99', 'max'))}  clears {out['clears']}",
        f"barge-in   onsets {barge['onsets']} (during playback {barge['during_playback']})  cleared {barge['cleared']}"
        f"  missed {barge['missed']}  latency p50/p99/max {_dist(barge['latency_ms'], ('p50', 'p99', 'max'))}",
    ]
    bad = {k: out[k] for k in ("wrong_stream_sid", "unknown_events", "binary_frames") if out[k]}
    if bad:
        lines.append("protocol   " + "  ".join(f"{k} {v}" for k, v in bad.items()))
    server = results.get("server")
    if server:
        if "cpu_us_per_call_s" in server:
            lines.append(
                f"server     pid {server['pid']}: {server['cpu_us_per_call_s']:.0f} µs CPU per call-second "
                f"({server['cpu_percent']:.1f} % of a core for {server['calls_in_window']} calls over "
                f"{server['steady_window_s']:.1f} s), RSS +{_ms(server.get('rss_per_call_kb'))} KB/call"
            )
        else:
            lines.append(f"server     pid {server['pid']}: {server.get('error', 'no measurement')}")
    harness = results.get("harness") or {}
    if harness.get("cpu_percent") is not None:
        lines.append(f"harness    CPU {harness['cpu_percent']:.1f} % of one core")
    slo = results.get("slo")
    if slo and slo["checks"]:
        lines.append("SLO        " + ("all met" if slo["ok"] else "VIOLATED: " + "; ".join(slo["violated"])))
    return "\n".join(lines)
