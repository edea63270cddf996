"""Human output: the live progress line, the one-screen summary and the one-line verdict (pure)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from callengine.loadtest.metrics import CallMetrics, Outcome
from callengine.loadtest.stats import percentile

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["MAKE_RUN_HINT", "MAKE_RUN_TOKEN_HINT", "format_summary", "progress_line", "verdict"]

# Where ``make run`` keeps the auth token its API and calls service check (scripts/localstack.py), and
# the wrapper that load-tests it with the right options.
MAKE_RUN_TOKEN_HINT: Final = "make run keeps it as TWILIO_AUTH_TOKEN in var/dev-secrets"
MAKE_RUN_HINT: Final = "against make run, scripts/loadtest.sh does all this for you"


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


def _refusal_hint(stage: str, status: int | None, reason: str, cfg: Mapping[str, Any], retry_after: str) -> str:
    """Why calls were refused at ``stage`` and what to change, as one clause."""
    signed = bool(cfg.get("signed"))
    if status == 403 and stage == "calls service":
        if signed:
            return (
                "the calls service did not accept the X-Twilio-Signature — --auth-token must be the server's "
                f"TWILIO_AUTH_TOKEN ({MAKE_RUN_TOKEN_HINT}) and the signed URL (--public-url, default the target "
                "with ws→wss) the server's PUBLIC_BASE_URL with ws(s):// and /ws/twilio; "
                f"{MAKE_RUN_HINT}"
            )
        return (
            "the server checks Twilio signatures — pass --auth-token TOKEN "
            f"({MAKE_RUN_TOKEN_HINT}), or --twiml-url http://127.0.0.1:5000/twilio/voice "
            "--url ws://127.0.0.1:5050/ws/twilio --to +15550100000 --auth-token TOKEN to go through the API's "
            f"signed webhook; {MAKE_RUN_HINT}"
        )
    if status == 404 and stage == "calls service" and cfg.get("twiml_url") and not cfg.get("url"):
        return (
            "the TwiML's <Stream url> is not the calls service (the API names its own PUBLIC_BASE_URL) — "
            f"pass --url ws://HOST:CALLS_PORT/ws/twilio (make run: ws://127.0.0.1:5050/ws/twilio); {MAKE_RUN_HINT}"
        )
    if status == 403:
        if signed:
            return (
                "the API did not accept the webhook's X-Twilio-Signature — --auth-token must be the API's "
                f"TWILIO_AUTH_TOKEN ({MAKE_RUN_TOKEN_HINT}) and --twiml-url start with its PUBLIC_BASE_URL"
            )
        return f"the API checks Twilio signatures on the webhook — pass --auth-token TOKEN ({MAKE_RUN_TOKEN_HINT})"
    if status == 503:
        wait = f", Retry-After {retry_after} s" if retry_after else ""
        return (
            f"the {stage} is full (all call slots taken) or draining (shutting down){wait} — "
            "lower --calls, raise --ramp, or raise the server's MAX_CONCURRENT_CALLS"
        )
    if status is None:
        if reason.startswith("<Reject"):
            return (
                f"the webhook answered {reason} — is --to the number of an active business? "
                f"(make run seeds +15550100000); {MAKE_RUN_HINT}"
            )
        return f"the {stage} refused them"
    return f"the {stage} answered {reason or f'HTTP {status}'}"


def verdict(results: Mapping[str, Any]) -> str | None:
    """One line saying why a run failed (refused or failed calls, violated ``--slo``), or None.

    Refusals are grouped by where they happened (the API's webhook or the calls service's
    upgrade) and status, the largest group first, each with what to change.
    """
    cfg = results["config"]
    calls = results["calls"]
    total = calls["attempted"]
    parts: list[str] = []
    groups: Counter[tuple[str, int | None, str]] = Counter()
    for row in results["per_call"]:
        if row["outcome"] == "refused":
            reason = row["refused_reason"] or ""
            stage = "webhook" if reason.startswith(("webhook", "<Reject")) else "calls service"
            groups[(stage, row["refused_status"], reason)] += 1
    retry_after = ", ".join(calls.get("retry_after") or ())
    for (stage, status, reason), count in groups.most_common():
        how = f"with HTTP {status}" if status is not None else f"by {stage}"
        where = "at the webhook" if stage == "webhook" and status is not None else ""
        head = " ".join(x for x in (f"{count} of {total} calls refused", how, where) if x)
        parts.append(f"{head}: {_refusal_hint(stage, status, reason, cfg, retry_after)}")
    if calls["failed"]:
        top = max(calls["failed_by_reason"].items(), key=lambda kv: kv[1], default=("unknown", 0))[0]
        line = f"{calls['failed']} of {total} calls failed (most often: {top})"
        if any(f["close_code"] == 1008 for f in calls["failures"]):
            line += (
                " — 1008: the calls service closes a stream without a valid per-call token; go through "
                f"--twiml-url, or pass --token-secret SECRET (its INTERNAL_SECRET); {MAKE_RUN_HINT}"
            )
        parts.append(line)
    slo = results.get("slo") or {}
    if slo.get("violated"):
        parts.append("SLO violated: " + "; ".join(slo["violated"]))
    return "; ".join(parts) if parts else None
