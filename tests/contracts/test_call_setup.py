"""The call setup round-trips through the exact code that writes it (the API's builder) and the
exact code that reads it (the contract's reader, then the receptionist's view)."""

from __future__ import annotations

import orjson
import pytest

from api.call_setup import build_setup
from callengine.brains.receptionist.setup import parse_setup
from contracts.call_setup import (
    SETUP_VERSION,
    CallSetup,
    Direction,
    LeadRef,
    MenuOption,
    brain_settings_problems,
    read_setup,
)

__all__: list[str] = []

BUSINESS = {
    "id": 7,
    "name": "Acme Plumbing",
    "greeting": "Welcome to Acme Plumbing.",
    "brain": "receptionist",
    "brain_settings": {
        "menu": [
            {"digit": "1", "label": "a new job", "intent": "Sales"},
            {"digit": "3", "label": "billing questions", "intent": "billing"},
        ],
        "prompts": {"ask_name": "And your first name?"},
        "voice": "something only a future brain reads",
    },
    "language": "en",
    "timezone": "America/New_York",
}


def built() -> CallSetup:
    return build_setup(
        call_sid="CA" + "7" * 32, business=BUSINESS, direction="inbound", caller="+15551230000",
        called="+15550100000", lead={"id": 3, "name": "Ann", "status": "new"}, created_at_ms=1_764_200_000_000,
    )


def test_what_the_api_writes_the_calls_service_reads_back_unchanged() -> None:
    setup = built()
    reading = read_setup(setup.to_json())
    assert reading.problems == () and reading.found
    assert reading.setup == setup
    assert setup.menu == (MenuOption("1", "a new job", "sales"), MenuOption("3", "billing questions", "billing"))
    assert setup.lead == LeadRef(3, "Ann", "new") and setup.direction is Direction.INBOUND


def test_the_stored_json_is_the_documented_shape() -> None:
    data = orjson.loads(built().to_json())
    assert data["version"] == SETUP_VERSION
    assert data["from"] == "+15551230000" and data["to"] == "+15550100000"
    assert data["menu"][1] == {"digit": "3", "label": "billing questions", "intent": "billing"}
    assert data["business_id"] == "7" and data["lead"] == {"id": 3, "name": "Ann", "status": "new"}


def test_the_receptionist_hears_the_business_menu_and_prompts() -> None:
    setup = parse_setup(built().to_json())
    assert setup.problems == ()
    assert setup.menu.intent_for("3") == "billing" and setup.menu.intent_for("2") is None
    assert setup.prompt("ask_need", menu=setup.menu.describe()).endswith(
        "press 1 for a new job, or 3 for billing questions."
    )
    assert setup.prompt("ask_name") == "And your first name?"
    assert setup.caller == "+15551230000"


def test_unknown_fields_are_ignored_by_the_reader() -> None:
    data = {**built().to_dict(), "mood": "cheerful", "menu_v2": {"x": 1}}
    reading = read_setup(orjson.dumps(data))
    assert reading.problems == () and reading.setup == built()


def test_a_newer_version_is_not_guessed_at() -> None:
    data = {**built().to_dict(), "version": SETUP_VERSION + 1, "menu": "a new shape"}
    reading = read_setup(orjson.dumps(data))
    assert reading.setup == CallSetup(call_sid=built().call_sid, business_id="7")
    assert any("newer than this reader" in p for p in reading.problems)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"menu": "x"}', "menu: expected a list"),
        (b'{"menu": [{"digit": "#", "intent": "sales"}]}', "not a keypad digit"),
        (b'{"menu": [{"digit": "1"}]}', "needs an intent"),
        (b'{"menu": [{"digit": "1", "intent": "a"}, {"digit": "1", "intent": "b"}]}', "appears twice"),
        (b'{"greeting": 5}', "greeting: expected a string"),
        (b'{"lead": {"id": "x"}}', "lead.id"),
        (b'{"version": "one"}', "version"),
        (b'{"direction": "sideways"}', "direction"),
    ],
)
def test_bad_input_gives_defaults_and_names_the_problem(raw: bytes, problem: str) -> None:
    reading = read_setup(raw)
    assert any(problem in p for p in reading.problems), reading.problems
    receptionist = parse_setup(raw)  # and the call goes on
    assert receptionist.greeting and receptionist.menu.options


def test_the_older_object_menu_still_reads() -> None:
    reading = read_setup(b'{"menu": {"3": "Billing"}}')
    assert reading.setup.menu == (MenuOption("3", "billing", "billing"),) and reading.problems == ()


def test_no_setup_stored_is_not_a_problem() -> None:
    reading = read_setup(None)
    assert not reading.found and reading.problems == () and reading.setup == CallSetup()


def test_a_test_call_setup_carries_its_flag_to_the_reader() -> None:
    setup = build_setup(
        call_sid="CA" + "7" * 32, business=BUSINESS, direction="inbound", caller="+15550100000",
        called="+15550100000", lead=None, created_at_ms=1, test=True,
    )
    assert orjson.loads(setup.to_json())["test"] is True
    reading = read_setup(setup.to_json())
    assert reading.problems == () and reading.setup.test is True and reading.setup == setup
    assert read_setup(built().to_json()).setup.test is False  # a phone call
    assert read_setup({"call_sid": "CA1", "test": "yes"}).problems == ("test: expected true or false, got str",)


def test_a_business_own_intent_words_reach_the_receptionist() -> None:
    """Writer → reader: the API's setup carries ``brain_settings.intent_words`` and the
    receptionist understands them as its intents' words."""
    settings = BUSINESS["brain_settings"] | {"intent_words": {"sales": ["new patient", "check-up"]}}
    setup = build_setup(
        call_sid="CA1", business=BUSINESS | {"brain_settings": settings}, direction="inbound",
        caller="+15551230000", called="+15550100000", lead=None, created_at_ms=1,
    )
    receptionist = parse_setup(setup.to_json())
    assert receptionist.intent_words == {"sales": ("new patient", "check-up")}
    assert not receptionist.problems


def test_bad_intent_words_are_refused_by_the_settings_check() -> None:
    assert brain_settings_problems({"intent_words": {"sales": ["quote"]}}) == []
    assert brain_settings_problems({"intent_words": {"sales": "quote"}}) == [
        "intent_words.sales: expected a list of words or phrases"
    ]
    assert brain_settings_problems({"intent_words": ["quote"]})
    assert brain_settings_problems({"intent_words": {"sales": ["x" * 61]}})
