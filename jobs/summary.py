"""The offline call summary: extractive, from the transcript and the brain's own summary (pure).

Used when no OpenAI key is configured, and as the fallback when OpenAI answers with something
unusable. It never invents: the summary is the caller's name and reason as the brain captured
them, then the caller's most informative sentences in the order they were said, bounded in
length. The intent is the brain's reason when it captured one, else a keyword guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_SUMMARY", "CallSummary", "caller_lines", "guess_intent", "offline_summary", "slug"]

MAX_SUMMARY = 600
MAX_SENTENCES = 3
MAX_INTENT = 64
CALLER_SPEAKERS = frozenset({"caller", "user", "customer"})

# Words that carry no information about why someone called.
FILLER = frozenset(
    "a an and are at be bye can could do for goodbye hello hey hi i i'm is it it's just me my no of "
    "oh ok okay on please so thank thanks that the this to uh um upon was we well yeah yes you".split()
)
# Keyword → intent, checked in order (the first family with a hit wins).
INTENT_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cancellation", ("cancel", "cancellation", "unsubscribe")),
    ("billing", ("bill", "billing", "invoice", "charge", "charged", "refund", "payment")),
    ("appointment", ("appointment", "book", "booking", "schedule", "reschedule", "reservation")),
    ("support", ("broken", "problem", "issue", "error", "repair", "fix", "support", "not working")),
    ("pricing", ("price", "pricing", "quote", "cost", "how much", "estimate")),
    ("sales", ("buy", "purchase", "order", "sales", "interested")),
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True)
class CallSummary:
    """What post-call processing stores: the call's summary, and the lead's intent and name."""

    text: str
    intent: str
    name: str
    source: str  # "openai" or "offline"


def slug(value: str) -> str:
    """An intent as a short lowercase token: "Billing question" → "billing_question"."""
    words = re.findall(r"[a-z0-9]+", value.lower())
    return "_".join(words)[:MAX_INTENT].strip("_")


def caller_lines(transcript: Iterable[Any]) -> list[str]:
    """The caller's turns as text (``text``, else what the recognizer ``heard``)."""
    lines = []
    for turn in transcript:
        if not isinstance(turn, Mapping):
            continue
        speaker = turn.get("speaker", turn.get("role"))
        if speaker not in CALLER_SPEAKERS:
            continue
        text = turn.get("text") or turn.get("heard")
        if isinstance(text, str) and text.strip():
            lines.append(" ".join(text.split()))
    return lines


def _informative(sentence: str) -> int:
    return sum(1 for word in _WORD.findall(sentence.lower()) if word not in FILLER)


def guess_intent(text: str) -> str:
    lowered = f" {text.lower()} "
    for intent, words in INTENT_WORDS:
        if any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words):
            return intent
    return ""


def _captured(brain_summary: Mapping[str, Any]) -> dict[str, str]:
    lead = brain_summary.get("lead")
    if not isinstance(lead, Mapping):
        return {}
    return {k: " ".join(v.split()) for k, v in lead.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}


def offline_summary(transcript: Iterable[Any], brain_summary: Mapping[str, Any]) -> CallSummary:
    """Summarize a call without any outside service.

    The caller's sentences are ranked by how many non-filler words they hold; the best
    ``MAX_SENTENCES`` are kept in call order, and the whole is cut to ``MAX_SUMMARY`` chars.
    """
    captured = _captured(brain_summary)
    name, reason = captured.get("name", ""), captured.get("reason", "")
    sentences = [s for line in caller_lines(transcript) for s in _SENTENCE.split(line) if s.strip()]
    ranked = sorted(range(len(sentences)), key=lambda i: (-_informative(sentences[i]), i))
    chosen = sorted(i for i in ranked[:MAX_SENTENCES] if _informative(sentences[i]) >= 2)
    parts = []
    if name or reason:
        parts.append(f"{name or 'Caller'}" + (f" called about {reason}." if reason else " called."))
    if captured.get("callback_number"):
        parts.append(f"Call back on {captured['callback_number']}.")
    if captured.get("message"):
        parts.append(f"Message: {captured['message']}")
    parts.extend(f"Caller: \u201c{sentences[i]}\u201d" for i in chosen)
    if not parts:
        brain_line = brain_summary.get("summary")
        parts.append(brain_line if isinstance(brain_line, str) and brain_line.strip() else "No caller speech was recorded.")
    text = " ".join(parts)
    if len(text) > MAX_SUMMARY:
        text = text[: MAX_SUMMARY - 1].rstrip() + "\u2026"
    intent = slug(reason) if reason else guess_intent(" ".join(sentences))
    return CallSummary(text=text, intent=intent, name=name[:200], source="offline")
