"""Percentiles, the results document and --slo handling."""

from __future__ import annotations

import pytest

from callengine.loadtest.errors import ConfigError
from callengine.loadtest.metrics import CallMetrics, ClosedBy, Outcome
from callengine.loadtest.report import format_summary, progress_line
from callengine.loadtest.slo import check_slos, parse_slo
from callengine.loadtest.stats import METRIC_KEYS, distribution, percentile, summarize


def test_percentile_interpolates_like_numpy() -> None:
    data = [1.0, 2.0, 3.0, 4.0]
    assert percentile(data, 50) == 2.5
    assert percentile(data, 0) == 1.0 and percentile(data, 100) == 4.0
    assert percentile(data, 99) == pytest.approx(3.97)
    assert percentile([], 50) is None
    assert percentile([7.0], 99) == 7.0


def test_distribution_handles_empty_input() -> None:
    assert distribution([]) == {"n": 0, "p50": None, "p99": None, "max": None}
    assert distribution([3.0, 1.0, 2.0], (50,)) == {"n": 3, "p50": 2.0, "max": 3.0}


def _calls() -> list[CallMetrics]:
    ok = CallMetrics(0, "talk", "CA0")
    ok.outcome = Outcome.COMPLETED
    ok.connect_ms = 1.5
    ok.started_at, ok.ended_at = 10.0, 70.0
    ok.media_sent = 3000
    ok.lateness_ms.extend([0.1, 0.2, 5.0])
    ok.media_in, ok.media_bytes = 10, 16000
    ok.underruns, ok.underrun_ms = 2, 40.0
    ok.barge_in_ms.extend([100.0, 300.0])
    refused = CallMetrics(1, "talk", "CA1")
    refused.outcome = Outcome.REFUSED
    refused.refused_status, refused.refused_reason, refused.retry_after = 503, "HTTP 503 Service Unavailable", "1"
    failed = CallMetrics(2, "talk", "CA2")
    failed.outcome, failed.fail_reason = Outcome.FAILED, "server closed the stream early"
    failed.connect_ms = 2.0
    failed.close_code, failed.close_reason, failed.closed_by = 1011, "oops", ClosedBy.SERVER
    return [ok, refused, failed]


def test_summarize_counts_outcomes_and_rates() -> None:
    res = summarize(_calls(), config={"url": "ws://x", "calls": 3}, wall_s=61.0)
    calls = res["calls"]
    assert (calls["attempted"], calls["connected"], calls["completed"], calls["refused"], calls["failed"]) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert calls["refused_by_status"] == {"503": 1} and calls["retry_after"] == ["1"]
    assert calls["failures"][0] == {
        "call": 2,
        "call_sid": "CA2",
        "reason": "server closed the stream early",
        "close_code": 1011,
        "close_reason": "oops",
        "closed_by": "server",
    }
    assert res["outbound"]["underruns_per_min"] == 2.0
    assert res["outbound"]["bytes"] == 16000 and res["outbound"]["audio_s"] == 2.0
    assert res["metrics"]["barge_in_p50_ms"] == 200.0
    assert set(res["metrics"]) == set(METRIC_KEYS)


def test_summary_text_and_progress_line_render() -> None:
    cfg = {"url": "ws://x", "twiml_url": None, "sessions": [], "scenario": "talk", "duration_s": 60.0, "ramp_s": 0.01}
    res = summarize(_calls(), config=cfg, wall_s=61.0)
    res["slo"] = {"ok": False, "checks": [{}], "violated": ["failed=1 (want <=0)"]}
    text = format_summary(res)
    assert "HTTP 503×1" in text and "server closed the stream early 1011 (closed by server)" in text
    assert "VIOLATED: failed=1 (want <=0)" in text
    assert len(text.splitlines()) <= 20
    assert "up 1/3" in progress_line(_calls(), 1, 3, 2.0)


def test_parse_slo_directions() -> None:
    assert str(parse_slo("failed=0")) == "failed<=0"
    assert str(parse_slo("connected=50")) == "connected>=50"
    assert str(parse_slo("lead_p1_ms>=40")) == "lead_p1_ms>=40"
    assert str(parse_slo("barge_in_p99_ms<=250")) == "barge_in_p99_ms<=250"


@pytest.mark.parametrize("bad", ["failed", "failed=abc", "nope=1"])
def test_parse_slo_rejects_bad_specs(bad: str) -> None:
    with pytest.raises(ConfigError):
        parse_slo(bad, METRIC_KEYS)


def test_check_slos_names_violations_and_missing_data() -> None:
    specs = [parse_slo(s) for s in ("failed=0", "underruns_per_min=0", "barge_in_p99_ms=250", "lateness_p99_ms=5")]
    metrics = {"failed": 0, "underruns_per_min": 0.5, "barge_in_p99_ms": None, "lateness_p99_ms": 1.2}
    checks = check_slos(specs, metrics)
    assert [c.ok for c in checks] == [True, False, False, True]
    assert checks[1].describe() == "underruns_per_min=0.5 (want <=0)"
    assert checks[2].describe() == "barge_in_p99_ms=no data (want <=250)"
