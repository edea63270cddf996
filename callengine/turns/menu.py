"""DTMF: a configurable keypad menu and digit-string entry (pure).

The menu maps keys to intents (``{"1": "sales", "2": "support", "0": "message"}``) and says
each key by its label; it comes from the business's call setup (``contracts.call_setup``, whose
reader checks the keys). ``DigitEntry`` collects a number typed on the keypad: it ends on
``#``, or once ``max_digits`` are in; ``*`` starts over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from contracts.call_setup import MenuOption

__all__ = ["DEFAULT_MENU", "DTMF_KEYS", "DigitEntry", "Menu"]

DTMF_KEYS = frozenset("0123456789*#ABCD")
DEFAULT_MENU: Mapping[str, str] = {"1": "sales", "2": "support", "0": "message"}


@dataclass(frozen=True, slots=True)
class Menu:
    """Keypad key → intent, with the label each key is announced by (the intent by default)."""

    options: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MENU))
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Sequence[MenuOption]) -> Menu:
        """The business's menu from its call setup (already checked by the contract's reader);
        no options gives the default menu."""
        if not options:
            return cls()
        return cls(
            {o.digit: o.intent for o in options},
            {o.digit: o.label for o in options if o.label and o.label != o.intent},
        )

    def intent_for(self, digit: str) -> str | None:
        return self.options.get(digit)

    def describe(self) -> str:
        """"press 1 for sales, 2 for support, or 0 for message" (labels where given)."""
        parts = [f"{key} for {self.labels.get(key, intent)}" for key, intent in self.options.items()]
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
