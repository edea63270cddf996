"""What the receptionist expects to hear, as JSGF grammars, and how it reads the result (pure).

Full-vocabulary pocketsphinx on 8 kHz telephone audio gets most words wrong, so each question
gets a small grammar of the answers it expects: yes/no, keypad-style digits, a list of common
first names, and intent keywords with a few carrier phrases ("I need …", "… please"). The
recogniser returns a hypothesis inside the grammar (or nothing); the ``read_*`` functions turn
it into a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

__all__ = [
    "COMMON_NAMES",
    "INTENT_WORDS",
    "Expect",
    "digits_grammar",
    "intent_grammar",
    "name_grammar",
    "read_digits",
    "read_intent",
    "read_name",
    "read_yes_no",
    "yes_no_grammar",
]


class Expect(StrEnum):
    """Which grammar the next caller turn is decoded with."""

    INTENT = "intent"
    NAME = "name"
    YES_NO = "yes_no"
    DIGITS = "digits"
    FREE = "free"  # a message: full vocabulary, kept as said


YES = ("yes", "yeah", "yep", "correct", "right", "sure")
NO = ("no", "nope", "wrong", "incorrect")
DIGIT_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
# Keywords per intent; an intent from the business's menu that is missing here is matched by
# its own name. "message" is the leave-a-message path.
INTENT_WORDS: Mapping[str, tuple[str, ...]] = {
    # Few, distinct words: each extra keyword is one more way to mishear the others ("quote"
    # took "support" away; measured on the fixtures).
    "sales": ("sales", "buy", "pricing", "price"),
    "support": ("support", "help", "problem"),
    "appointment": ("appointment", "booking", "book", "schedule", "reservation"),
    "billing": ("billing", "bill", "invoice", "payment", "refund"),
    "message": ("message",),
}
# Common US first names (SSA top names), all in pocketsphinx's CMU dictionary.
COMMON_NAMES = (
    "james mary robert patricia john jennifer michael linda david elizabeth william barbara "
    "richard susan joseph jessica thomas sarah charles karen christopher lisa daniel nancy "
    "matthew betty anthony sandra mark margaret donald ashley steven kimberly paul emily andrew "
    "donna joshua michelle kenneth carol kevin amanda brian melissa george deborah timothy "
    "stephanie ronald rebecca jason laura edward helen jeffrey sharon ryan cynthia jacob kathleen "
    "gary amy nicholas angela eric anna jonathan ruth stephen brenda larry pamela justin nicole "
    "scott katherine brandon samantha benjamin christine samuel emma gregory rachel frank "
    "catherine alexander debra raymond carolyn patrick janet jack maria dennis heather jerry "
    "diane tyler julie aaron olivia henry grace peter sophia adam victoria nathan alice dana "
    "david noah liam ethan lucas mia chloe ella zoe leo max sam"
).split()


def _alternatives(words: Iterable[str]) -> str:
    return " | ".join(dict.fromkeys(words))  # keep order, drop duplicates


def yes_no_grammar() -> str:
    return (
        "#JSGF V1.0;\ngrammar yes_no;\n"
        f"public <s> = <yes> | <no> | <yes> that's right | <no> that's wrong;\n"
        f"<yes> = {_alternatives(YES)};\n<no> = {_alternatives(NO)};\n"
    )


def digits_grammar() -> str:
    return (
        "#JSGF V1.0;\ngrammar digits;\npublic <s> = <d>+;\n"
        f"<d> = {_alternatives(DIGIT_WORDS)};\n"
    )


def intent_words(intents: Iterable[str]) -> dict[str, str]:
    """Keyword → intent for the intents a business offers (its menu)."""
    words: dict[str, str] = {}
    for intent in intents:
        for word in INTENT_WORDS.get(intent, (intent,)):
            words.setdefault(word, intent)
    return words


def intent_grammar(intents: Iterable[str]) -> str:
    keywords = list(intent_words(intents))
    if "message" in keywords:
        keywords.append("leave a message")
    alt = _alternatives(keywords)
    return (
        "#JSGF V1.0;\ngrammar intent;\n"
        "public <s> = <i> | <i> please | i need <i> | i want <i> | i'd like <i>"
        " | i need to <i> | i want to <i> | i'd like to <i>;\n"
        f"<i> = {alt};\n"
    )


def name_grammar(names: Iterable[str]) -> str:
    alt = _alternatives(names)
    if not alt:
        raise ValueError("a name grammar needs at least one name")
    return (
        "#JSGF V1.0;\ngrammar name;\n"
        # No "it's": short carriers get hallucinated in front of names (measured).
        "public <s> = <n> | my name is <n> | this is <n> | i'm <n>;\n"
        f"<n> = {alt};\n"
    )


def read_yes_no(hyp: str | None) -> bool | None:
    words = (hyp or "").split()
    if any(w in NO for w in words):
        return False
    if any(w in YES for w in words):
        return True
    return None


def read_digits(hyp: str | None) -> str:
    return "".join(DIGIT_WORDS[w] for w in (hyp or "").split() if w in DIGIT_WORDS)


def read_intent(hyp: str | None, intents: Iterable[str]) -> str | None:
    words = intent_words(intents)
    for word in (hyp or "").split():
        if word in words:
            return words[word]
    return None


def read_name(hyp: str | None, names: Iterable[str]) -> str | None:
    known = set(names)
    for word in reversed((hyp or "").split()):  # "my name is sarah": the name comes last
        if word in known:
            return word.capitalize()
    return None
