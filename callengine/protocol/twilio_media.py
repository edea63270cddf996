"""Twilio Media Streams codec: ``decode(text) -> InboundEvent`` and ``encode(...) -> str``.

Pure and stateless: no I/O, no trio, no logging. Every malformed message raises
``ProtocolError`` with a reason fit for a WebSocket close frame; unknown event names decode to
``UnknownEvent`` (Twilio may add events). Numeric-looking fields (``sequenceNumber``,
``chunk``, ``timestamp``) are strings on the wire
(https://www.twilio.com/docs/voice/media-streams/websocket-messages).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from typing import Any

import orjson

from callengine.audio.mulaw import ulaw_to_pcm
from callengine.errors import ProtocolError
from callengine.events import (
    ClearPlayback,
    Command,
    DtmfReceived,
    HangUp,
    InboundEvent,
    MarkReached,
    MediaReceived,
    SendAudio,
    SendMark,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    UnknownEvent,
)

__all__ = ["decode", "encode", "encode_clear", "encode_mark", "encode_media"]

# Twilio sends one 20 ms frame (160 bytes) per message; anything above a second is not audio.
MAX_MEDIA_BYTES = 8000
MAX_MARK_NAME = 256
# SIDs are echoed into outbound JSON and Redis keys: keep them to a safe alphabet.
_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def decode(text: str) -> InboundEvent:
    """Decode one text frame from Twilio.

    Raises:
        ProtocolError: the text is not JSON, not an object, or misses/garbles a field.
    """
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc.msg} at char {exc.pos}") from None
    if type(msg) is not dict:
        raise ProtocolError("message is not a JSON object")
    event = msg.get("event")
    if event == "media":  # the hot path: 50 per second per call
        try:
            media = msg["media"]
            payload = binascii.a2b_base64(media["payload"], strict_mode=True)
            timestamp = int(media["timestamp"])
            chunk = int(media.get("chunk") or 0)
            seq = int(msg["sequenceNumber"])
        except KeyError as exc:
            raise ProtocolError(f"media event missing field {exc.args[0]!r}") from None
        except (TypeError, ValueError, binascii.Error) as exc:
            raise ProtocolError(f"media event has a bad field: {exc}") from None
        if len(payload) > MAX_MEDIA_BYTES:
            raise ProtocolError(f"media payload of {len(payload)} bytes is too large")
        return MediaReceived(payload, ulaw_to_pcm(payload), timestamp, chunk, seq)
    if not isinstance(event, str):
        raise ProtocolError("message has no 'event' string")
    decoder = _DECODERS.get(event)
    if decoder is None:
        return UnknownEvent(event)
    try:
        return decoder(msg)
    except KeyError as exc:
        raise ProtocolError(f"{event} event missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"{event} event has a bad field: {exc}") from None


def _seq(msg: dict[str, Any]) -> int:
    return int(msg["sequenceNumber"])


def _connected(msg: dict[str, Any]) -> StreamConnected:
    return StreamConnected(str(msg.get("protocol", "")), str(msg.get("version", "")))


def _start(msg: dict[str, Any]) -> StreamStarted:
    start = msg["start"]
    params = start.get("customParameters") or {}
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise ValueError("customParameters must map names to strings")
    fmt = start.get("mediaFormat") or {}
    encoding = str(fmt.get("encoding", "audio/x-mulaw"))
    rate = int(fmt.get("sampleRate", 8000))
    channels = int(fmt.get("channels", 1))
    if encoding != "audio/x-mulaw" or rate != 8000 or channels != 1:
        raise ValueError(f"unsupported media format {encoding} {rate} Hz x{channels}")
    stream_sid = start.get("streamSid") or msg["streamSid"]
    call_sid = start["callSid"]
    if not (isinstance(stream_sid, str) and _SID.fullmatch(stream_sid)):
        raise ValueError("streamSid must be 1-64 letters, digits, '-' or '_'")
    if not (isinstance(call_sid, str) and _SID.fullmatch(call_sid)):
        raise ValueError("callSid must be 1-64 letters, digits, '-' or '_'")
    return StreamStarted(
        stream_sid=stream_sid,
        call_sid=call_sid,
        account_sid=str(start.get("accountSid", "")),
        tracks=tuple(start.get("tracks") or ("inbound",)),
        custom_parameters=dict(params),
        encoding=encoding,
        sample_rate=rate,
        channels=channels,
        sequence_number=_seq(msg),
    )


def _dtmf(msg: dict[str, Any]) -> DtmfReceived:
    digit = msg["dtmf"]["digit"]
    if not isinstance(digit, str) or len(digit) != 1 or digit not in "0123456789*#ABCD":
        raise ValueError(f"invalid DTMF digit {digit!r}")
    return DtmfReceived(digit, _seq(msg))


def _mark(msg: dict[str, Any]) -> MarkReached:
    name = msg["mark"]["name"]
    if not isinstance(name, str):
        raise ValueError("mark name must be a string")
    return MarkReached(name, _seq(msg))


def _stop(msg: dict[str, Any]) -> StreamStopped:
    return StreamStopped(_seq(msg))


_DECODERS: dict[str, Callable[[dict[str, Any]], InboundEvent]] = {
    "connected": _connected,
    "start": _start,
    "dtmf": _dtmf,
    "mark": _mark,
    "stop": _stop,
}


def encode_media(stream_sid: str, ulaw: bytes) -> str:
    """Encode an outbound ``media`` message (the hot path: plain formatting, no JSON lib)."""
    payload = binascii.b2a_base64(ulaw, newline=False).decode("ascii")
    return '{"event":"media","streamSid":"%s","media":{"payload":"%s"}}' % (stream_sid, payload)


def encode_mark(stream_sid: str, name: str) -> str:
    """Encode an outbound ``mark``; Twilio echoes it when the audio before it has played."""
    if len(name) > MAX_MARK_NAME:
        raise ValueError(f"mark name longer than {MAX_MARK_NAME} characters")
    return orjson.dumps(
        {"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}
    ).decode()


def encode_clear(stream_sid: str) -> str:
    """Encode ``clear``: Twilio drops its buffered audio and echoes every pending mark."""
    return '{"event":"clear","streamSid":"%s"}' % stream_sid


def encode(command: Command, stream_sid: str) -> str:
    """Encode any outbound command that maps to one Twilio message.

    Raises:
        ValueError: for ``HangUp``, which is a socket close, not a message.
    """
    if isinstance(command, SendAudio):
        return encode_media(stream_sid, command.ulaw)
    if isinstance(command, SendMark):
        return encode_mark(stream_sid, command.name)
    if isinstance(command, ClearPlayback):
        return encode_clear(stream_sid)
    if isinstance(command, HangUp):
        raise ValueError("HangUp is not a Twilio message: close the WebSocket instead")
    raise TypeError(f"not a command: {command!r}")
