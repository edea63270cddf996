"""OpenAI Realtime WebSocket codec: client events out, server events in (pure).

No I/O, no trio, no logging. ``build_*`` functions return the JSON text of one client event;
``parse(text)`` turns one server frame into a frozen dataclass, or ``OtherEvent`` for the many
events this brain does not act on. Malformed frames raise ``RealtimeProtocolError``.

Two dialects of the protocol are spoken (``Dialect``):

- ``ga`` (the generally available API): ``session.type = "realtime"``, audio settings nested
  under ``session.audio.{input,output}`` with ``{"type": "audio/pcmu"}`` formats, audio deltas
  as ``response.output_audio.delta``.
- ``beta`` (``OpenAI-Beta: realtime=v1``): flat ``input_audio_format`` /
  ``output_audio_format = "g711_ulaw"``, ``turn_detection`` and ``input_audio_transcription``,
  audio deltas as ``response.audio.delta``.

Either way G.711 μ-law flows both ways untouched: Twilio's 8 kHz μ-law is exactly what the
vendor accepts and produces, so nothing is transcoded.
References: developers.openai.com/api/reference/resources/realtime/client-events and
.../server-events; openai-python ``src/openai/types/realtime/``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from callengine.brains.openai_realtime.errors import RealtimeProtocolError

__all__ = [
    "AudioDelta",
    "AudioTranscriptDelta",
    "AudioTranscriptDone",
    "CallerTranscript",
    "Dialect",
    "ErrorEvent",
    "FunctionCallDone",
    "FunctionCallItem",
    "ItemTruncated",
    "OtherEvent",
    "ResponseCreated",
    "ResponseDone",
    "ServerEvent",
    "SessionCreated",
    "SessionUpdated",
    "SpeechStarted",
    "SpeechStopped",
    "TurnDetection",
    "build_append",
    "build_function_output",
    "build_response_cancel",
    "build_response_create",
    "build_session_update",
    "build_truncate",
    "build_user_text",
    "parse",
]


class Dialect(StrEnum):
    GA = "ga"
    BETA = "beta"


# Dialect names for the same server events.
_AUDIO_DELTA = ("response.output_audio.delta", "response.audio.delta")
_TRANSCRIPT_DELTA = ("response.output_audio_transcript.delta", "response.audio_transcript.delta")
_TRANSCRIPT_DONE = ("response.output_audio_transcript.done", "response.audio_transcript.done")
_ITEM_ADDED = ("response.output_item.added",)


@dataclass(frozen=True, slots=True)
class TurnDetection:
    """Server VAD settings (``threshold`` 0..1; durations in ms)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "type": "server_vad",
            "threshold": self.threshold,
            "prefix_padding_ms": self.prefix_padding_ms,
            "silence_duration_ms": self.silence_duration_ms,
            "create_response": self.create_response,
            "interrupt_response": self.interrupt_response,
        }


# --- client events -------------------------------------------------------------------------


def _dumps(event: dict[str, Any]) -> str:
    return orjson.dumps(event).decode()


def build_session_update(
    dialect: Dialect,
    *,
    instructions: str,
    voice: str,
    tools: list[dict[str, Any]],
    turn_detection: TurnDetection,
    transcription_model: str,
    language: str | None = None,
    event_id: str | None = None,
) -> str:
    """``session.update``: μ-law both ways, server VAD, input transcription, tools.

    ``event_id`` comes back in an ``error`` event if the vendor rejects the update.
    """
    transcription: dict[str, Any] = {"model": transcription_model}
    if language:
        transcription["language"] = language
    function_tools = [{"type": "function", **tool} for tool in tools]
    if dialect is Dialect.GA:
        session: dict[str, Any] = {
            "type": "realtime",
            "instructions": instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": transcription,
                    "turn_detection": turn_detection.as_json(),
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": voice},
            },
            "tools": function_tools,
            "tool_choice": "auto",
        }
    else:
        session = {
            "instructions": instructions,
            "modalities": ["audio", "text"],
            "voice": voice,
            "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_ulaw",
            "input_audio_transcription": transcription,
            "turn_detection": turn_detection.as_json(),
            "tools": function_tools,
            "tool_choice": "auto",
        }
    event: dict[str, Any] = {"type": "session.update", "session": session}
    if event_id:
        event["event_id"] = event_id
    return _dumps(event)


def build_append(ulaw: bytes) -> str:
    """``input_audio_buffer.append`` with raw μ-law (base64, no header)."""
    return _dumps(
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(ulaw).decode("ascii")}
    )


def build_user_text(text: str) -> str:
    """``conversation.item.create`` with a user text message (e.g. keys the caller pressed)."""
    return _dumps(
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
        }
    )


def build_response_create(instructions: str | None = None) -> str:
    """``response.create``; ``instructions`` override the session's for this response only."""
    event: dict[str, Any] = {"type": "response.create"}
    if instructions:
        event["response"] = {"instructions": instructions}
    return _dumps(event)


def build_response_cancel(response_id: str | None = None) -> str:
    event: dict[str, Any] = {"type": "response.cancel"}
    if response_id:
        event["response_id"] = response_id
    return _dumps(event)


def build_truncate(item_id: str, audio_end_ms: int, content_index: int = 0) -> str:
    """``conversation.item.truncate``: the caller heard ``audio_end_ms`` of ``item_id``."""
    return _dumps(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": content_index,
            "audio_end_ms": max(0, int(audio_end_ms)),
        }
    )


def build_function_output(call_id: str, output: dict[str, Any]) -> str:
    """``conversation.item.create`` carrying a ``function_call_output`` item."""
    return _dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": call_id,
                "output": orjson.dumps(output).decode(),
            },
        }
    )


# --- server events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionCreated:
    session_id: str


@dataclass(frozen=True, slots=True)
class SessionUpdated:
    session: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    item_id: str
    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class ResponseCreated:
    response_id: str


@dataclass(frozen=True, slots=True)
class ResponseDone:
    response_id: str
    status: str  # completed | cancelled | failed | incomplete
    error: str | None  # status_details.error, for a failed response


@dataclass(frozen=True, slots=True)
class AudioDelta:
    response_id: str
    item_id: str
    content_index: int
    ulaw: bytes


@dataclass(frozen=True, slots=True)
class AudioTranscriptDelta:
    response_id: str
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class AudioTranscriptDone:
    response_id: str
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class CallerTranscript:
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class FunctionCallItem:
    """``response.output_item.added`` for a function call: its name arrives here."""

    response_id: str
    item_id: str
    call_id: str
    name: str


@dataclass(frozen=True, slots=True)
class FunctionCallDone:
    response_id: str
    item_id: str
    call_id: str
    arguments: str
    name: str | None  # not sent by every version: see FunctionCallItem


@dataclass(frozen=True, slots=True)
class ItemTruncated:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    type: str
    code: str | None
    message: str
    event_id: str | None


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """A server event this brain does not act on (deltas of text, rate limits, ...)."""

    type: str


ServerEvent = (
    SessionCreated
    | SessionUpdated
    | SpeechStarted
    | SpeechStopped
    | ResponseCreated
    | ResponseDone
    | AudioDelta
    | AudioTranscriptDelta
    | AudioTranscriptDone
    | CallerTranscript
    | FunctionCallItem
    | FunctionCallDone
    | ItemTruncated
    | ErrorEvent
    | OtherEvent
)


def parse(text: str | bytes) -> ServerEvent:
    """Decode one server frame.

    Raises:
        RealtimeProtocolError: not a JSON object with a string ``type``, or a field the brain
            relies on is missing or of the wrong type.
    """
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RealtimeProtocolError(f"malformed JSON from the vendor: {exc.msg}") from None
    if type(msg) is not dict or type(msg.get("type")) is not str:
        raise RealtimeProtocolError("vendor event is not an object with a string type")
    kind: str = msg["type"]
    try:
        return _parse(kind, msg)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise RealtimeProtocolError(f"bad {kind} event: {type(exc).__name__} {exc}") from None


def _str(msg: dict[str, Any], key: str) -> str:
    value = msg[key]
    if type(value) is not str:
        raise TypeError(f"{key} is not a string")
    return value


def _int(msg: dict[str, Any], key: str, default: int | None = None) -> int:
    value = msg.get(key, default)
    if type(value) is not int:
        raise TypeError(f"{key} is not an integer")
    return value


def _parse(kind: str, msg: dict[str, Any]) -> ServerEvent:
    if kind in _AUDIO_DELTA:  # the hot path: many per second
        return AudioDelta(
            _str(msg, "response_id"),
            _str(msg, "item_id"),
            _int(msg, "content_index", 0),
            base64.b64decode(_str(msg, "delta"), validate=True),
        )
    if kind == "input_audio_buffer.speech_started":
        return SpeechStarted(_str(msg, "item_id"), _int(msg, "audio_start_ms", 0))
    if kind == "input_audio_buffer.speech_stopped":
        return SpeechStopped(_str(msg, "item_id"), _int(msg, "audio_end_ms", 0))
    if kind == "response.created":
        return ResponseCreated(_str(msg["response"], "id"))
    if kind == "response.done":
        response = msg["response"]
        details = response.get("status_details") or {}
        error = details.get("error") if isinstance(details, dict) else None
        return ResponseDone(
            _str(response, "id"),
            str(response.get("status") or "completed"),
            orjson.dumps(error).decode() if error else None,
        )
    if kind in _TRANSCRIPT_DELTA:
        return AudioTranscriptDelta(_str(msg, "response_id"), _str(msg, "item_id"), _str(msg, "delta"))
    if kind in _TRANSCRIPT_DONE:
        return AudioTranscriptDone(
            _str(msg, "response_id"), _str(msg, "item_id"), _str(msg, "transcript")
        )
    if kind == "conversation.item.input_audio_transcription.completed":
        return CallerTranscript(_str(msg, "item_id"), _str(msg, "transcript"))
    if kind in _ITEM_ADDED:
        item = msg["item"]
        if item.get("type") == "function_call":
            return FunctionCallItem(
                _str(msg, "response_id"), _str(item, "id"), _str(item, "call_id"), _str(item, "name")
            )
        return OtherEvent(kind)
    if kind == "response.function_call_arguments.done":
        name = msg.get("name")
        return FunctionCallDone(
            _str(msg, "response_id"),
            _str(msg, "item_id"),
            _str(msg, "call_id"),
            _str(msg, "arguments"),
            name if type(name) is str else None,
        )
    if kind == "conversation.item.truncated":
        return ItemTruncated(_str(msg, "item_id"), _int(msg, "audio_end_ms", 0))
    if kind == "session.created":
        return SessionCreated(str(msg.get("session", {}).get("id", "")))
    if kind == "session.updated":
        session = msg.get("session")
        return SessionUpdated(session if isinstance(session, dict) else {})
    if kind == "error":
        err = msg["error"]
        code = err.get("code")
        event_id = err.get("event_id")
        return ErrorEvent(
            str(err.get("type") or "error"),
            code if type(code) is str else None,
            str(err.get("message") or ""),
            event_id if type(event_id) is str else None,
        )
    return OtherEvent(kind)
