"""The call setup: what the API's voice webhook tells the calls service about a call.

The webhook stores it as JSON at ``calls:setup:{call_sid}`` (``contracts.keys.call_setup``,
TTL ``SETUP_TTL_SECONDS``); the calls service reads it once when the stream starts and hands
it to the call's brain. JSON object, version 1::

    {
      "version": 1,
      "call_sid": "CA…",                  # Twilio's CallSid
      "business_id": "42",                # string, as in the stream's <Parameter>
      "business_name": "Demo Dental",
      "direction": "inbound",             # inbound | outbound
      "from": "+15551230000",             # caller (E.164 when Twilio gives one)
      "to": "+15550100000",               # the business number that was dialled
      "greeting": "Hello, you reached …", # empty → the brain's default greeting
      "brain": "receptionist",            # receptionist | echo | openai_realtime
      "brain_settings": {…},              # per-business settings of that brain (free-form;
                                          # the receptionist reads "intent_words":
                                          # {"appointment": ["cleaning", "check-up"]})
      "language": "en",                   # BCP-47 primary tag
      "timezone": "UTC",                  # IANA zone, for "we are open until …"
      "menu": [{"digit": "1", "label": "new patients", "intent": "sales"}],
      "prompts": {"ask_name": "…", …},    # per-prompt overrides of the brain's wording
      "lead": {"id": 7, "name": "Ann", "status": "new"} | null,  # known caller, if any
      "created_at_ms": 1764200000000,     # when the webhook answered (epoch ms)
      "test": false                       # a browser test call (POST /api/test-calls)
    }

``test`` was added within version 1 (readers ignore unknown keys, so an older calls service
simply does not see it; nothing depends on the calls service reading it: the call's record is
marked test by ``/ws/browser`` itself, and the worker also trusts the call row the API wrote).

Compatibility rules:

- Readers ignore unknown keys, so a writer may add fields without a version bump.
- Writers bump ``version`` only for an incompatible change (a field removed, renamed, or its
  meaning changed).
- A reader never raises on bad input: ``read_setup`` returns a setup with defaults in place of
  every unusable field plus the list of problems, and the call goes on.
- A setup with a **newer** version than ``SETUP_VERSION`` is not guessed at: the reader keeps
  only ``call_sid`` and ``business_id`` (which mean the same in every version) and uses the
  defaults for the rest, reporting the problem. Deploy the calls service (the reader) before the
  API (the writer) when the version goes up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from contracts._fields import read_object

__all__ = [
    "DTMF_MENU_KEYS",
    "SETUP_TTL_SECONDS",
    "SETUP_VERSION",
    "CallSetup",
    "Direction",
    "LeadRef",
    "MenuOption",
    "SetupReading",
    "brain_settings_problems",
    "read_intent_words",
    "read_menu",
    "read_setup",
]

SETUP_VERSION = 1
SETUP_TTL_SECONDS = 600  # long enough for Twilio to open the stream, then gone
DTMF_MENU_KEYS = frozenset("0123456789ABCD")  # '*' and '#' are for digit entry, never a menu
MAX_LABEL = 80  # a label is read out in a prompt: longer is a configuration mistake
MAX_INTENT_WORD = 60  # an intent's word or phrase ("check-up"): a caller says it in one breath


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, slots=True)
class MenuOption:
    """One keypad choice: press ``digit`` for ``label`` (spoken) → ``intent`` (recorded)."""

    digit: str
    label: str
    intent: str


@dataclass(frozen=True, slots=True)
class LeadRef:
    """The caller's lead when the business already knows the number."""

    id: int
    name: str
    status: str


@dataclass(frozen=True, slots=True)
class CallSetup:
    """A call's setup; every field has a default, so an absent setup is ``CallSetup()``."""

    call_sid: str = ""
    business_id: str = ""
    business_name: str = ""
    direction: Direction = Direction.INBOUND
    caller: str = ""  # "from" in JSON
    called: str = ""  # "to" in JSON
    greeting: str = ""
    brain: str = ""  # empty: the calls service's CALLS_BRAIN
    brain_settings: Mapping[str, Any] = field(default_factory=dict)
    language: str = ""  # empty: the brain's default
    timezone: str = "UTC"
    menu: tuple[MenuOption, ...] = ()  # empty: the brain's default menu
    prompts: Mapping[str, str] = field(default_factory=dict)
    lead: LeadRef | None = None
    created_at_ms: int = 0
    test: bool = False  # a browser test call: no real caller, no lead
    version: int = SETUP_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (keys as documented above)."""
        data = asdict(self)
        data["from"] = data.pop("caller")
        data["to"] = data.pop("called")
        data["direction"] = self.direction.value
        data["brain_settings"] = dict(self.brain_settings)
        data["prompts"] = dict(self.prompts)
        return data

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class SetupReading:
    """What ``read_setup`` made of the stored bytes: the setup, and what was wrong with them."""

    setup: CallSetup
    problems: tuple[str, ...] = ()
    found: bool = True  # False: nothing was stored (an unknown call, or the TTL passed)


def read_setup(raw: bytes | str | Mapping[str, Any] | None) -> SetupReading:
    """Parse a stored setup leniently (pure; never raises).

    Args:
        raw: The JSON as stored, an already-decoded object, or None when nothing is stored.

    Returns:
        The setup with defaults for every missing or unusable field, and one problem per
        unusable field (unknown fields are ignored silently).
    """
    if raw is None:
        return SetupReading(CallSetup(), found=False)
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return SetupReading(CallSetup(), (f"setup is not JSON: {exc}",))
    if not isinstance(data, Mapping):
        return SetupReading(CallSetup(), ("setup is not a JSON object",))
    problems: list[str] = []
    version = data.get("version", SETUP_VERSION)  # absent: written before versions existed
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"version: expected a whole number >= 1, got {version!r}; read as {SETUP_VERSION}")
        version = SETUP_VERSION
    ids = CallSetup(
        call_sid=_text(data, "call_sid", problems), business_id=_text(data, "business_id", problems)
    )
    if version > SETUP_VERSION:
        problems.append(
            f"version {version} is newer than this reader ({SETUP_VERSION}): defaults used"
        )
        return SetupReading(ids, tuple(problems))
    raw_direction = _text(data, "direction", problems) or Direction.INBOUND.value
    if raw_direction not in tuple(Direction):
        problems.append(f"direction: {raw_direction!r} is not inbound or outbound")
        raw_direction = Direction.INBOUND.value
    setup = CallSetup(
        call_sid=ids.call_sid,
        business_id=ids.business_id,
        business_name=_text(data, "business_name", problems),
        direction=Direction(raw_direction),
        caller=_text(data, "from", problems),
        called=_text(data, "to", problems),
        greeting=_text(data, "greeting", problems),
        brain=_text(data, "brain", problems),
        brain_settings=read_object(data, "brain_settings", problems),
        language=_text(data, "language", problems),
        timezone=_text(data, "timezone", problems) or "UTC",
        menu=read_menu(data.get("menu"), problems),
        prompts=_prompts(data.get("prompts"), problems),
        lead=_lead(data.get("lead"), problems),
        created_at_ms=_int(data, "created_at_ms", problems),
        test=_flag(data, "test", problems),
        version=version,
    )
    return SetupReading(setup, tuple(problems))


def read_menu(raw: object, problems: list[str]) -> tuple[MenuOption, ...]:
    """The menu: a list of ``{"digit", "label", "intent"}``; bad entries are skipped.

    The older object form ``{"1": "sales"}`` is read too (label = intent), so a setup stored
    by an older API, or typed by hand, still works.
    """
    if raw is None:
        return ()
    entries: list[tuple[object, object, object]]
    if isinstance(raw, Mapping):
        entries = [(key, None, value) for key, value in raw.items()]
    elif isinstance(raw, list):
        entries = []
        for n, item in enumerate(raw):
            if not isinstance(item, Mapping):
                problems.append(f"menu[{n}]: expected an object with digit, label and intent")
                continue
            entries.append((item.get("digit"), item.get("label"), item.get("intent")))
    else:
        problems.append("menu: expected a list of {digit, label, intent}")
        return ()
    options: dict[str, MenuOption] = {}
    for digit, label, intent in entries:
        if isinstance(digit, int) and not isinstance(digit, bool) and 0 <= digit <= 9:
            digit = str(digit)
        if not isinstance(digit, str) or digit not in DTMF_MENU_KEYS:
            problems.append(f"menu: key {digit!r} is not a keypad digit")
            continue
        if not isinstance(intent, str) or not intent.strip():
            problems.append(f"menu: key {digit} needs an intent name")
            continue
        if digit in options:
            problems.append(f"menu: key {digit} appears twice; the first is used")
            continue
        if label is not None and (not isinstance(label, str) or len(label) > MAX_LABEL):
            problems.append(f"menu: key {digit} label is not a short text; the intent is said")
            label = None
        name = intent.strip().lower()
        spoken = label.strip() if isinstance(label, str) and label.strip() else name
        options[digit] = MenuOption(digit, spoken, name)
    return tuple(options.values())


def read_intent_words(raw: object, problems: list[str]) -> dict[str, tuple[str, ...]]:
    """A business's own words per intent, ``brain_settings.intent_words``
    (``{"appointment": ["cleaning", "check-up"]}``: a caller saying one of them wants that
    intent); bad entries are skipped and reported."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append("intent_words: expected an object of intent → list of words")
        return {}
    words: dict[str, tuple[str, ...]] = {}
    for intent, cues in raw.items():
        if not isinstance(cues, list) or not all(isinstance(c, str) for c in cues):
            problems.append(f"intent_words.{intent}: expected a list of words or phrases")
            continue
        kept = tuple(c.strip() for c in cues if c.strip() and len(c) <= MAX_INTENT_WORD)
        if len(kept) != len(cues):
            problems.append(f"intent_words.{intent}: empty or longer than {MAX_INTENT_WORD} characters")
        words[str(intent).strip().lower()] = kept
    return words


def brain_settings_problems(settings: Mapping[str, Any]) -> list[str]:
    """What the setup's reader would skip in a business's ``brain_settings`` (its ``menu``,
    ``prompts`` and ``intent_words``); the API refuses such settings, so an owner hears of a
    bad key at once rather than callers silently getting the default menu."""
    problems: list[str] = []
    read_menu(settings.get("menu"), problems)
    if settings.get("prompts") is not None:
        _prompts(settings.get("prompts"), problems)
    read_intent_words(settings.get("intent_words"), problems)
    return problems


def _text(data: Mapping[str, Any], name: str, problems: list[str]) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "business_id":
        return str(value)  # an id written as a number is still the id
    if not isinstance(value, str):
        problems.append(f"{name}: expected a string, got {type(value).__name__}")
        return ""
    return value.strip()


def _int(data: Mapping[str, Any], name: str, problems: list[str]) -> int:
    value = data.get(name)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        problems.append(f"{name}: expected a whole number, got {type(value).__name__}")
        return 0
    return value


def _flag(data: Mapping[str, Any], name: str, problems: list[str]) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        problems.append(f"{name}: expected true or false, got {type(value).__name__}")
        return False
    return value


def _prompts(raw: object, problems: list[str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append("prompts: expected an object")
        return {}
    prompts: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            problems.append(f"prompts.{key}: expected a non-empty string")
            continue
        prompts[str(key)] = value.strip()
    return prompts


def _lead(raw: object, problems: list[str]) -> LeadRef | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append("lead: expected an object or null")
        return None
    lead_id, name, status = raw.get("id"), raw.get("name"), raw.get("status")
    if not isinstance(lead_id, int) or isinstance(lead_id, bool):
        problems.append("lead.id: expected a whole number")
        return None
    return LeadRef(
        id=lead_id,
        name=name if isinstance(name, str) else "",
        status=status if isinstance(status, str) else "",
    )
