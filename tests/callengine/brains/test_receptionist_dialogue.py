"""The receptionist's pure parts: setup parsing, grammars' readers, the dialogue machine."""

from __future__ import annotations

import orjson
import pytest

from callengine.brains.receptionist.dialogue import (
    Dialogue,
    HangUpAction,
    SayAction,
    State,
    speak_number,
    spell,
)
from callengine.brains.receptionist.grammars import (
    intent_grammar,
    name_grammar,
    read_digits,
    read_intent,
    read_name,
    read_yes_no,
)
from callengine.brains.receptionist.setup import DEFAULT_PROMPTS, parse_setup

CALLER = "+15551230000"


def expect_of(d: Dialogue) -> str:  # a call, so mypy does not narrow across steps
    return d.expect.value


def state_of(d: Dialogue) -> str:
    return d.state.value


def texts(actions: list[SayAction | HangUpAction]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, SayAction))


def test_no_setup_gives_defaults() -> None:
    setup = parse_setup(None, caller=CALLER)
    assert setup.greeting == DEFAULT_PROMPTS["greeting"]
    assert setup.menu.intent_for("2") == "support"
    assert setup.caller == CALLER and setup.problems == ()


def test_setup_fields_are_used_and_bad_ones_reported() -> None:
    raw = (
        b'{"business_id": "b1", "greeting": "Welcome to Acme Plumbing.", "language": "he",'
        b' "menu": [{"digit": "1", "label": "appointments", "intent": "appointment"}, {"digit": "*", "intent": "bad key"}], "prompts": {"ask_name": "Name?",'
        b' "goodbye": "Bye {nope}", "shout": "x"}, "brain": "receptionist"}'
    )
    setup = parse_setup(raw, caller=CALLER)
    assert setup.business_id == "b1"
    assert setup.greeting == "Welcome to Acme Plumbing."
    assert setup.prompt("ask_name") == "Name?"
    assert setup.prompt("goodbye") == DEFAULT_PROMPTS["goodbye"]  # bad placeholder refused
    assert setup.menu.options == {"1": "appointment"}
    assert setup.menu.describe() == "press 1 for appointments"
    problems = " ".join(setup.problems)
    assert "English only" in problems and "not a keypad digit" in problems and "prompts.goodbye" in problems and "prompts.shout" in problems


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"menu": "x"}'])
def test_broken_setup_falls_back_to_defaults(raw: bytes) -> None:
    setup = parse_setup(raw)
    assert setup.greeting == DEFAULT_PROMPTS["greeting"]
    assert setup.problems


def test_readers() -> None:
    assert read_yes_no("yeah that's right") is True
    assert read_yes_no("nope") is False
    assert read_yes_no(None) is None
    assert read_digits("five five five oh one") == "55501"
    assert read_intent("i need help", ["sales", "support"]) == "support"
    assert read_intent("i want to leave a message", ["sales", "message"]) == "message"
    assert read_intent("pricing please", ["support"]) is None  # not offered by this business
    assert read_name("my name is sarah", ["sarah", "mark"]) == "Sarah"
    assert "leave a message" in intent_grammar(["message"])
    with pytest.raises(ValueError):
        name_grammar([])


def test_spelling_and_numbers_read_back() -> None:
    assert spell("Ann") == "A, N, N"
    assert speak_number("+15551234567") == "5 5 5, 1 2 3, 4 5 6 7"
    assert speak_number("12345") == "1 2 3, 4 5"


def test_happy_path_by_voice() -> None:
    d = Dialogue(parse_setup(None, caller=CALLER))
    assert "How can I help" in texts(d.start())
    assert expect_of(d) == "intent"
    assert "first name" in texts(d.heard("i need support"))
    assert expect_of(d) == "name"
    assert "D, A, V, I, D" in texts(d.heard("david"))
    assert expect_of(d) == "yes_no"
    assert "5 5 5, 1 2 3, 0 0 0 0" in texts(d.heard("yes"))
    actions = d.heard("yeah")
    assert isinstance(actions[-1], HangUpAction) and d.ended
    assert d.lead.as_dict() | {} == {
        "name": "David", "name_confirmed": True, "reason": "support", "intent_source": "speech",
        "callback_number": CALLER, "number_source": "caller_id", "message": None, "message_path": None,
        "understood": "i need support", "intent_confidence": 0.9, "intent_asked": False,
        "needs": ["support"],
    }
    assert "Thanks David, we will call you back about support." in texts(actions)


def test_menu_keys_message_and_typed_number() -> None:
    d = Dialogue(parse_setup(None, caller=CALLER))
    d.start()
    assert "message" in texts(d.pressed("0"))
    assert state_of(d) == "message" and expect_of(d) == "free"
    assert "first name" in texts(d.heard("please call me about the invoice"))
    assert d.lead.message == "please call me about the invoice"
    d.heard("sarah")
    d.pressed("1")  # 1 = yes on the spell-back
    assert state_of(d) == "number"
    for key in "2065550198":
        assert d.pressed(key) == []
    actions = d.pressed("#")
    assert isinstance(actions[-1], HangUpAction)
    assert d.lead.callback_number == "2065550198" and d.lead.number_source == "dtmf"
    assert d.lead.reason == "message" and d.lead.name == "Sarah"


def test_a_rejected_name_is_not_offered_again() -> None:
    d = Dialogue(parse_setup(None, caller=CALLER), names=("sarah", "sara", "mark"))
    d.start()
    d.pressed("1")
    d.heard("sarah")
    assert "spell your first name" in texts(d.heard("no"))
    assert "sarah" not in d.name_choices
    assert "didn't catch" in texts(d.heard("s a r a h"))  # refused: not offered spelled either
    d.heard("m a r k")
    d.heard("yes")
    assert d.lead.name == "Mark" and d.lead.rejected_names == ["sarah"]


def test_misunderstanding_retries_then_falls_back() -> None:
    d = Dialogue(parse_setup(None, caller=CALLER), max_retries=1)
    d.start()
    assert "didn't catch" in texts(d.heard(None))
    assert "first name" in texts(d.heard("mumble"))  # second failure: move on
    assert d.lead.reason == "other"


def test_silence_warns_then_says_goodbye() -> None:
    d = Dialogue(parse_setup(None), max_silences=2)
    d.start()
    assert "still there" in texts(d.silence())
    assert "still there" in texts(d.silence())
    actions = d.silence()
    assert isinstance(actions[-1], HangUpAction) and actions[-1].reason == "no answer"
    assert d.ended and d.silence() == []


def test_without_caller_id_the_number_is_typed() -> None:
    d = Dialogue(parse_setup(None))
    d.start()
    d.pressed("2")
    d.heard("mark")
    assert "type your callback number" in texts(d.heard("yes"))
    assert state_of(d) == "enter_number"
    d.heard("two oh six five five five oh one nine eight")
    assert state_of(d) == "confirm_digits"
    d.heard("yes")
    assert d.lead.callback_number == "2065550198" and d.lead.number_source == "speech"


def test_a_greeting_that_asks_is_not_followed_by_a_second_question() -> None:
    setup = parse_setup(b'{"greeting": "Thanks for calling Demo Business. How can I help you today?"}', caller=CALLER)
    d = Dialogue(setup)
    said = texts(d.start())
    assert said == (
        "Thanks for calling Demo Business. How can I help you today? "
        "Tell me, or press 1 for sales, 2 for support, or 0 for message."
    )
    assert said.count("?") == 1
    # a re-ask, once the greeting is over, is the whole question
    assert texts(d.heard(None)) == "Sorry, I didn't catch that. " + DEFAULT_PROMPTS["ask_need"].format(
        menu="press 1 for sales, 2 for support, or 0 for message"
    )


def test_a_greeting_that_does_not_ask_is_followed_by_the_whole_question() -> None:
    d = Dialogue(parse_setup(b'{"greeting": "Welcome to Acme Plumbing."}', caller=CALLER))
    assert texts(d.start()) == (
        "Welcome to Acme Plumbing. How can I help? Tell me, or press 1 for sales, 2 for support, or 0 for message."
    )


@pytest.mark.parametrize(
    ("greeting", "ask_need", "said_after"),
    [
        ("Hi! What do you need?", "How can I help? Where can I route you? Or {menu}.", "Or press 1 for sales, 2 for support, or 0 for message."),
        ("Hi! What do you need?", "What can I do for you?", ""),  # the greeting alone asks
        ("Hi! What do you need?  ", "{menu}, or just say it.", "press 1 for sales, 2 for support, or 0 for message, or just say it."),
        ("Acme, how may I help?", "How can I help? Tell me, or {menu}", "Tell me, or press 1 for sales, 2 for support, or 0 for message"),
        ("Is it urgent? Call 911. Otherwise, hello.", "How can I help? {menu}.", "How can I help? press 1 for sales, 2 for support, or 0 for message."),
    ],
)
def test_custom_greetings_and_prompts(greeting: str, ask_need: str, said_after: str) -> None:
    raw = orjson.dumps({"greeting": greeting, "prompts": {"ask_need": ask_need}})
    actions = Dialogue(parse_setup(raw, caller=CALLER)).start()
    said = [a.text for a in actions if isinstance(a, SayAction)]
    assert said == [greeting.strip(), *([said_after] if said_after else [])]


# --- the need in a sentence: understood, or asked about ----------------------------------

CLINIC = orjson.dumps(
    {
        "menu": [
            {"digit": "1", "label": "an appointment", "intent": "appointment"},
            {"digit": "2", "label": "billing", "intent": "billing"},
        ],
        "brain_settings": {"intent_words": {"appointment": ["cleaning", "check-up"]}},
    }
)


def test_a_confident_sentence_is_taken_with_what_was_understood() -> None:
    d = Dialogue(parse_setup(CLINIC, caller=CALLER))
    d.start()
    sentence = "hello i would like to book a check up for tomorrow morning please"
    assert "first name" in texts(d.heard("i'd like booking", sentence=sentence))
    lead = d.lead
    assert (lead.reason, lead.intent_source, lead.intent_asked) == ("appointment", "speech", False)
    assert lead.understood == sentence and lead.intent_confidence == 1.0
    assert lead.needs == ["appointment"]


def test_two_decodes_that_differ_ask_and_a_yes_takes_the_intent() -> None:
    d = Dialogue(parse_setup(CLINIC, caller=CALLER))
    d.start()
    question = texts(d.heard("i'd like billing", sentence="i want to book a cleaning next week"))
    assert question == "Is that about an appointment, or something else?"
    assert expect_of(d) == "yes_no" and state_of(d) == "clarify"
    assert "first name" in texts(d.heard("yes"))
    assert (d.lead.reason, d.lead.intent_source, d.lead.intent_asked) == (
        "appointment", "speech_confirmed", True,
    )


def test_a_short_answer_with_a_close_second_intent_is_asked_about() -> None:
    # "sales please" on a noisy line: the keyword grammar's best is "schedule please", with
    # "bill please" and "sales please" close behind in its n-best; the need model heard no need
    d = Dialogue(parse_setup(CLINIC_MENU, caller=CALLER))
    d.start()
    close = (("bill please", 0.0119), ("sales please", 0.0182))
    question = texts(d.heard("schedule please", sentence="the please", alternatives=close))
    assert question == "Is that about appointments, or something else?"
    assert d.lead.intent_asked and d.lead.reason is None
    # the same answer with its rival far behind, or both decodes agreeing: taken
    for alternatives, sentence in ((("bill please", 0.2),), "the please"), (close, "appointment please"):
        d = Dialogue(parse_setup(CLINIC_MENU, caller=CALLER))
        d.start()
        d.heard("schedule please", sentence=sentence, alternatives=alternatives)
        assert (d.lead.reason, d.lead.intent_asked) == ("appointment", False)
    assert Dialogue(parse_setup(CLINIC_MENU)).need_complete("schedule please", "appointment please", close)
    assert not Dialogue(parse_setup(CLINIC_MENU)).need_complete("schedule please", "the please", close)


def test_a_no_to_the_clarifying_question_goes_to_the_keypad_menu() -> None:
    d = Dialogue(parse_setup(CLINIC, caller=CALLER))
    d.start()
    d.heard("billing", sentence="um i want to ask you something about the cleaning and my bill")
    assert state_of(d) == "clarify"
    menu = texts(d.heard("no"))
    assert "keypad" in menu and "press 1 for an appointment, or 2 for billing" in menu
    assert state_of(d) == "menu"
    assert "first name" in texts(d.pressed("2"))
    assert (d.lead.reason, d.lead.intent_source) == ("billing", "dtmf")
    assert d.lead.intent_asked and d.lead.intent_confidence == 1.0


def test_an_unclear_answer_to_the_question_is_asked_again_then_the_menu() -> None:
    d = Dialogue(parse_setup(CLINIC, caller=CALLER), max_retries=1)
    d.start()
    d.heard(None, sentence="hello can you help me with my bill and the cleaning today")
    assert state_of(d) == "clarify"
    assert "Is that about" in texts(d.heard(None))
    assert "keypad" in texts(d.heard(None))
    assert state_of(d) == "menu"


def test_the_menu_does_not_ask_twice() -> None:
    d = Dialogue(parse_setup(CLINIC, caller=CALLER), max_retries=1)
    d.start()
    d.heard(None, sentence="hello i want to ask about a cleaning and a bill")
    d.heard("no")
    assert state_of(d) == "menu"
    assert "didn't catch" in texts(d.heard("billing", sentence="um something about the bill and a cleaning"))
    assert state_of(d) == "menu"
    d.heard(None, sentence="")
    assert d.lead.reason == "other" and state_of(d) == "name"


def test_intent_words_from_settings_are_read_and_bad_ones_reported() -> None:
    setup = parse_setup(CLINIC)
    assert setup.intent_words == {"appointment": ("cleaning", "check-up")}
    bad = parse_setup(orjson.dumps({"brain_settings": {"intent_words": {"sales": "quote", "billing": ["", "bill"]}}}))
    assert bad.intent_words == {"billing": ("bill",)}
    assert any("intent_words.sales" in p for p in bad.problems)
    assert any("intent_words.billing" in p for p in bad.problems)
    assert parse_setup(orjson.dumps({"brain_settings": {"intent_words": []}})).intent_words == {}


# --- a need turn complete at the short pause (the brain may end it there) ---------------------

CLINIC_MENU = orjson.dumps({"menu": [
    {"digit": "1", "label": "appointments", "intent": "appointment"},
    {"digit": "2", "label": "billing", "intent": "billing"},
    {"digit": "3", "label": "sales", "intent": "sales"},
]})


@pytest.mark.parametrize(("keyword", "sentence", "complete"), [
    ("appointment please", "i would like to book an appointment please", True),
    ("i need billing", "i think i was charged twice and i would like a refund", True),
    ("sales please", "sales", True),  # a keyword answer both decodes agree on
    # the caller paused mid-sentence: the sentence leads on, or names nothing yet
    ("appointment please", "i would like to book an", False),
    ("billing please", "i think i was charged twice and", False),
    ("sales please", "i need", False),  # the keyword grammar forced "i need" onto a keyword
    # the two decodes disagree, or the agent would ask: not complete
    ("billing please", "i would like to book an appointment please", False),
    ("sales please", "not about billing i want sales", False),
    ("appointment please", None, False),  # no need-model decode
])
def test_a_need_is_complete_only_when_the_agent_would_take_it_without_asking(
    keyword: str, sentence: str | None, complete: bool
) -> None:
    dialogue = Dialogue(parse_setup(CLINIC_MENU))
    assert dialogue.need_complete(keyword, sentence) is complete


def test_only_the_need_question_is_judged_by_need_complete() -> None:
    dialogue = Dialogue(parse_setup(CLINIC_MENU))
    dialogue.state = State.NAME
    assert dialogue.need_complete("appointment please", "i would like to book an appointment please") is False
