"""What one Realtime session needs: vendor settings, the business's call setup, the prompt (pure).

``RealtimeConfig`` is built once per process from ``Settings``. ``CallSetup.from_json`` reads
the call setup the API stores at ``calls:setup:{call_sid}`` (docs/ARCHITECTURE.md §2, version 1 documented
in ``api/call_setup.py``) and tolerates missing or mistyped fields, falling back to defaults: a
call must never fail because the setup is incomplete. This brain reads ``business_name``,
``greeting``, ``language``, ``direction``, ``from``/``to``, ``lead.name`` and, from the
free-form ``brain_settings``, ``prompt`` (or ``instructions``) and ``voice``. ``instructions_for`` and ``greeting_instructions`` turn it into the
session's instructions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from callengine.brains.openai_realtime.protocol import Dialect, TurnDetection
from contracts.call_setup import Direction, SetupReading, read_setup

if TYPE_CHECKING:
    from callengine.settings import Secret, Settings

__all__ = ["TOOLS", "CallSetup", "RealtimeConfig", "greeting_instructions", "instructions_for"]

MAX_PROMPT_CHARS = 8000  # a business prompt is a page, not a book: bounds tokens per session
MAX_FIELD_CHARS = 500


@dataclass(frozen=True)
class RealtimeConfig:
    api_key: Secret
    url: str = "wss://api.openai.com/v1/realtime"
    model: str = "gpt-realtime"
    dialect: Dialect = Dialect.GA
    voice: str = "alloy"
    transcription_model: str = "gpt-4o-mini-transcribe"
    turn_detection: TurnDetection = field(default_factory=TurnDetection)
    connect_timeout_seconds: float = 5.0
    connect_attempts: int = 3
    backoff_seconds: float = 0.5  # doubled after each failed attempt
    first_audio_seconds: float = 8.0
    local_barge_in: bool = True  # our own onset detector clears playback before the vendor

    @classmethod
    def from_settings(cls, service: Settings) -> RealtimeConfig:
        """The per-process config from the brain's settings (``Settings.openai_realtime``)."""
        settings = service.openai_realtime
        return cls(
            api_key=settings.api_key,
            url=settings.url,
            model=settings.model,
            dialect=Dialect(settings.api),
            voice=settings.voice,
            transcription_model=settings.transcription_model,
            turn_detection=TurnDetection(
                threshold=settings.vad_threshold,
                prefix_padding_ms=settings.vad_prefix_ms,
                silence_duration_ms=settings.vad_silence_ms,
            ),
            connect_timeout_seconds=settings.connect_timeout_seconds,
            connect_attempts=settings.connect_attempts,
            first_audio_seconds=settings.first_audio_seconds,
            local_barge_in=settings.local_barge_in,
        )

    @property
    def session_url(self) -> str:
        """The URL with the model as its query (``?model=...``), as the vendor expects."""
        return f"{self.url}?{urlencode({'model': self.model})}"

    def headers(self) -> list[tuple[bytes, bytes]]:
        """Handshake headers. They hold the key: never log them."""
        headers = [(b"authorization", b"Bearer " + self.api_key.reveal().encode())]
        if self.dialect is Dialect.BETA:
            headers.append((b"openai-beta", b"realtime=v1"))
        return headers


@dataclass(frozen=True)
class CallSetup:
    """The business's side of one call (every field optional)."""

    business_name: str = ""
    greeting: str = ""
    prompt: str = ""
    language: str = ""
    voice: str = ""
    caller_number: str = ""
    known_name: str = ""  # the lead already on file for this number, if any

    @classmethod
    def from_reading(cls, reading: SetupReading) -> tuple[CallSetup, list[str]]:
        """This brain's view of the call setup the engine read (``contracts.call_setup``);
        returns it with the problems found (never raises)."""
        if not reading.found:
            return cls(), ["no call setup stored"]
        problems = list(reading.problems)
        setup = reading.setup
        settings = setup.brain_settings

        def text(*names: str, limit: int = MAX_FIELD_CHARS) -> str:
            for name in names:
                value = settings.get(name)
                if value is None:
                    continue
                if type(value) is not str:
                    problems.append(f"brain_settings.{name} is not a string")
                    continue
                return value.strip()[:limit]
            return ""

        # On an outbound call the person we talk to is the number we dialled.
        peer = setup.called if setup.direction is Direction.OUTBOUND else setup.caller
        return (
            cls(
                business_name=setup.business_name[:MAX_FIELD_CHARS],
                greeting=setup.greeting[:MAX_FIELD_CHARS],
                prompt=text("prompt", "instructions", limit=MAX_PROMPT_CHARS),
                language=setup.language[:MAX_FIELD_CHARS],
                voice=text("voice"),
                caller_number=peer[:MAX_FIELD_CHARS],
                known_name=setup.lead.name[:100] if setup.lead else "",
            ),
            problems,
        )

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> tuple[CallSetup, list[str]]:
        """Read the stored setup JSON with the contract's reader, then ``from_reading``."""
        return cls.from_reading(read_setup(raw))


TOOLS: list[dict[str, Any]] = [
    {
        "name": "update_lead",
        "description": (
            "Create or update the caller's lead record. Call it as soon as you learn any of "
            "these details; pass only the fields you learned or corrected."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The caller's full name."},
                "reason": {"type": "string", "description": "Why the caller is calling, in a sentence."},
                "callback_number": {
                    "type": "string",
                    "description": "The phone number to call back, digits with optional leading +.",
                },
                "email": {"type": "string", "description": "The caller's email address."},
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "hang_up",
        "description": "End the call. Say goodbye first; call this only when the caller is done.",
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "Why the call ends."}},
            "additionalProperties": False,
        },
    },
]


def instructions_for(setup: CallSetup) -> str:
    """The session instructions: the business's prompt plus the rules of the phone call."""
    business = setup.business_name or "the business"
    intro = setup.prompt or (
        f"You are the friendly, concise phone receptionist of {business}. "
        "Answer briefly, one or two sentences at a time."
    )
    caller = (
        f"The caller is calling from {setup.caller_number}; offer it as the callback number "
        "and confirm it."
        if setup.caller_number
        else "Ask for a callback number."
    )
    rules = (
        "You are on a phone call. Find out the caller's name, the reason for the call and a "
        f"callback number, and an email address if they offer one. {caller} Save each detail "
        "with the update_lead tool as soon as you learn it. When the caller has nothing more, "
        "say a short goodbye and then call the hang_up tool."
    )
    known = (
        f" Our records say this number belongs to {setup.known_name}: confirm the name."
        if setup.known_name
        else ""
    )
    language = f" Speak {setup.language}." if setup.language else ""
    return f"{intro}\n\n{rules}{known}{language}"


def greeting_instructions(setup: CallSetup) -> str:
    if setup.greeting:
        return f"Greet the caller by saying exactly this, then wait: {setup.greeting}"
    business = setup.business_name or "the business"
    return f"Greet the caller on behalf of {business} in one short sentence and ask how you can help."
