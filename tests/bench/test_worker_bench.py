"""The worker benchmark runs end to end in its quick form and reports every figure (no timing
assertions: the numbers belong to the README, not to a test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import worker_bench

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def test_a_quick_run_prints_throughput_side_by_side_and_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worker.json"
    assert worker_bench.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    for kind in ("trivial", "thumbnail"):
        row = result["throughput"]["median"][kind]
        assert row["ours_jobs_per_s"] > 0 and row["plain_jobs_per_s"] > 0 and row["ours_over_plain"] > 0
        assert row["bare_jobs_per_s"] > 0 and row["bare_over_plain"] > 0
    assert {run["worker"] for run in result["throughput"]["runs"]} == {"ours", "bare", "plain"}
    latency = result["latency"]
    assert latency["visible"] == latency["calls"] == 5 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    printed = capsys.readouterr().out
    assert "| trivial |" in printed and "| thumbnail |" in printed and "finalize_call → GET /api/calls" in printed


def test_bad_sizes_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        worker_bench.main(["--rounds", "0"])
    assert exit_.value.code == 2 and "sizes and rates must be positive" in capsys.readouterr().err
