"""Which words and phrases point at each intent (pure).

The defaults cover the intents the product names (``appointment``, ``billing``, ``sales``,
``support``, ``message``); a business adds its own words per intent in its settings
(``brain_settings.intent_words``: ``{"appointment": ["cleaning", "check-up"]}``), and an intent
of its menu that has no default words is known by its own name and its menu label. A cue is
one word or a phrase; a longer cue is stronger evidence (``weight`` = its word count, except the
weak ones: "help" or "question" alone say little about *which* need).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_CUES", "WEAK_CUES", "Vocabulary", "normalise", "vocabulary"]

DEFAULT_CUES: Mapping[str, tuple[str, ...]] = {
    "appointment": (
        "appointment", "appointments", "book", "booking", "schedule", "reschedule",
        "reservation", "reserve", "visit", "slot", "consultation", "come in", "see the doctor",
        "available", "availability", "cancel my appointment", "move my appointment",
    ),
    "billing": (
        "billing", "bill", "bills", "invoice", "invoices", "payment", "payments", "refund",
        "charged", "charge", "charges", "overcharged", "paid", "pay", "receipt", "statement",
        "money back", "credit card", "account balance", "direct debit",
    ),
    "sales": (
        "sales", "buy", "buying", "purchase", "price", "prices", "pricing", "quote", "cost",
        "how much", "plan", "plans", "premium", "upgrade", "subscription", "subscribe",
        "sign up", "order", "offer", "discount",
    ),
    "support": (
        "support", "help", "problem", "problems", "broken", "not working", "stopped working",
        "doesn't work", "issue", "error", "trouble", "fix", "crashes", "crashed", "log in",
        "password", "technical",
    ),
    "message": (
        "message", "leave a message", "voicemail", "call me back", "pass on",
    ),
}  # fmt: skip
# Cues that appear in many needs' sentences ("can you help me book…"): half a word's weight.
WEAK_CUES = frozenset({"help", "pay", "order", "plan", "available", "issue", "visit"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    """Lower case, words only ("Check-up!" → "check up")."""
    return " ".join(_WORD.findall(text.lower().replace("-", " ")))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Cue (normalised words) → intent, for the intents one business offers."""

    intents: tuple[str, ...]
    cues: Mapping[str, str]  # cue → intent; a cue belongs to one intent (the first that names it)

    def cues_of(self, intent: str) -> list[str]:
        return [cue for cue, owner in self.cues.items() if owner == intent]


def vocabulary(
    intents: Iterable[str],
    *,
    extra: Mapping[str, Iterable[str]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Vocabulary:
    """The cues of ``intents``: the business's own words first, then its menu labels and the
    intents' names, then the defaults.

    Args:
        intents: The intents the business offers (its menu's), in menu order.
        extra: Per intent, the business's own words or phrases (its settings).
        labels: Per intent, the menu label it is announced by ("new patients").
    """
    wanted = tuple(dict.fromkeys(i.strip().lower() for i in intents if i.strip()))
    cues: dict[str, str] = {}

    def add(cue: str, intent: str) -> None:
        words = normalise(cue)
        if words:
            cues.setdefault(words, intent)

    for intent in wanted:
        for cue in (extra or {}).get(intent, ()):
            add(cue, intent)
    for intent in wanted:
        add(intent.replace("_", " "), intent)
        label = (labels or {}).get(intent)
        if label:
            add(label, intent)
    for intent in wanted:
        for cue in DEFAULT_CUES.get(intent, ()):
            add(cue, intent)
    return Vocabulary(wanted, cues)
