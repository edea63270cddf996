"""How callers state each need, as sentences: the language model's corpus and the bench's.

Sentences are made from frames ("I'd like to {vp}", "I'm calling about {np}", "{s}") and, per
intent, the needs that fill them: verb phrases ("book an appointment"), noun phrases ("the
invoice you sent me") and clauses ("I was charged twice"). Every list is split in two by
position (even → ``TRAIN``, odd → ``HELD_OUT``; greetings and closings, the same around
every need, are shared): the language model is built from the train half only, and the natural-sentence bench speaks sentences made of held-out frames and needs,
so no bench sentence is in the corpus word for word (``tests`` check it). Pure and
deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from enum import StrEnum

from callengine.brains.receptionist.understanding.vocabulary import normalise

__all__ = ["NEEDS", "Split", "business_sentences", "need_sentences"]


class Split(StrEnum):
    TRAIN = "train"
    HELD_OUT = "held_out"


OPENERS = (
    "", "hello", "hi", "good morning", "yes hello", "hi there", "hello there", "good afternoon",
    "um", "hey", "hello yes", "oh hi",
)  # fmt: skip
CLOSERS = ("", "please", "thank you", "thanks", "if that's possible", "if you can")
VP_FRAMES = (
    "i would like to {vp}", "i want to {vp}", "i'd like to {vp}", "i need to {vp}",
    "can i {vp}", "could i {vp}", "i'm calling to {vp}", "i was hoping to {vp}",
    "i'm trying to {vp}", "is it possible to {vp}", "i wanted to {vp}", "i am calling to {vp}",
    "can you help me {vp}", "i'd love to {vp}",
)  # fmt: skip
NP_FRAMES = (
    "i have {np}", "it's about {np}", "i'm calling about {np}", "i need {np}",
    "i've got {np}", "this is about {np}", "i have a question about {np}", "calling about {np}",
    "i'm ringing about {np}", "{np}", "i want to ask about {np}", "i'm phoning about {np}",
)  # fmt: skip
S_FRAMES = (
    "{s}", "i think {s}", "it looks like {s}", "so {s}", "well {s}", "i'm afraid {s}",
    "basically {s}", "it seems {s}",
)  # fmt: skip

# Per intent: verb phrases, noun phrases, clauses.
NEEDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "appointment": (
        (
            "book an appointment", "book an appointment for tomorrow morning", "make an appointment",
            "schedule an appointment", "reschedule my appointment", "book a visit",
            "make a booking", "cancel my appointment", "come in next week",
            "book an appointment for friday", "change my appointment", "see the doctor",
            "book a slot for monday afternoon", "schedule a consultation",
            "move my appointment to thursday", "set up an appointment",
        ),
        (
            "an appointment", "my appointment", "a booking", "an appointment next week",
            "my booking on tuesday", "a reservation", "an appointment for my son",
            "the appointment i have tomorrow", "a consultation", "availability this week",
        ),
        (
            "i need to see someone this week", "i want to come in tomorrow",
            "i missed my appointment", "i can't make my appointment tomorrow",
            "i'd like a booking for saturday", "my appointment needs to be moved",
        ),
    ),
    "billing": (
        (
            "get a refund", "ask about my bill", "pay my bill", "dispute a charge",
            "ask about the invoice you sent me", "get my money back", "update my payment details",
            "query an invoice", "make a payment", "talk about my invoice",
            "ask for a refund", "check my account balance", "get a copy of my invoice",
            "change my credit card", "cancel a payment", "understand my bill",
        ),
        (
            "my bill", "the invoice you sent me last week", "a billing question",
            "my invoice", "a refund", "a charge on my card", "my last payment", "the invoice",
            "a payment problem", "my statement",
        ),
        (
            "i think i was overcharged", "i was charged twice", "i was charged twice and i'd like a refund",
            "i paid twice this month", "my invoice is wrong",
            "you charged my card by mistake", "i haven't received my refund",
            "the bill is too high",
        ),
    ),
    "sales": (
        (
            "buy your product", "get a price for your premium plan", "get a quote",
            "know how much it costs", "upgrade my plan", "ask about pricing",
            "sign up for the premium plan", "place an order", "purchase a subscription",
            "find out about your prices", "talk to sales", "buy the premium plan",
            "get some pricing information", "order a new one", "hear about your offers",
            "compare your plans",
        ),
        (
            "your prices", "a quote", "the premium plan", "pricing", "your plans",
            "a price for the premium plan", "buying a subscription", "an upgrade",
            "a discount", "a new order",
        ),
        (
            "i'm interested in buying", "i want to buy the premium plan",
            "i'm thinking of upgrading", "we want to purchase ten licenses",
            "i'd like a price for the premium plan", "i'm looking for a quote",
        ),
    ),
    "support": (
        (
            "get some help with my account", "report a problem", "fix an error",
            "get technical support", "reset my password", "talk to support",
            "get help with the app", "report an issue", "sort out a problem with my login",
            "get some technical help", "fix my account", "report a bug",
            "get help logging in", "solve a problem", "get support for my device",
            "troubleshoot the app",
        ),
        (
            "a problem", "a technical problem", "a problem with my account", "an error message",
            "an issue with the app", "some trouble logging in", "a technical question",
            "my password", "a problem with the website", "trouble with my device",
        ),
        (
            "my account is not working", "the app keeps crashing", "i can't log in",
            "the website is broken", "something stopped working", "i forgot my password",
            "it doesn't work anymore", "i get an error when i log in",
        ),
    ),
    "message": (
        (
            "leave a message", "leave a message for the manager", "leave a voicemail",
            "pass on a message", "leave a message for john", "have someone call me back",
            "leave a quick message", "record a message",
        ),
        (
            "a message for the owner", "a message", "a voicemail", "a message for sarah",
            "a quick message",
        ),
        (
            "i just want to leave a message", "can someone call me back",
            "i'd like someone to call me back", "please tell them i called",
        ),
    ),
}


def _half(items: tuple[str, ...], split: Split) -> tuple[str, ...]:
    start = 0 if split is Split.TRAIN else 1
    return items[start::2]


def need_sentences(intent: str, split: Split) -> list[str]:
    """Every sentence of one split for one of the product's intents (none for others)."""
    if intent not in NEEDS:
        return []
    vps, nps, clauses = (_half(part, split) for part in NEEDS[intent])
    bodies = [f.format(vp=vp) for f in _half(VP_FRAMES, split) for vp in vps]
    bodies += [f.format(np=np) for f in _half(NP_FRAMES, split) for np in nps]
    bodies += [f.format(s=s) for f in _half(S_FRAMES, split) for s in clauses]
    # Greetings and closings are the same around every need, so both halves use them all
    # (the split holds out how a need is put, not "hello" and "please").
    offset = 0 if split is Split.TRAIN else 5
    sentences = []
    for n, body in enumerate(bodies):  # one opener and closer per body, rotated
        k = n + offset
        words = (OPENERS[k % len(OPENERS)], body, CLOSERS[(k // len(OPENERS)) % len(CLOSERS)])
        sentences.append(normalise(" ".join(w for w in words if w)))
    return sentences


def business_sentences(cues: Mapping[str, Iterable[str]]) -> list[str]:
    """Sentences that put each intent's cues in the train frames ("I'd like to book a
    cleaning", "I'm calling about a check-up", "cleaning please")."""
    rng = random.Random(15)  # deterministic: the same settings give the same model
    vps = _half(VP_FRAMES, Split.TRAIN)
    nps = _half(NP_FRAMES, Split.TRAIN)
    sentences = []
    for words in cues.values():
        for cue in words:
            cue = normalise(cue)
            if not cue:
                continue
            sentences += [cue, f"{cue} please", f"i'd like to book a {cue}"]
            sentences += [f.format(np=f"a {cue}") for f in rng.sample(nps, 3)]
            sentences += [f.format(np=cue) for f in rng.sample(nps, 2)]
            sentences += [f.format(vp=f"ask about {cue}") for f in rng.sample(vps, 2)]
    return [normalise(s) for s in sentences]
