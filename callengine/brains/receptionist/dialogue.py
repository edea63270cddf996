"""The receptionist's conversation as a pure state machine.

Inputs are what the caller did: ``heard(text)`` (a recognised turn, decoded with the grammar of
``expect``; ``None`` when nothing in the grammar matched; a need turn also comes with
``sentence``, its decode with the need language model), ``pressed(digit)`` and ``silence()``
(no answer within the silence timeout after the agent finished speaking). Outputs are
``Say``/``HangUp`` actions. The brain shell renders and plays them, runs recognition, and keeps
time.

Flow: greeting → need (speech intent or menu key; a sentence understood without confidence →
"Is that about …?" → yes, or no → the menu by keypad) → [message] → first name (alone or in a
sentence) → spell-back confirmation (refused, or never understood: "spell it, or press pound
to skip" → the spelled name spelled back; a refused name is never stored) → callback number
(caller ID confirmed by "yes"/1, or typed + #) → wrap-up → goodbye. Each question tolerates
``max_retries`` misunderstandings and ``max_silences`` silences in a row; then a fallback
(unknown intent, no name, caller ID unconfirmed) or, for silence, a polite goodbye.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, final

from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    Expect,
    digits_grammar,
    intent_grammar,
    name_grammar,
    read_digits,
    read_intent,
    read_name,
    read_spelling,
    read_yes_no,
    spelling_grammar,
    yes_no_grammar,
)
from callengine.brains.receptionist.understanding import Vocabulary, classify, decide, vocabulary
from callengine.brains.receptionist.understanding.decision import CLOSE_GAP

if TYPE_CHECKING:
    from collections.abc import Sequence

    from callengine.brains.receptionist.setup import ReceptionistSetup

__all__ = ["Dialogue", "HangUpAction", "Lead", "SayAction", "State", "after_greeting", "speak_number", "spell"]


# Refused spell-backs after which the caller is asked to spell the name instead of saying it
# again (measured with ``python -m bench.name_accuracy``).
NAME_SAYINGS = 1


class State(StrEnum):
    NEED = "need"
    CLARIFY = "clarify"  # "Is that about an appointment, or something else?"
    MENU = "menu"  # the caller said no: choose on the keypad
    MESSAGE = "message"
    NAME = "name"
    CONFIRM_NAME = "confirm_name"
    SPELL_NAME = "spell_name"
    CONFIRM_SPELLING = "confirm_spelling"
    NUMBER = "number"
    ENTER_NUMBER = "enter_number"
    CONFIRM_DIGITS = "confirm_digits"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class SayAction:
    text: str
    tone: bool = False  # a beep after the text (before a recorded message)


@dataclass(frozen=True, slots=True)
class HangUpAction:
    reason: str


Action = SayAction | HangUpAction


@dataclass
class Lead:
    name: str | None = None
    name_confirmed: bool = False
    reason: str | None = None
    intent_source: str | None = None  # "speech", "speech_confirmed" (after "Is that about …?") or "dtmf"
    understood: str | None = None  # the need sentence as the need model heard it
    intent_confidence: float | None = None  # how sure the agent was of ``reason`` (0-1)
    intent_asked: bool = False  # the agent asked "Is that about …?"
    needs: list[str] = field(default_factory=list)  # every need heard, strongest first
    callback_number: str | None = None
    number_source: str | None = None  # "caller_id", "dtmf" or "speech"
    message: str | None = None
    message_path: str | None = None
    rejected_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "name_confirmed": self.name_confirmed,
            "reason": self.reason,
            "intent_source": self.intent_source,
            "understood": self.understood,
            "intent_confidence": self.intent_confidence,
            "intent_asked": self.intent_asked,
            "needs": list(self.needs),
            "callback_number": self.callback_number,
            "number_source": self.number_source,
            "message": self.message,
            "message_path": self.message_path,
        }


def spell(name: str) -> str:
    """"Sarah" → "S, A, R, A, H" (the commas make the synthesiser say letters)."""
    return ", ".join(name.upper())


def speak_number(number: str) -> str:
    """"+15551234567" → "5 5 5, 1 2 3, 4 5 6 7" (North American grouping, else by threes)."""
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(g) for g in groups)


# A sentence and the punctuation (and spaces) that end it; a last sentence may lack the mark.
_SENTENCE = re.compile(r"[^.?!]+(?:[.?!]+|$)\s*")


def after_greeting(greeting: str, question: str) -> str:
    """What of the opening ``question`` (the ``ask_need`` prompt) to say after ``greeting``.

    A greeting that already ends with a question ("… How can I help you today?") is not
    followed by another one: the question's opening sentences that end with "?" are dropped and
    the rest (the menu: "Tell me, or press 1 for sales …") is kept. A greeting that does not
    ask ("Thanks for calling.") is followed by the whole question. The result may be empty
    (the prompt was only a question): then the greeting alone asks.
    """
    if not greeting.rstrip().endswith("?"):
        return question
    sentences = _SENTENCE.findall(question)
    while sentences and sentences[0].rstrip().endswith("?"):
        sentences.pop(0)
    return "".join(sentences).strip()


@final
class Dialogue:
    def __init__(
        self,
        setup: ReceptionistSetup,
        *,
        max_retries: int = 2,
        max_silences: int = 2,
        names: tuple[str, ...] = tuple(COMMON_NAMES),
    ) -> None:
        self.setup = setup
        self.max_retries = max_retries
        self.max_silences = max_silences
        self.names = names
        self.state = State.NEED
        self.lead = Lead()
        self._retries = 0
        self._silences = 0
        self._candidate: str | None = None  # name or digits awaiting confirmation
        self._last_question = ""
        self._digits = ""
        self._asked: str | None = None  # the intent asked about in CLARIFY
        self.ended = False
        self.vocabulary: Vocabulary = vocabulary(
            self.intents, extra=setup.intent_words, labels=self._labels()
        )

    # --- what the next turn is decoded with -------------------------------------------------

    @property
    def expect(self) -> Expect:
        return {
            State.NEED: Expect.INTENT,
            State.CLARIFY: Expect.YES_NO,
            State.MENU: Expect.INTENT,
            State.MESSAGE: Expect.FREE,
            State.NAME: Expect.NAME,
            State.CONFIRM_NAME: Expect.YES_NO,
            State.SPELL_NAME: Expect.SPELLING,
            State.CONFIRM_SPELLING: Expect.YES_NO,
            State.NUMBER: Expect.YES_NO,
            State.ENTER_NUMBER: Expect.DIGITS,
            State.CONFIRM_DIGITS: Expect.YES_NO,
        }.get(self.state, Expect.FREE)

    @property
    def candidate(self) -> str | None:
        """The name or number being spelled back for confirmation (None between questions)."""
        confirming = (State.CONFIRM_NAME, State.CONFIRM_SPELLING, State.CONFIRM_DIGITS)
        return self._candidate if self.state in confirming else None

    @property
    def name_sentence(self) -> bool:
        """The name turn may be a sentence ("my name is …"): the first time it is asked. Asked
        again, it is "just your first name", and a grammar of carriers would put "it is" in
        front of a bare name (measured)."""
        return not self.lead.rejected_names and self._retries == 0

    @property
    def name_choices(self) -> tuple[str, ...]:
        """Names still possible (a name the caller said "no" to is not offered again)."""
        rejected = set(self.lead.rejected_names)
        return tuple(n for n in self.names if n not in rejected) or self.names

    def grammar(self) -> str | None:
        """The grammar the next caller turn is decoded with (None: a message, kept as said in
        the full vocabulary). The brain and the accuracy benches both decode with it."""
        expect = self.expect
        if expect is Expect.INTENT:
            return intent_grammar(self.intents)
        if expect is Expect.NAME:
            return name_grammar(self.name_choices, sentence=self.name_sentence)
        if expect is Expect.SPELLING:
            return spelling_grammar(self.name_choices)
        if expect is Expect.YES_NO:
            return yes_no_grammar()
        if expect is Expect.DIGITS:
            return digits_grammar()
        return None

    def second_pass_grammar(self, hyp: str | None) -> str | None:
        """The grammar to decode a turn with again when the first pass understood nothing.

        A name turn decoded with the sentence grammar that holds no name (a partial "hello it":
        the decoder never reached the end of a sentence) is decoded again as a bare name: a bare
        "thomas" on a noisy line came out as "hello it" (recorded session c06).
        """
        if self.expect is Expect.NAME and self.name_sentence and read_name(hyp, self.name_choices) is None:
            return name_grammar(self.name_choices, sentence=False)
        return None

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.setup.menu.options.values()))

    def _labels(self) -> dict[str, str]:
        menu = self.setup.menu
        return {menu.options[k]: label for k, label in menu.labels.items() if k in menu.options}

    def label(self, intent: str) -> str:
        """How an intent is said in a question: its menu label, else its name."""
        return self._labels().get(intent, intent.replace("_", " "))

    # --- inputs -----------------------------------------------------------------------------

    def start(self) -> list[Action]:
        setup = self.setup
        question = setup.prompt("ask_need", menu=setup.menu.describe())
        self._last_question = question  # a re-ask (not understood, silence) says all of it
        rest = after_greeting(setup.greeting, question)
        return [SayAction(setup.greeting), *([SayAction(rest)] if rest else [])]

    def heard(
        self,
        text: str | None,
        sentence: str | None = None,
        alternatives: Sequence[tuple[str, float]] = (),
        seconds: float | None = None,
    ) -> list[Action]:
        """A caller turn, recognised with ``expect``'s grammar (None: nothing matched).

        ``sentence`` is a need turn's decode with the need language model (None: not made;
        ``text`` alone is understood then); ``alternatives`` the keyword grammar's other
        n-best hypotheses with their score gaps (``asr.Heard.alternatives``); ``seconds``
        how long the caller spoke (a need turn that short is a short answer).
        """
        if self.ended:
            return []
        self._silences = 0
        state = self.state
        if state in (State.NEED, State.MENU):
            return self._need(text, sentence, alternatives, seconds)
        if state is State.CLARIFY:
            answer = read_yes_no(text)
            if answer is None:
                return self._retry(fallback=self._ask_menu)
            if answer:
                assert self._asked is not None
                return self._got_intent(self._asked, "speech_confirmed")
            return self._ask_menu()
        if state is State.MESSAGE:
            self.lead.message = text or ""
            return [SayAction(self.setup.prompt("message_saved")), *self._ask_name()]
        if state is State.NAME:
            name = read_name(text, self.name_choices)
            if name is None:
                return self._retry(fallback=self._ask_spelling)
            return self._spell_back(name, State.CONFIRM_NAME)
        if state is State.SPELL_NAME:
            name = read_spelling(text, self.name_choices)
            if name is None:
                return self._retry(fallback=self._no_name)
            return self._spell_back(name, State.CONFIRM_SPELLING)
        if state in (State.CONFIRM_NAME, State.CONFIRM_SPELLING, State.NUMBER, State.CONFIRM_DIGITS):
            answer = read_yes_no(text)
            if answer is None:
                return self._retry(fallback=lambda: self._confirmed(False))
            return self._confirmed(answer)
        if state is State.ENTER_NUMBER:
            digits = read_digits(text)
            if len(digits) < 7:
                return self._retry(fallback=self._wrap_up)
            self._candidate = digits
            self._retries = 0
            self.state = State.CONFIRM_DIGITS
            return [self._ask(self.setup.prompt("confirm_digits", number=speak_number(digits)))]
        return []

    def pressed(self, digit: str) -> list[Action]:
        if self.ended:
            return []
        state = self.state
        self._silences = 0
        if state in (State.NEED, State.CLARIFY, State.MENU):
            intent = self.setup.menu.intent_for(digit)
            if intent is None:
                return self._retry(fallback=lambda: self._got_intent("other", "none"))
            return self._got_intent(intent, "dtmf")
        if state in (State.CONFIRM_NAME, State.CONFIRM_SPELLING, State.CONFIRM_DIGITS) and digit in "12":
            return self._confirmed(digit == "1")
        if state in (State.NAME, State.SPELL_NAME) and digit == "#":
            return self._no_name()  # the caller skips the name: the callback number still counts
        if state is State.NUMBER:
            if digit == "1":
                return self._confirmed(True)
            self.state = State.ENTER_NUMBER
            self._digits = ""
        if self.state is State.ENTER_NUMBER:
            if digit == "#":
                if len(self._digits) < 7:
                    self._digits = ""
                    return self._retry(fallback=self._wrap_up)
                self.lead.callback_number = self._digits
                self.lead.number_source = "dtmf"
                return self._wrap_up()
            if digit == "*":
                self._digits = ""
            elif digit.isdigit() and len(self._digits) < 15:
                self._digits += digit
        return []

    def silence(self) -> list[Action]:
        """No answer within the timeout after the last question."""
        if self.ended:
            return []
        if self.state is State.ENTER_NUMBER and len(self._digits) >= 7:
            self.lead.callback_number = self._digits  # typed, but no pound: take it
            self.lead.number_source = "dtmf"
            return self._wrap_up()
        if self.state is State.SPELL_NAME:
            return self._no_name()  # saying nothing to "spell it, or press pound" skips it
        self._silences += 1
        if self._silences > self.max_silences:
            self.ended = True
            self.state = State.DONE
            return [SayAction(self.setup.prompt("no_answer_goodbye")), HangUpAction("no answer")]
        return [SayAction(self.setup.prompt("silence")), SayAction(self._last_question)]

    # --- steps ------------------------------------------------------------------------------

    def _ask(self, text: str, *, tone: bool = False) -> SayAction:
        self._last_question = text
        return SayAction(text, tone=tone)

    def _retry(self, *, fallback: Any) -> list[Action]:
        self._retries += 1
        if self._retries > self.max_retries:
            self._retries = 0
            result: list[Action] = fallback()
            return result
        return [SayAction(self.setup.prompt("not_understood")), SayAction(self._last_question)]

    def rival(self, keyword: str | None, alternatives: Sequence[tuple[str, float]]) -> str | None:
        """An intent other than ``keyword`` the keyword grammar found nearly as likely."""
        for alternative, gap in alternatives:
            intent = read_intent(alternative, self.intents)
            if gap <= CLOSE_GAP and intent is not None and intent != keyword:
                return intent
        return None

    def need_complete(
        self, text: str | None, sentence: str | None, alternatives: Sequence[tuple[str, float]] = ()
    ) -> bool:
        """Is this need turn, heard so far, already a complete answer the agent would take
        without asking? (the brain then ends the turn at the short pause). Only when both
        decodes agree on the intent, the sentence model is confident and the sentence does not
        stop on a word that leads on ("… and", "… about the"): "I need" followed by a pause,
        which the keyword grammar forces onto a keyword, waits for the full pause."""
        if self.expect is not Expect.INTENT or sentence is None:
            return False
        understanding = classify(sentence, self.vocabulary)
        keyword = read_intent(text, self.intents)
        # Not by the turn's length (``seconds``): at a pause the turn so far is short by nature,
        # and a first clause ("i'd like to get a quote" … "for the premium plan") is no answer yet.
        decision = decide(keyword, understanding, self.rival(keyword, alternatives))
        return (
            decision.intent is not None
            and not decision.ask
            and understanding.complete
            and understanding.intent == decision.intent
        )

    def _need(
        self,
        text: str | None,
        sentence: str | None,
        alternatives: Sequence[tuple[str, float]],
        seconds: float | None,
    ) -> list[Action]:
        understanding = classify(sentence if sentence is not None else text, self.vocabulary)
        keyword = read_intent(text, self.intents)
        decision = decide(keyword, understanding, self.rival(keyword, alternatives), seconds)
        lead = self.lead
        lead.understood = understanding.text or None
        lead.needs = list(understanding.needs)
        lead.intent_confidence = decision.confidence
        fallback = lambda: self._got_intent("other", "none")  # noqa: E731
        if decision.intent is None:
            return self._retry(fallback=fallback)
        if not decision.ask:
            return self._got_intent(decision.intent, "speech")
        if self.state is State.MENU:  # asked once already: the keypad is the way now
            return self._retry(fallback=fallback)
        self.state = State.CLARIFY
        self._asked = decision.intent
        self._retries = 0
        lead.intent_asked = True
        return [self._ask(self.setup.prompt("clarify", intent=self.label(decision.intent)))]

    def _ask_menu(self) -> list[Action]:
        self.state = State.MENU
        self._retries = 0
        return [self._ask(self.setup.prompt("ask_menu", menu=self.setup.menu.describe()))]

    def _got_intent(self, intent: str, source: str) -> list[Action]:
        self.lead.reason = intent
        self.lead.intent_source = source
        if source in ("dtmf", "none"):
            self.lead.intent_confidence = 1.0 if source == "dtmf" else None
        self._retries = 0
        if intent == "message":
            self.state = State.MESSAGE
            return [self._ask(self.setup.prompt("ask_message"), tone=True)]
        return self._ask_name()

    def _ask_name(self) -> list[Action]:
        self.state = State.NAME
        self._retries = 0
        return [self._ask(self.setup.prompt("ask_name"))]

    def _spell_back(self, name: str, state: State) -> list[Action]:
        self._candidate = name
        self._retries = 0
        self.state = state
        return [self._ask(self.setup.prompt("confirm_name", name=name, spelling=spell(name)))]

    def _ask_spelling(self, *, again: bool = False) -> list[Action]:
        self.state = State.SPELL_NAME
        self._retries = 0
        return [self._ask(self.setup.prompt("ask_spelling_again" if again else "ask_spelling"))]

    def _no_name(self) -> list[Action]:
        """Go on without a name (skipped, or never confirmed): never a name the caller refused."""
        self._candidate = None
        return self._ask_number()

    def _ask_number(self) -> list[Action]:
        self._retries = 0
        caller = self.setup.caller
        if sum(c.isdigit() for c in caller) >= 7:
            self.state = State.NUMBER
            return [self._ask(self.setup.prompt("confirm_number", number=speak_number(caller)))]
        self.state = State.ENTER_NUMBER
        self._digits = ""
        return [self._ask(self.setup.prompt("ask_number"))]

    def _confirmed(self, yes: bool) -> list[Action]:
        state = self.state
        self._retries = 0
        if state in (State.CONFIRM_NAME, State.CONFIRM_SPELLING):
            assert self._candidate is not None
            if yes:
                self.lead.name = self._candidate
                self.lead.name_confirmed = True
                self._candidate = None
                return self._ask_number()
            self.lead.rejected_names.append(self._candidate.lower())
            if len(self.lead.rejected_names) > self.max_retries:
                return self._no_name()  # no name rather than a wrong one
            if len(self.lead.rejected_names) < NAME_SAYINGS:
                self.state = State.NAME
                return [self._ask(self.setup.prompt("ask_name_again"))]
            return self._ask_spelling(again=state is State.CONFIRM_SPELLING)
        if state is State.NUMBER:
            if yes:
                self.lead.callback_number = self.setup.caller
                self.lead.number_source = "caller_id"
                return self._wrap_up()
            self.state = State.ENTER_NUMBER
            self._digits = ""
            return [self._ask(self.setup.prompt("ask_number"))]
        if state is State.CONFIRM_DIGITS:
            assert self._candidate is not None
            if yes:
                self.lead.callback_number = self._candidate
                self.lead.number_source = "speech"
                return self._wrap_up()
            self.state = State.ENTER_NUMBER
            self._digits = ""
            return [self._ask(self.setup.prompt("ask_number"))]
        return []

    def _wrap_up(self) -> list[Action]:
        self.state = State.DONE
        self.ended = True
        lead = self.lead
        if lead.callback_number is None and self.setup.caller:
            lead.callback_number = self.setup.caller  # unconfirmed, but better than nothing
            lead.number_source = "caller_id_unconfirmed"
        text = self.setup.prompt(
            "wrap_up",
            name=lead.name or "",
            reason=_reason_phrase(lead.reason),
            number=speak_number(lead.callback_number or "") or "the number you called from",
        )
        text = " ".join(text.split()).replace(" .", ".").replace(" ,", ",")
        return [SayAction(text), SayAction(self.setup.prompt("goodbye")), HangUpAction("completed")]


def _reason_phrase(reason: str | None) -> str:
    if reason in (None, "other"):
        return "your call"
    if reason == "message":
        return "your message"
    return reason
