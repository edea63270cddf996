"""What the receptionist expects to hear, as JSGF grammars, and how it reads the result (pure).

Full-vocabulary pocketsphinx on 8 kHz telephone audio gets most words wrong, so each question
gets a small grammar of the answers it expects: yes/no, keypad-style digits, a list of common
first names (alone or in the sentences callers put them in: "my name is …", "… here"), the
same names spelled letter by letter, and intent keywords with a few carrier phrases ("I need
…", "… please"). The
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
    "spelling_grammar",
    "read_digits",
    "read_intent",
    "read_name",
    "read_spelling",
    "read_yes_no",
    "yes_no_grammar",
]


class Expect(StrEnum):
    """Which grammar the next caller turn is decoded with."""

    INTENT = "intent"
    NAME = "name"
    YES_NO = "yes_no"
    DIGITS = "digits"
    SPELLING = "spelling"  # a first name spelled letter by letter
    FREE = "free"  # a message: full vocabulary, kept as said


# Not "sure": a "no" on a noisy line was heard as "sure" and a refused name was stored
# (python -m bench.name_accuracy).
YES = ("yes", "yeah", "yep", "correct", "right")
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
# What callers put around their name ("hi, my name is Sarah", "yes, it's Sarah", "Sarah here"),
# decoded as such instead of being forced into names. Measured on 124 espeak-ng callers each
# (first try, bare names / names in sentences): bare-name grammar 67 / 32; these carriers 52 /
# 49; with the bare name weighted 5:1 over the sentences 58 / 48 (2:1 and 20:1 the same); and
# with the fillers cut to the five below 58 / 50. "um", "oh", "well" in front of a name were
# mostly heard in front of bare names. "yes"/"yeah" only before a carrier ("yes, it's Sarah"):
# straight before a name they took its first sound ("jessica" → "yes jacob", recorded session
# c17; the same 63 / 50 on the benches with the second pass of ``Dialogue.second_pass_grammar``).
NAME_PREFIXES = ("hi", "hello", "yes", "yeah", "uh")
NAME_GREETINGS = ("hi", "hello", "uh")  # what may come straight before a name
NAME_CARRIERS = ("my name is", "my name's", "this is", "it's", "it is", "i'm", "i am")
NAME_SUFFIXES = ("here", "speaking")
BARE_NAME_WEIGHT = 5
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


def name_grammar(names: Iterable[str], *, sentence: bool = True) -> str:
    alt = _alternatives(names)
    if not alt:
        raise ValueError("a name grammar needs at least one name")
    if not sentence:
        return f"#JSGF V1.0;\ngrammar name;\npublic <s> = <n>;\n<n> = {alt};\n"
    return (
        "#JSGF V1.0;\ngrammar name;\n"
        f"public <s> = /{BARE_NAME_WEIGHT}/ <n> | /1/ [<pre>] <lead> <n> [<post>]"
        " | /1/ <greet> <n> [<post>] | /1/ <n> <post>;\n"
        f"<pre> = {_alternatives(NAME_PREFIXES)};\n"
        f"<greet> = {_alternatives(NAME_GREETINGS)};\n"
        f"<lead> = {_alternatives(NAME_CARRIERS)};\n"
        f"<post> = {_alternatives(NAME_SUFFIXES)};\n"
        f"<n> = {alt};\n"
    )


def spelling_grammar(names: Iterable[str]) -> str:
    """The names spelled letter by letter ("s a r a h"), one alternative each.

    Not any string of letters: a loop of 26 letters, most of them one or two short phones,
    fills the line noise and the pauses between letters with letters ("james" spelled came out
    as "p i a f j f a m f d n"); spelled names hold the decoder to whole names.
    """
    spelled = _alternatives(" ".join(name) for name in names if name.isalpha())
    if not spelled:
        raise ValueError("a spelling grammar needs at least one name")
    return f"#JSGF V1.0;\ngrammar spelling;\npublic <s> = {spelled};\n"


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
    """The name in a name turn ("uh, my name is sarah", "sarah here"), capitalised; None
    when the hypothesis holds none of ``names``."""
    known = set(names)
    for word in reversed((hyp or "").split()):  # "my name is sarah": the name comes last
        if word in known:
            return word.capitalize()
    return None


def read_spelling(hyp: str | None, names: Iterable[str]) -> str | None:
    """The name spelled in a spelling turn ("s a r a h" → "Sarah"); None unless the letters
    are exactly one of ``names``."""
    letters = "".join(w for w in (hyp or "").split() if len(w) == 1 and w.isalpha())
    return letters.capitalize() if letters and letters in set(names) else None
