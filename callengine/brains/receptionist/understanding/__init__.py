"""Understanding what a caller needs from an open sentence (pure: no I/O, no trio, no Redis).

- ``vocabulary``: the cues (words, phrases) of each intent, the business's own first.
- ``corpus``: how callers state each need, split into train and held-out phrasings.
- ``lm``: the need question's ARPA model, built from the train corpus and the vocabulary.
- ``classify``: a score per intent over the decoded words (negation, several needs);
  ``Understanding.complete`` says a sentence is already a complete, confident answer.
- ``decide``: take an intent, or ask a clarifying question.
"""

from __future__ import annotations

from callengine.brains.receptionist.understanding.classifier import CONFIDENT, Understanding, classify
from callengine.brains.receptionist.understanding.decision import NeedDecision, decide
from callengine.brains.receptionist.understanding.lm import need_lm
from callengine.brains.receptionist.understanding.vocabulary import Vocabulary, vocabulary

__all__ = [
    "CONFIDENT",
    "NeedDecision",
    "Understanding",
    "Vocabulary",
    "classify",
    "decide",
    "need_lm",
    "vocabulary",
]
