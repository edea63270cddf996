"""The need question's language model: an ARPA trigram model of how callers state a need.

Built with pocketsphinx's own ARPA builder (``pocketsphinx.lm.ArpaBoLM``: fixed-discount
back-off, shipped in the same wheel as the recogniser, so nothing is downloaded) from the train
half of ``corpus`` plus sentences made of the business's own words, menu labels and names. The
model is a function of the business's vocabulary, so two calls of one business share it (the
recogniser caches it by content). Rebuild and inspect it with
``python -m callengine.brains.receptionist.understanding.lm [--intents a,b] > need.arpa``.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable

from pocketsphinx.lm import ArpaBoLM

from callengine.brains.receptionist.understanding.corpus import Split, business_sentences, need_sentences
from callengine.brains.receptionist.understanding.vocabulary import Vocabulary, vocabulary

__all__ = ["DISCOUNT_MASS", "corpus_for", "need_lm"]

DISCOUNT_MASS = 0.5  # probability mass left for unseen continuations (ArpaBoLM's default)
# Short answers and fillers callers say around a need, so the model need not force them onto
# a need's words ("yes", "sorry", "that's right", the keypad words).
EXTRA = (
    "yes", "no", "yeah", "sorry", "um", "uh", "okay", "hello", "hi", "thank you", "that's right",
    "something else", "other", "none of those", "one", "two", "three", "four", "zero",
)  # fmt: skip


def corpus_for(vocab: Vocabulary, names: Iterable[str] = ()) -> list[str]:
    """The model's sentences for one business: the train corpus of its intents, its cues (its
    own words, menu labels, the defaults) in the train frames and alone, and short answers."""
    sentences: list[str] = []
    for intent in vocab.intents:
        sentences += need_sentences(intent, Split.TRAIN)
    # Every cue in the frames too, the business's own and the defaults: a cue heard only in
    # its corpus phrases was lost in others (held-out need right 21 → 25 of 50 on the bench).
    by_intent: dict[str, list[str]] = {}
    for cue, intent in vocab.cues.items():
        by_intent.setdefault(intent, []).append(cue)
    sentences += business_sentences(by_intent)
    sentences += list(vocab.cues)
    sentences += [f"this is {n}" for n in names]
    sentences += list(EXTRA)
    return sentences


def need_lm(vocab: Vocabulary, names: Iterable[str] = (), known: Iterable[str] | None = None) -> str:
    """The ARPA text of the need question's model for one business.

    Args:
        vocab: The business's intents and cues.
        names: Names to fold in (the business's own, staff), spoken as "this is …".
        known: The words the recogniser can pronounce; sentences with any other word are left
            out (an ARPA word missing from the dictionary is an error for pocketsphinx).
    """
    sentences = corpus_for(vocab, names)
    if known is not None:
        allowed = set(known)
        sentences = [s for s in sentences if all(w in allowed for w in s.split())]
    model = ArpaBoLM(text="\n".join(sentences), add_start=True, discount_mass=DISCOUNT_MASS)
    model.compute()
    out = io.StringIO()
    model.write(out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callengine.brains.receptionist.understanding.lm",
        description="Print the need question's ARPA language model (for a business offering --intents).",
        epilog="Reads no environment variables; writes the model to stdout.",
    )
    parser.add_argument("--intents", default="appointment,billing,sales,support,message")
    args = parser.parse_args(argv)
    sys.stdout.write(need_lm(vocabulary(args.intents.split(","))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
