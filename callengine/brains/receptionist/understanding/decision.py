"""What the receptionist does with a need turn: take an intent, or ask (pure).

The need turn is decoded twice: with the keyword grammar (``grammars.intent_grammar``: forces
the turn onto "<keyword> please", right for callers who answer with a keyword) and with the
need language model (``lm.need_lm``: open sentences), whose words ``classify`` scores. The
two are combined:

- A short answer (the sentence model heard at most ``SHORT_ANSWER_WORDS`` words, or the caller
  spoke for at most ``SHORT_ANSWER_SECONDS``) is what the
  keyword grammar is for: its intent is taken, as before, unless its n-best held another
  intent within ``CLOSE_GAP`` (``rival``) and the sentence model does not confirm the
  keyword's: then the receptionist asks about the keyword grammar's intent. Asking on every
  disagreement of the two decodes instead cost two recorded sessions (a recorded caller
  cannot answer a question it was not recorded for: "support" heard by the sentence model as
  "cost"), and asking about the sentence model's intent would send the keyword callers it
  misheard to the keypad.
- In a longer sentence the keyword grammar only guesses (``bench.intent_accuracy``: 55 of
  200 held-out sentences right with it alone). The sentence model's intent is taken when it
  is confident, has ``SURE_EVIDENCE`` (a two-word cue, or two cues) and the keyword grammar
  names the same intent or none; otherwise the receptionist asks "Is that about …?" about the
  sentence model's intent. Measured on the need turns of those 200 callers: a lone one-word
  cue taken without asking stored 10 wrong intents for 45 right; with ``SURE_EVIDENCE`` 6 for
  25 (the rest asked).
"""

from __future__ import annotations

from dataclasses import dataclass

from callengine.brains.receptionist.understanding.classifier import CONFIDENT, Understanding

__all__ = ["CLOSE_GAP", "SHORT_ANSWER_SECONDS", "SHORT_ANSWER_WORDS", "SURE_EVIDENCE", "NeedDecision", "decide"]

SHORT_ANSWER_WORDS = 4  # "i need sales please": a keyword answer, not a sentence
# … or this little speech, whatever the sentence model made of it: on a short answer it may
# fill the turn with words ("i need a quote", 1.2 s, came out as "i leave a to oh").
SHORT_ANSWER_SECONDS = 1.5
KEYWORD_AGREED = 0.9  # confidence recorded for a short answer both decodes agree on
KEYWORD_ALONE = 0.6  # … and for one only the keyword grammar understood
SURE_EVIDENCE = 1.5  # cue weight a sentence needs to be taken without asking
# n-best score gap (``asr.Heard.alternatives``) within which the keyword grammar's second
# intent is a rival: measured on 64 bench callers, such a rival was found in 5 of 6 wrong
# keyword answers and in 4 of 58 right ones.
CLOSE_GAP = 0.025


@dataclass(frozen=True, slots=True)
class NeedDecision:
    """``intent`` to take now, or ``ask`` about (``intent`` is then the one asked about);
    ``intent`` None and ``ask`` False: nothing understood (re-ask)."""

    intent: str | None
    confidence: float
    ask: bool
    understanding: Understanding


def decide(
    keyword: str | None, sentence: Understanding, rival: str | None = None, seconds: float | None = None
) -> NeedDecision:
    """Combine the keyword grammar's intent with the sentence model's understanding.

    Args:
        keyword: The intent the keyword grammar's hypothesis names (None: none).
        sentence: ``classify`` of the sentence model's hypothesis of the same turn.
        rival: Another intent the keyword grammar found nearly as likely (its n-best within
            ``CLOSE_GAP``), or None.
        seconds: How long the caller spoke (None: unknown); a turn of at most
            ``SHORT_ANSWER_SECONDS`` is a short answer.
    """
    if keyword in sentence.ruled_out:  # "not billing": the grammar heard only the keyword
        keyword = None
    short = len(sentence.text.split()) <= SHORT_ANSWER_WORDS or (
        seconds is not None and seconds <= SHORT_ANSWER_SECONDS
    )
    if short and keyword is not None:
        agreed = sentence.intent == keyword
        if agreed:
            return NeedDecision(keyword, KEYWORD_AGREED, False, sentence)
        if rival is not None and rival != keyword:  # a close second, and no confirmation
            return NeedDecision(keyword, KEYWORD_ALONE / 2, True, sentence)
        return NeedDecision(keyword, KEYWORD_ALONE, False, sentence)
    if sentence.intent is None:
        if keyword is None:
            return NeedDecision(None, 0.0, False, sentence)
        return NeedDecision(keyword, KEYWORD_ALONE * sentence.confidence, True, sentence)
    sure = sentence.confidence >= CONFIDENT and sentence.evidence >= SURE_EVIDENCE
    if sure and keyword in (None, sentence.intent):
        return NeedDecision(sentence.intent, sentence.confidence, False, sentence)
    return NeedDecision(sentence.intent, sentence.confidence, True, sentence)
