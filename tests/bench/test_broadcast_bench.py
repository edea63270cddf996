"""The broadcast benchmark runs end to end in a small form and reports its figures (no timing
assertion: the numbers belong to the README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import broadcast_bench

pytestmark = [pytest.mark.slow]


def test_a_small_run_delivers_each_recipient_once_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "broadcast.json"
    assert broadcast_bench.main(["--recipients", "30", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["each_delivered_once"] is True and result["recipients"] == 30 and result["sends_per_s"] > 0
    assert "| 30 | sqlite |" in capsys.readouterr().out


def test_bad_sizes_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        broadcast_bench.main(["--recipients", "0"])
    assert exit_.value.code == 2 and "--recipients must be positive" in capsys.readouterr().err
