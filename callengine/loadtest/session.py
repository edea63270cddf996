"""Recorded Twilio Media Streams sessions (JSONL), shared with the engine's capture feature.

Format, one JSON object per line::

    {"kind":"session","version":1,"name":"…","description":"…","custom_parameters":{…}}
    {"t_ms": 0.0, "msg": {"event":"connected","protocol":"Call","version":"1.0.0"}}
    {"t_ms": 1.2, "msg": {"event":"start","sequenceNumber":"1","start":{…},"streamSid":"MZ…"}}
    {"t_ms": 21.5, "msg": {"event":"media","sequenceNumber":"2","media":{…},"streamSid":"MZ…"}}

``t_ms`` is milliseconds since the WebSocket opened; ``msg`` is one Twilio→server message
exactly as Twilio sends it (https://www.twilio.com/docs/voice/media-streams/websocket-messages).
This module is pure: no trio, no sockets.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson

from callengine.loadtest.errors import SessionFormatError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "FRAME_BYTES",
    "FRAME_MS",
    "SESSION_KIND",
    "SESSION_VERSION",
    "TWILIO_EVENTS",
    "Session",
    "SessionEvent",
    "build_session",
    "dump_session",
    "load_session",
    "parse_session",
]

SESSION_KIND: Final = "session"
SESSION_VERSION: Final = 1
# Twilio's observed cadence: 20 ms of 8 kHz μ-law = 160 bytes per media message.
FRAME_MS: Final = 20
FRAME_BYTES: Final = 160
# The only events Twilio sends to the server on a bidirectional stream.
TWILIO_EVENTS: Final = frozenset({"connected", "start", "media", "dtmf", "mark", "stop"})

# Placeholder identifiers used when composing sessions; replay rewrites them per call anyway.
_PLACEHOLDER_STREAM_SID: Final = "MZ" + "0" * 32
_PLACEHOLDER_CALL_SID: Final = "CA" + "0" * 32
_PLACEHOLDER_ACCOUNT_SID: Final = "AC" + "0" * 32


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """One recorded Twilio→server message.

    Attributes:
        t_ms: Milliseconds since the WebSocket opened.
        msg: The message object exactly as Twilio sent it.
    """

    t_ms: float
    msg: Mapping[str, Any]

    @property
    def event(self) -> str:
        """The message's ``event`` discriminator."""
        return str(self.msg.get("event", ""))


@dataclass(frozen=True, slots=True)
class Session:
    """A recorded (or synthetic) call from Twilio's side.

    Attributes:
        name: Short identifier, e.g. the file stem.
        description: Human description of what the caller does.
        custom_parameters: ``<Parameter>`` values the call was started with.
        events: The messages in recorded order.
    """

    name: str
    description: str
    custom_parameters: Mapping[str, str] = field(default_factory=dict)
    events: tuple[SessionEvent, ...] = ()

    def media_count(self) -> int:
        """Return how many ``media`` messages the session holds."""
        return sum(1 for e in self.events if e.event == "media")

    def duration_ms(self) -> float:
        """Return the session length: the last message time or the end of the last frame."""
        end = 0.0
        for ev in self.events:
            end = max(end, ev.t_ms)
            if ev.event == "media":
                media = ev.msg.get("media", {})
                end = max(end, float(media.get("timestamp", 0)) + FRAME_MS)
        return end


def parse_session(lines: Iterable[str | bytes], *, path: str | None = None) -> Session:
    """Parse session JSONL lines.

    Args:
        lines: The file's lines; blank lines are ignored.
        path: Used in error messages only.

    Returns:
        The parsed session.

    Raises:
        SessionFormatError: On a bad header, bad JSON or a message that is not a Twilio event.
    """
    header: dict[str, Any] | None = None
    events: list[SessionEvent] = []
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise SessionFormatError(f"invalid JSON: {exc}", path=path, line=lineno) from exc
        if not isinstance(obj, dict):
            raise SessionFormatError("each line must be a JSON object", path=path, line=lineno)
        if header is None:
            if obj.get("kind") != SESSION_KIND:
                raise SessionFormatError('first line must be {"kind":"session",…}', path=path, line=lineno)
            if obj.get("version") != SESSION_VERSION:
                raise SessionFormatError(f"unsupported version {obj.get('version')!r}", path=path, line=lineno)
            header = obj
            continue
        msg = obj.get("msg")
        t_ms = obj.get("t_ms")
        if not isinstance(msg, dict) or not isinstance(t_ms, (int, float)):
            raise SessionFormatError('expected {"t_ms": number, "msg": {…}}', path=path, line=lineno)
        if msg.get("event") not in TWILIO_EVENTS:
            raise SessionFormatError(f"not a Twilio→server event: {msg.get('event')!r}", path=path, line=lineno)
        if msg["event"] == "media" and not isinstance(msg.get("media", {}).get("payload"), str):
            raise SessionFormatError("media message without a payload string", path=path, line=lineno)
        events.append(SessionEvent(float(t_ms), msg))
    if header is None:
        raise SessionFormatError("empty session", path=path)
    params = header.get("custom_parameters") or {}
    if not isinstance(params, dict):
        raise SessionFormatError("custom_parameters must be an object", path=path, line=1)
    return Session(
        name=str(header.get("name") or (Path(path).stem if path else "session")),
        description=str(header.get("description", "")),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        events=tuple(events),
    )


def load_session(path: str | Path) -> Session:
    """Read and parse a session file.

    Raises:
        SessionFormatError: If the file is malformed.
        OSError: If it cannot be read.
    """
    p = Path(path)
    with p.open("rb") as fh:
        return parse_session(fh, path=str(p))


def dump_session(session: Session) -> bytes:
    """Serialise ``session`` to JSONL bytes (header first, one message per line)."""
    header = {
        "kind": SESSION_KIND,
        "version": SESSION_VERSION,
        "name": session.name,
        "description": session.description,
        "custom_parameters": dict(session.custom_parameters),
    }
    out = [orjson.dumps(header)]
    out.extend(orjson.dumps({"t_ms": round(ev.t_ms, 3), "msg": ev.msg}) for ev in session.events)
    return b"\n".join(out) + b"\n"


def build_session(
    name: str,
    description: str,
    frames: Sequence[bytes],
    *,
    dtmf: Sequence[tuple[float, str]] = (),
    marks: Sequence[tuple[float, str]] = (),
    custom_parameters: Mapping[str, str] | None = None,
    start_delay_ms: float = 0.0,
    jitter_ms: float = 0.0,
    rng: random.Random | None = None,
    stream_sid: str = _PLACEHOLDER_STREAM_SID,
    call_sid: str = _PLACEHOLDER_CALL_SID,
    account_sid: str = _PLACEHOLDER_ACCOUNT_SID,
) -> Session:
    """Compose a Twilio-shaped session from 20 ms μ-law frames.

    Produces ``connected``, ``start``, one ``media`` per frame (timestamps 0, 20, 40 …),
    ``dtmf``/``mark`` messages at the given stream times and a final ``stop``, with one
    ``sequenceNumber`` counter from "1" at ``start``, as Twilio numbers them.

    Args:
        name: Session name.
        description: What happens in the call.
        frames: 160-byte μ-law frames, in order.
        dtmf: ``(stream_ms, digit)`` pairs.
        marks: ``(stream_ms, name)`` pairs: echoes of marks the server had sent.
        custom_parameters: ``<Parameter>`` values for the header and ``start``.
        start_delay_ms: ``t_ms`` of ``start`` (time from WebSocket open).
        jitter_ms: Uniform arrival jitter added to each message's ``t_ms`` (realism only).
        rng: Random source for the jitter.
        stream_sid: ``streamSid`` to record (replay rewrites it per call).
        call_sid: ``callSid`` to record.
        account_sid: ``accountSid`` to record.

    Returns:
        The composed session.
    """
    rng = rng or random.Random(0)
    params = dict(custom_parameters or {})
    sid = stream_sid
    timed: list[tuple[float, int, dict[str, Any]]] = []
    for k, frame in enumerate(frames):
        media = {
            "track": "inbound",
            "chunk": str(k + 1),
            "timestamp": str(k * FRAME_MS),
            "payload": base64.b64encode(frame).decode("ascii"),
        }
        timed.append((k * FRAME_MS, len(timed), {"event": "media", "media": media}))
    for at, digit in dtmf:
        timed.append((at, len(timed), {"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}}))
    for at, mark_name in marks:
        timed.append((at, len(timed), {"event": "mark", "mark": {"name": mark_name}}))
    timed.sort(key=lambda item: (item[0], item[1]))
    start_msg = {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": account_sid,
            "streamSid": sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "customParameters": params,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
        "streamSid": sid,
    }
    events = [
        SessionEvent(0.0, {"event": "connected", "protocol": "Call", "version": "1.0.0"}),
        SessionEvent(start_delay_ms, start_msg),
    ]
    seq = 1
    for at, _, body in timed:
        seq += 1
        msg = {"event": body["event"], "sequenceNumber": str(seq)}
        msg.update({k: v for k, v in body.items() if k != "event"})
        msg["streamSid"] = sid
        t_ms = round(start_delay_ms + at + (rng.uniform(0.0, jitter_ms) if jitter_ms else 0.0), 1)
        events.append(SessionEvent(t_ms, msg))
    end_ms = start_delay_ms + len(frames) * FRAME_MS
    stop_msg = {
        "event": "stop",
        "sequenceNumber": str(seq + 1),
        "streamSid": sid,
        "stop": {"accountSid": account_sid, "callSid": call_sid},
    }
    events.append(SessionEvent(end_ms, stop_msg))
    return Session(name, description, params, tuple(events))
