"""DTMF: a configurable keypad menu and digit-string entry (pure).

The menu maps keys to intents (``{"1": "sales", "2": "support", "0": "message"}``), from the
business's call setup. ``DigitEntry`` collects a number typed on the keypad: it ends on ``#``,
or once ``max_digits`` are in; ``*`` starts over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import final

__all__ = ["DEFAULT_MENU", "DTMF_KEYS", "DigitEntry", "Menu"]

DTMF_KEYS = frozenset("0123456789*#ABCD")
DEFAULT_MENU: Mapping[str, str] = {"1": "sales", "2": "support", "0": "message"}


@dataclass(frozen=True, slots=True)
class Menu:
    options: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MENU))

    @classmethod
    def parse(cls, raw: object) -> Menu:
        """Build a menu from setup JSON (``{"1": "sales", ...}``); bad entries raise.

        Raises:
            ValueError: If ``raw`` is not a mapping of single DTMF keys to non-empty names.
        """
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ValueError("menu must be an object of key -> intent")
        options: dict[str, str] = {}
        for key, value in raw.items():
            if not isinstance(key, str) or key not in DTMF_KEYS or key in "*#":
                raise ValueError(f"menu key {key!r} is not a keypad digit")
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"menu key {key!r} needs an intent name")
            options[key] = value.strip().lower()
        return cls(options or dict(DEFAULT_MENU))

    def intent_for(self, digit: str) -> str | None:
        return self.options.get(digit)

    def describe(self) -> str:
        """"press 1 for sales, 2 for support, or 0 for message"."""
        parts = [f"{key} for {intent}" for key, intent in self.options.items()]
        if len(parts) > 1:
            parts[-1] = "or " + parts[-1]
        if len(parts) > 2:
            parts[1:-1] = [p.removeprefix("or ") for p in parts[1:-1]]
        return "press " + ", ".join(parts)


@final
class DigitEntry:
    """Collects keypad digits until ``#`` or ``max_digits``."""

    def __init__(self, max_digits: int = 15) -> None:
        self.max_digits = max_digits
        self.digits = ""
        self.done = False

    def press(self, key: str) -> bool:
        """Add one key; returns True once the entry is complete.

        Raises:
            ValueError: If ``key`` is not a DTMF key.
        """
        if key not in DTMF_KEYS:
            raise ValueError(f"not a DTMF key: {key!r}")
        if self.done:
            return True
        if key == "#":
            self.done = bool(self.digits)
        elif key == "*":
            self.digits = ""
        elif key.isdigit():
            self.digits += key
            self.done = len(self.digits) >= self.max_digits
        return self.done
