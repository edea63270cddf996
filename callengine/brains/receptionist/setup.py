"""The receptionist's view of the business's call setup (``contracts.call_setup``).

Every field is optional: a missing or unusable field falls back to a default and is reported in
``ReceptionistSetup.problems`` (logged once by the brain), so a half-configured business still
gets a working receptionist. Pure: the Redis read is ``callengine.brains.setup_store``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from callengine.turns.menu import Menu
from contracts.call_setup import SetupReading, read_intent_words, read_setup

__all__ = ["DEFAULT_PROMPTS", "ReceptionistSetup", "parse_setup", "receptionist_setup"]

DEFAULT_PROMPTS: Mapping[str, str] = {
    "greeting": "Thanks for calling.",
    "ask_need": "How can I help? Tell me, or {menu}.",
    "ask_name": "Your first name, please?",
    "confirm_name": "I heard {name}, {spelling}. Is that right?",
    "ask_name_again": "Sorry. Please say just your first name.",
    "ask_spelling": "Please spell your first name, letter by letter, or press pound to skip.",
    "ask_spelling_again": "Sorry. Please spell it again, or press pound to skip.",
    "confirm_number": "Call you back at {number}? Say yes, or type a number and pound.",
    "ask_number": "Please type your callback number, then pound.",
    "confirm_digits": "I heard {number}. Is that right?",
    "ask_message": "Please leave your message after the tone.",
    "message_saved": "Got it.",
    "not_understood": "Sorry, I didn't catch that.",
    "clarify": "Is that about {intent}, or something else?",
    "ask_menu": "Sorry. Please choose on the keypad: {menu}.",
    "silence": "Are you still there?",
    "wrap_up": "Thanks {name}, we will call you back about {reason}.",
    "goodbye": "Goodbye.",
    "no_answer_goodbye": "I can't hear you, so I will hang up now. Please call again. Goodbye.",
}
SUPPORTED_LANGUAGES = ("en",)  # the recogniser's model shipped with pocketsphinx is US English
MAX_TEXT = 500  # a prompt longer than this is a configuration mistake, not a prompt


@dataclass(frozen=True, slots=True)
class ReceptionistSetup:
    """What the receptionist takes from the call setup, with its own defaults filled in."""

    business_id: str = ""
    greeting: str = DEFAULT_PROMPTS["greeting"]
    language: str = "en"
    menu: Menu = field(default_factory=Menu)
    prompts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PROMPTS))
    caller: str = ""  # the caller's number (E.164) when known
    # The business's own words per intent ("appointment": ("cleaning", "check-up")), from
    # ``brain_settings.intent_words``: understood in a caller's sentence like the defaults.
    intent_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def prompt(self, key: str, **values: str) -> str:
        return self.prompts.get(key, DEFAULT_PROMPTS[key]).format(**values)


def _text(raw: str, name: str, problems: list[str]) -> str | None:
    if not raw:
        return None
    if len(raw) > MAX_TEXT:
        problems.append(f"{name}: longer than {MAX_TEXT} characters")
        return None
    return raw


def receptionist_setup(reading: SetupReading, *, caller: str = "") -> ReceptionistSetup:
    """The receptionist's view of a call setup already read by ``contracts.call_setup``.

    Keeps the reader's problems and adds the receptionist's own (a language it cannot speak,
    an unknown prompt, a prompt with placeholders it cannot fill).
    """
    setup = reading.setup
    if not reading.found:
        return ReceptionistSetup(caller=caller)
    problems = list(reading.problems)
    greeting = _text(setup.greeting, "greeting", problems) or DEFAULT_PROMPTS["greeting"]
    base = setup.language.lower().split("-")[0].split("_")[0] or "en"
    if base not in SUPPORTED_LANGUAGES:
        problems.append(f"language {setup.language!r}: the offline receptionist speaks English only")
    prompts = dict(DEFAULT_PROMPTS)
    for key, value in setup.prompts.items():
        if key not in DEFAULT_PROMPTS:
            problems.append(f"prompts.{key}: unknown prompt")
            continue
        text = _text(value, f"prompts.{key}", problems)
        if text is None:
            continue
        try:  # the placeholders must be ours, or every call would fail on this prompt
            text.format(name="", spelling="", number="", reason="", menu="", intent="")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"prompts.{key}: bad placeholder {exc}")
            continue
        prompts[key] = text
    intent_words = read_intent_words(setup.brain_settings.get("intent_words"), problems)
    return ReceptionistSetup(
        business_id=setup.business_id,
        greeting=greeting,
        language=base,
        menu=Menu.from_options(setup.menu),
        prompts=prompts,
        caller=caller or setup.caller,
        intent_words=intent_words,
        problems=tuple(problems),
    )


def parse_setup(raw: bytes | str | None, *, caller: str = "") -> ReceptionistSetup:
    """Read the stored setup JSON and take the receptionist's view of it; ``None`` (no setup
    stored) gives the defaults."""
    return receptionist_setup(read_setup(raw), caller=caller)
