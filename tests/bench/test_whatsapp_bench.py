"""The WhatsApp benchmark runs end to end in its quick form against the real Node gateway and
reports every figure (no timing assertions: the numbers belong to the README, not to a test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import whatsapp_bench

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
    pytest.mark.skipif(shutil.which("node") is None or not (ROOT / "baileys" / "node_modules").is_dir(),
                       reason="needs Node 20+ and baileys/node_modules (scripts/test-baileys.sh installs them)"),
]


def test_a_quick_run_prints_latency_memory_and_broadcast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "whatsapp.json"
    assert whatsapp_bench.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    latency = result["latency"]
    assert latency["visible"] == latency["messages"] == 10 and 0 < latency["p50_ms"] <= latency["p99_ms"]
    memory = result["memory"]
    assert memory["forced_gc"] is True and memory["base_rss_kb"] > 0
    assert [row["sessions"] for row in memory["levels"]] == [1, 10]
    assert all(row["rss_kb"] > 0 for row in memory["levels"])
    broadcast = result["broadcast"]
    assert broadcast["each_delivered_once"] is True and broadcast["recipients"] == 20 and broadcast["sends_per_s"] > 0
    assert broadcast["python_fake"]["each_delivered_once"] is True
    printed = capsys.readouterr().out
    assert "| 10 | 10/s | 10 |" in printed and "| connected sessions |" in printed
    assert "| Node gateway, fake driver | 20 |" in printed and "| Python fake gateway | 20 |" in printed


@pytest.mark.parametrize(("argv", "problem"), [
    (["--levels", "1,x"], "--levels: a comma list"),
    (["--parts", "latency,speed"], "--parts: a comma list"),
    (["--rate", "0"], "sizes and rates must be positive"),
])
def test_bad_arguments_are_refused(argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        whatsapp_bench.main(argv)
    assert exit_.value.code == 2 and problem in capsys.readouterr().err
