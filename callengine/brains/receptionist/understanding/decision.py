"""What the receptionist does with a need turn: take an intent, or ask (pure).

The need turn is decoded twice: with the keyword grammar (``grammars.intent_grammar``: forces
the turn onto "<keyword> please", right for callers who answer with a keyword) and with the
need language model (``lm.need_lm``: open sentences), whose words ``classify`` scores. The
two are combined:

- A short answer (the sentence model heard at most ``SHORT_ANSWER_WORDS`` words) is what the
  keyword grammar is for: its intent is taken, as before (keyword callers and the recorded
  sessions keep their results).
- In a longer sentence the keyword grammar only guesses (measured on the natural-sentence
  bench: right for 10 of 50 held-out sentences). Its intent is taken when the sentence model
  agrees with confidence, or the sentence model's alone when the grammar found none and the
  sentence model is confident. Otherwise the receptionist asks "Is that about …?" about the
  sentence model's intent (right in 11 of the 16 disagreements, the grammar's in 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from callengine.brains.receptionist.understanding.classifier import CONFIDENT, Understanding

__all__ = ["SHORT_ANSWER_WORDS", "NeedDecision", "decide"]

SHORT_ANSWER_WORDS = 4  # "i need sales please": a keyword answer, not a sentence
KEYWORD_AGREED = 0.9  # confidence recorded for a short answer both decodes agree on
KEYWORD_ALONE = 0.6  # … and for one only the keyword grammar understood


@dataclass(frozen=True, slots=True)
class NeedDecision:
    """``intent`` to take now, or ``ask`` about (``intent`` is then the one asked about);
    ``intent`` None and ``ask`` False: nothing understood (re-ask)."""

    intent: str | None
    confidence: float
    ask: bool
    understanding: Understanding


def decide(keyword: str | None, sentence: Understanding) -> NeedDecision:
    """Combine the keyword grammar's intent with the sentence model's understanding.

    Args:
        keyword: The intent the keyword grammar's hypothesis names (None: none).
        sentence: ``classify`` of the sentence model's hypothesis of the same turn.
    """
    if keyword in sentence.ruled_out:  # "not billing": the grammar heard only the keyword
        keyword = None
    short = len(sentence.text.split()) <= SHORT_ANSWER_WORDS
    if short and keyword is not None:
        agreed = sentence.intent == keyword
        return NeedDecision(keyword, KEYWORD_AGREED if agreed else KEYWORD_ALONE, False, sentence)
    if sentence.intent is None:
        if keyword is None:
            return NeedDecision(None, 0.0, False, sentence)
        return NeedDecision(keyword, KEYWORD_ALONE * sentence.confidence, True, sentence)
    sure = sentence.confidence >= CONFIDENT
    if sure and keyword in (None, sentence.intent):
        return NeedDecision(sentence.intent, sentence.confidence, False, sentence)
    return NeedDecision(sentence.intent, sentence.confidence, True, sentence)
