"""DTMF menu parsing, digit entry and per-turn metrics."""

from __future__ import annotations

import pytest

from callengine.turns import DigitEntry, Menu, TurnMetrics
from contracts.call_setup import MenuOption


def test_menu_defaults_and_describes_itself() -> None:
    menu = Menu.from_options(())
    assert menu.intent_for("1") == "sales" and menu.intent_for("0") == "message"
    assert menu.intent_for("7") is None
    assert menu.describe() == "press 1 for sales, 2 for support, or 0 for message"


def test_menu_from_setup_is_announced_by_its_labels() -> None:
    menu = Menu.from_options(
        (MenuOption("3", "billing questions", "billing"), MenuOption("9", "appointment", "appointment"))
    )
    assert menu.options == {"3": "billing", "9": "appointment"}
    assert menu.describe() == "press 3 for billing questions, or 9 for appointment"


def test_digit_entry_ends_on_pound_and_star_restarts() -> None:
    entry = DigitEntry()
    for key in "555*2065550198":
        assert not entry.press(key)
    assert entry.press("#")
    assert entry.digits == "2065550198"
    with pytest.raises(ValueError):
        entry.press("x")


def test_metrics_split_endpointing_from_brain_time() -> None:
    metrics = TurnMetrics()
    metrics.caller_turn(speech_start_at=1.0, speech_end_at=2.0, turn_end_at=2.7)
    metrics.reply_queued(3.0)
    metrics.reply_queued(9.0)  # a prompt with no caller turn before it: not a response
    metrics.barge_in(onset_at=5.0, cleared_at=5.14, heard_ms=1200)
    metrics.agent_heard(1200)
    summary = metrics.summary()
    assert summary["turns"] == [{"endpoint_ms": 700, "brain_ms": 300, "response_ms": 1000}]
    assert summary["barge_ins"] == [{"latency_ms": 140, "agent_heard_ms": 1200}]
    assert summary["listen_ms"] == 1000 and summary["talk_ms"] == 1200
