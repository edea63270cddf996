"""Regression: the menu the API writes into the call setup is the menu the receptionist uses.

``api/call_setup.py`` writes ``"menu": [{"digit", "label", "intent"}]``; the receptionist's
setup reader once accepted only ``{"1": "sales"}``, so every business got the default menu.
"""

from __future__ import annotations

from api.call_setup import build_setup
from callengine.brains.receptionist.setup import parse_setup

__all__: list[str] = []

BUSINESS = {
    "id": 42,
    "name": "Demo Dental",
    "greeting": "Hello, Demo Dental.",
    "brain": "receptionist",
    "brain_settings": {
        "menu": [
            {"digit": "1", "label": "new patients", "intent": "sales"},
            {"digit": "3", "label": "billing questions", "intent": "billing"},
        ]
    },
    "language": "en",
    "timezone": "UTC",
}


def test_menu_written_by_the_api_is_the_menu_the_receptionist_reads() -> None:
    setup = build_setup(
        call_sid="CA" + "0" * 32, business=BUSINESS, direction="inbound", caller="+15551230000",
        called="+15550100000", lead=None, created_at_ms=1,
    )
    parsed = parse_setup(setup.to_json())
    assert parsed.problems == ()
    assert parsed.menu.intent_for("3") == "billing"
    assert parsed.menu.intent_for("2") is None
