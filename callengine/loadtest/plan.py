"""Turn a session into pre-built wire frames (pure; no trio).

Everything expensive happens here, once per session and before any call starts: JSON
serialisation of every inbound message, base64 decoding for the voiced/onset flags, WebSocket
header tables. Media and DTMF messages become :class:`Template` byte pieces *shared by all calls*
replaying the session (memory stays flat with the number of calls); at send time only the
per-call ``streamSid`` and the running ``sequenceNumber`` digits are spliced in with one
``bytes.join`` — no JSON building, no masking work (zero key).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import orjson

from callengine.loadtest.audio import VOICED_RMS, frame_rms, onset_flags
from callengine.loadtest.session import FRAME_MS, Session
from callengine.loadtest.wsframes import client_frame, text_frame_header

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "KIND_DTMF",
    "KIND_MEDIA",
    "CallIds",
    "SessionPlan",
    "Step",
    "Template",
    "build_plan",
    "make_template",
]

KIND_MEDIA: Final = 0
KIND_DTMF: Final = 1
_SEQ: Final = b"@@SEQ@@"  # '@' is outside the base64 alphabet, so it cannot collide
_SID: Final = b"@@SID@@"
_SLOT_SEQ: Final = 0
_SLOT_SID: Final = 1


@dataclass(frozen=True, slots=True)
class CallIds:
    """The identifiers one replayed call uses instead of the recorded ones."""

    stream_sid: str
    call_sid: str
    account_sid: str


@dataclass(frozen=True, slots=True)
class Template:
    """A serialised message split around its ``sequenceNumber`` and ``streamSid`` values.

    Attributes:
        parts: Byte pieces; ``len(parts) == len(slots) + 1``.
        slots: What goes between consecutive parts (0 = sequence digits, 1 = stream SID).
        fixed_len: ``sum(len(p) for p in parts)``.
    """

    parts: tuple[bytes, ...]
    slots: tuple[int, ...]
    fixed_len: int

    def frame(self, seq: bytes, sid: bytes) -> bytes:
        """Return the complete masked text frame for this message."""
        parts = self.parts
        if self.slots == (0, 1):
            body_len = self.fixed_len + len(seq) + len(sid)
            return b"".join((text_frame_header(body_len), parts[0], seq, parts[1], sid, parts[2]))
        pieces = [parts[0]]
        length = self.fixed_len
        for slot, part in zip(self.slots, parts[1:], strict=True):
            value = seq if slot == _SLOT_SEQ else sid
            length += len(value)
            pieces.append(value)
            pieces.append(part)
        return text_frame_header(length) + b"".join(pieces)


def make_template(msg: Mapping[str, Any]) -> Template:
    """Serialise ``msg`` with placeholders for ``sequenceNumber`` and top-level ``streamSid``."""
    body = dict(msg)
    if "sequenceNumber" in body or body.get("event") != "connected":
        body["sequenceNumber"] = _SEQ.decode()
    if "streamSid" in body or body.get("event") != "connected":
        body["streamSid"] = _SID.decode()
    raw = orjson.dumps(body)
    found = sorted((raw.find(p), slot, p) for slot, p in ((_SLOT_SEQ, _SEQ), (_SLOT_SID, _SID)) if raw.find(p) >= 0)
    parts: list[bytes] = []
    slots: list[int] = []
    pos = 0
    for at, slot, placeholder in found:
        parts.append(raw[pos:at])
        slots.append(slot)
        pos = at + len(placeholder)
    parts.append(raw[pos:])
    return Template(tuple(parts), tuple(slots), sum(len(p) for p in parts))


class Step(NamedTuple):
    """One inbound message scheduled at ``offset_s`` after ``start`` was sent."""

    offset_s: float
    kind: int
    template: Template
    voiced: bool
    onset: bool


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """Everything needed to replay one session, shared by all calls that replay it.

    Attributes:
        name: Session name.
        steps: Media/DTMF messages in send order (recorded marks are dropped: the harness
            generates mark echoes itself).
        stop_offset_s: When ``stop`` is sent, relative to ``start``.
        start_msg: The recorded (or default) ``start`` message, rewritten per call.
        custom_parameters: Parameters from the session header.
        connected_frame: The ``connected`` frame (identical for every call).
        media_frames: Number of media steps.
        voiced_frames: Number of media steps flagged voiced.
    """

    name: str
    steps: tuple[Step, ...]
    stop_offset_s: float
    start_msg: Mapping[str, Any]
    custom_parameters: Mapping[str, str]
    connected_frame: bytes
    media_frames: int
    voiced_frames: int

    def start_frame(self, ids: CallIds, custom_parameters: Mapping[str, str]) -> bytes:
        """Build this call's ``start`` frame (sequenceNumber "1")."""
        msg = dict(self.start_msg)
        start = dict(msg.get("start") or {})
        start.update(streamSid=ids.stream_sid, callSid=ids.call_sid, accountSid=ids.account_sid)
        start["customParameters"] = dict(custom_parameters)
        start.setdefault("tracks", ["inbound"])
        start.setdefault("mediaFormat", {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1})
        msg.update(event="start", sequenceNumber="1", start=start, streamSid=ids.stream_sid)
        return client_frame(orjson.dumps(msg))

    def stop_template(self, ids: CallIds) -> Template:
        """Build this call's ``stop`` template (sequence number filled at send time)."""
        return make_template(
            {
                "event": "stop",
                "sequenceNumber": "",
                "streamSid": "",
                "stop": {"accountSid": ids.account_sid, "callSid": ids.call_sid},
            }
        )

    def duration_s(self) -> float:
        """Stream length from ``start`` to ``stop``."""
        return self.stop_offset_s


def build_plan(session: Session, *, voiced_rms: int = VOICED_RMS) -> SessionPlan:
    """Pre-build every frame of ``session``.

    Media steps are scheduled at their ``media.timestamp`` (absolute offsets from ``start``, so a
    late send never shifts later frames); DTMF at its ``t_ms`` relative to the recorded
    ``start``. Each media step carries a voiced flag (RMS of the decoded PCM above
    ``voiced_rms``) and an onset flag (first voiced frame after ≥ 10 unvoiced ones).
    """
    start_msg: Mapping[str, Any] = {}
    start_t = 0.0
    stop_t: float | None = None
    for ev in session.events:
        if ev.event == "start" and not start_msg:
            start_msg, start_t = ev.msg, ev.t_ms
        elif ev.event == "stop":
            stop_t = ev.t_ms
    raw: list[tuple[float, int, int, Template, bool]] = []
    for idx, ev in enumerate(session.events):
        if ev.event == "media":
            media = ev.msg["media"]
            ts = media.get("timestamp")
            offset_ms = float(ts) if ts is not None else ev.t_ms - start_t
            voiced = frame_rms(base64.b64decode(media["payload"])) > voiced_rms
            raw.append((offset_ms / 1000.0, idx, KIND_MEDIA, make_template(ev.msg), voiced))
        elif ev.event == "dtmf":
            raw.append((max(0.0, ev.t_ms - start_t) / 1000.0, idx, KIND_DTMF, make_template(ev.msg), False))
    raw.sort(key=lambda r: (r[0], r[1]))
    voiced_list = [r[4] for r in raw if r[2] == KIND_MEDIA]
    onsets = iter(onset_flags(voiced_list))
    steps = [
        Step(offset, kind, tpl, voiced, next(onsets) if kind == KIND_MEDIA else False)
        for offset, _, kind, tpl, voiced in raw
    ]
    last = max((s.offset_s + (FRAME_MS / 1000.0 if s.kind == KIND_MEDIA else 0.0) for s in steps), default=0.0)
    stop_offset = max(last, (stop_t - start_t) / 1000.0 if stop_t is not None else 0.0)
    return SessionPlan(
        name=session.name,
        steps=tuple(steps),
        stop_offset_s=stop_offset,
        start_msg=start_msg,
        custom_parameters=dict(session.custom_parameters),
        connected_frame=client_frame(b'{"event":"connected","protocol":"Call","version":"1.0.0"}'),
        media_frames=len(voiced_list),
        voiced_frames=sum(voiced_list),
    )
