"""The natural-sentence bench: held-out callers, the real dialogue, a few callers only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import intent_accuracy
from callengine.brains.receptionist.understanding.corpus import NEEDS, Split, need_sentences

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_callers_say_only_held_out_phrasings_with_the_issues_sentences_first() -> None:
    callers = intent_accuracy.callers(220)
    assert [c.need for c in callers[:4]] == [s for s, _ in intent_accuracy.ISSUE_SENTENCES]
    train = "\n".join(s for i in NEEDS for s in need_sentences(i, Split.TRAIN))
    assert all(c.need not in train for c in callers)
    assert len({c.need for c in callers}) == 220  # no sentence said twice
    assert {c.intent for c in callers} == set(NEEDS)


def test_a_short_run_reports_intents_questions_and_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "intent.json"
    assert intent_accuracy.main(["--calls", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    counts = result["counts"]
    assert result["calls"] == 2 and not result["keywords_only"]
    # every caller ends with its intent: taken, confirmed, or chosen on the keypad
    assert counts["intent right"] + counts.get("wrong intent stored", 0) + counts.get("no intent (other)", 0) == 2
    # a caller is either taken at its word or asked, never both
    assert counts.get("intent right without a question", 0) + counts.get("asked a clarifying question", 0) <= 2
    assert counts.get("name right within the dialogue", 0) <= 2
    assert "2 synthetic callers stating a need" in capsys.readouterr().out


def test_a_bad_count_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert intent_accuracy.main(["--calls", "0"]) == 2
    assert "--calls must be at least 1" in capsys.readouterr().err
