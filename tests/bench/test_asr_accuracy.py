"""The recognition-accuracy bench runs and reports what it measured (a few callers only)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import asr_accuracy

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_a_short_run_reports_every_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "asr.json"
    assert asr_accuracy.main(["--calls", "3", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["calls"] == 3
    assert set(result["right"]) == {"intent", "name", "yes", "name within 3 tries"}
    # Clear synthetic callers on a quiet line: the closed questions come back right.
    assert result["right"]["yes"] == 3
    assert result["right"]["intent"] >= 2
    assert result["right"]["name"] <= result["right"]["name within 3 tries"] <= 3
    assert sum(result["need_decisions"].values()) == 3  # every need turn through the decision
    assert "3 synthetic callers" in capsys.readouterr().out


def test_a_bad_count_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert asr_accuracy.main(["--calls", "0"]) == 2
    assert "--calls must be at least 1" in capsys.readouterr().err
