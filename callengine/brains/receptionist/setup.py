"""The business's call setup (``calls:setup:{call_sid}``, written by the API), parsed leniently.

Every field is optional: a missing or unusable field falls back to a default and is reported in
``CallSetup.problems`` (logged once by the brain), so a half-configured business still gets a
working receptionist. Pure: the Redis read is ``callengine.brains.setup_store``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from callengine.turns.menu import Menu

__all__ = ["DEFAULT_PROMPTS", "CallSetup", "parse_setup"]

DEFAULT_PROMPTS: Mapping[str, str] = {
    "greeting": "Thanks for calling.",
    "ask_need": "How can I help? Tell me, or {menu}.",
    "ask_name": "Your first name, please?",
    "confirm_name": "I heard {name}, {spelling}. Is that right?",
    "ask_name_again": "Sorry. Please say just your first name.",
    "confirm_number": "Call you back at {number}? Say yes, or type a number and pound.",
    "ask_number": "Please type your callback number, then pound.",
    "confirm_digits": "I heard {number}. Is that right?",
    "ask_message": "Please leave your message after the tone.",
    "message_saved": "Got it.",
    "not_understood": "Sorry, I didn't catch that.",
    "silence": "Are you still there?",
    "wrap_up": "Thanks {name}, we will call you back about {reason}.",
    "goodbye": "Goodbye.",
    "no_answer_goodbye": "I can't hear you, so I will hang up now. Please call again. Goodbye.",
}
SUPPORTED_LANGUAGES = ("en",)  # the recogniser's model shipped with pocketsphinx is US English
MAX_TEXT = 500  # a prompt longer than this is a configuration mistake, not a prompt


@dataclass(frozen=True, slots=True)
class CallSetup:
    business_id: str = ""
    greeting: str = DEFAULT_PROMPTS["greeting"]
    language: str = "en"
    menu: Menu = field(default_factory=Menu)
    prompts: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PROMPTS))
    caller: str = ""  # the caller's number (E.164) when known
    problems: tuple[str, ...] = ()

    def prompt(self, key: str, **values: str) -> str:
        return self.prompts.get(key, DEFAULT_PROMPTS[key]).format(**values)


def _text(raw: object, name: str, problems: list[str]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{name}: expected a non-empty string")
        return None
    if len(raw) > MAX_TEXT:
        problems.append(f"{name}: longer than {MAX_TEXT} characters")
        return None
    return raw.strip()


def parse_setup(raw: bytes | str | None, *, caller: str = "") -> CallSetup:
    """Parse the setup JSON; ``None`` (no setup stored) gives the defaults."""
    if raw is None:
        return CallSetup(caller=caller)
    problems: list[str] = []
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return CallSetup(caller=caller, problems=(f"setup is not JSON: {exc}",))
    if not isinstance(data, dict):
        return CallSetup(caller=caller, problems=("setup is not a JSON object",))
    greeting = _text(data.get("greeting"), "greeting", problems) or DEFAULT_PROMPTS["greeting"]
    language = _text(data.get("language"), "language", problems) or "en"
    base = language.lower().split("-")[0].split("_")[0]
    if base not in SUPPORTED_LANGUAGES:
        problems.append(f"language {language!r}: the offline receptionist speaks English only")
    try:
        menu = Menu.parse(data.get("menu"))
    except ValueError as exc:
        problems.append(f"menu: {exc}")
        menu = Menu()
    prompts = dict(DEFAULT_PROMPTS)
    raw_prompts = data.get("prompts")
    if isinstance(raw_prompts, dict):
        for key, value in raw_prompts.items():
            if key not in DEFAULT_PROMPTS:
                problems.append(f"prompts.{key}: unknown prompt")
                continue
            text = _text(value, f"prompts.{key}", problems)
            if text is None:
                continue
            try:  # the placeholders must be ours, or every call would fail on this prompt
                text.format(name="", spelling="", number="", reason="", menu="")
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"prompts.{key}: bad placeholder {exc}")
                continue
            prompts[key] = text
    elif raw_prompts is not None:
        problems.append("prompts: expected an object")
    from_setup = _text(data.get("from") or data.get("caller"), "from", problems)
    return CallSetup(
        business_id=str(data.get("business_id") or ""),
        greeting=greeting,
        language=base,
        menu=menu,
        prompts=prompts,
        caller=caller or from_setup or "",
        problems=tuple(problems),
    )
