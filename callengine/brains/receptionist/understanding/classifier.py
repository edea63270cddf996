"""What a caller's sentence asks for: a score per intent over the decoded words (pure).

Each cue of the business's vocabulary found in the sentence (longest first, without overlap)
adds its weight to its intent; a cue under a negation ("not about billing", "I don't want to
buy") adds nothing and marks the intent as ruled out. The intent with the most evidence wins;
``confidence`` is its share of the evidence, scaled down when there is little of it (one weak
cue such as "help" is not enough to be sure). Several needs in one sentence are all kept in
``needs``, strongest first (ties: the one said first).

``Understanding.complete`` is the predicate the turn detector may use to end a caller's turn
early: the sentence already names one intent with confidence and does not stop on a word that
promises more ("… and", "… about the").
"""

from __future__ import annotations

from dataclasses import dataclass

from callengine.brains.receptionist.understanding.vocabulary import WEAK_CUES, Vocabulary, normalise

__all__ = ["CONFIDENT", "Understanding", "classify"]

CONFIDENT = 0.75  # below this the receptionist asks ("Is that about …?") instead of storing
EVIDENCE_FOR_CERTAINTY = 1.0  # total cue weight at which a lone intent is fully trusted
WEAK_WEIGHT = 0.5
NEGATORS = frozenset({"not", "no", "isn't", "don't", "doesn't", "never", "without", "nothing"})
NEGATION_REACH = 4  # words after a negator that it covers ("not about my last bill")
# Words that end a negation's reach: what follows is said positively ("not billing, but sales").
CLAUSE_BREAKS = frozenset({"but", "it's", "its", "i", "i'm", "and", "rather", "instead", "just"})
# A sentence that stops on one of these is not finished ("I'd like to book an appointment and").
DANGLING = frozenset({
    "and", "or", "but", "about", "to", "the", "a", "an", "my", "for", "with", "of", "also",
    "because", "so", "like", "want", "need", "is", "was", "some", "your", "our", "uh", "um",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Understanding:
    """One sentence, understood.

    ``intent`` is None when no cue was found (or every one was negated). ``runner_up`` is the
    next intent with evidence, ``needs`` every intent with evidence (strongest first),
    ``ruled_out`` the intents the caller negated.
    """

    text: str
    intent: str | None
    confidence: float
    runner_up: str | None = None
    needs: tuple[str, ...] = ()
    ruled_out: tuple[str, ...] = ()
    complete: bool = False
    evidence: float = 0.0  # the winning intent's cue weight (a two-word cue or two cues: 2)


def _matches(words: list[str], vocab: Vocabulary) -> list[tuple[int, str, str]]:
    """(position, cue, intent) for each cue found, longest first at each position."""
    longest = max((len(c.split()) for c in vocab.cues), default=0)
    found: list[tuple[int, str, str]] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            cue = " ".join(words[i : i + n])
            if cue in vocab.cues:
                found.append((i, cue, vocab.cues[cue]))
                i += n
                break
        else:
            i += 1
    return found


def _negated(words: list[str], at: int) -> bool:
    for k in range(at - 1, max(-1, at - 1 - NEGATION_REACH), -1):
        word = words[k]
        if word in NEGATORS or word.endswith("n't"):
            return True
        if word in CLAUSE_BREAKS:
            return False
    return False


def classify(text: str | None, vocab: Vocabulary) -> Understanding:
    """Score each of the business's intents on one decoded sentence.

    Args:
        text: The recogniser's words (any case; None or empty: nothing heard).
        vocab: The business's intents and their cues (``vocabulary(...)``).
    """
    clean = normalise(text or "")
    words = clean.split()
    scores: dict[str, float] = {}
    first_at: dict[str, int] = {}
    ruled_out: dict[str, None] = {}
    for at, cue, intent in _matches(words, vocab):
        if _negated(words, at):
            ruled_out[intent] = None
            continue
        weight = WEAK_WEIGHT if cue in WEAK_CUES else float(len(cue.split()))
        scores[intent] = scores.get(intent, 0.0) + weight
        first_at.setdefault(intent, at)
    for intent in ruled_out:
        scores.pop(intent, None)
    ranked = sorted(scores, key=lambda i: (-scores[i], first_at[i]))
    if not ranked:
        return Understanding(clean, None, 0.0, ruled_out=tuple(ruled_out))
    top = scores[ranked[0]]
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = top / (top + second) * min(1.0, top / EVIDENCE_FOR_CERTAINTY)
    confidence = round(confidence, 3)
    return Understanding(
        text=clean,
        intent=ranked[0],
        confidence=confidence,
        runner_up=ranked[1] if len(ranked) > 1 else None,
        needs=tuple(ranked),
        ruled_out=tuple(ruled_out),
        complete=confidence >= CONFIDENT and words[-1] not in DANGLING,
        evidence=top,
    )
