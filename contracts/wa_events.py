"""The WhatsApp gateway contract, read on the Python side (docs/ARCHITECTURE.md §7).

The Node gateway (``baileys/``) and the API agree on versioned JSON (``"version": 1``):

* the **event envelope** the gateway POSTs to ``/internal/whatsapp/events``::

      {"version": 1, "event_id": "<uuid>", "shard_id": 1, "business_id": "42", "epoch": 3,
       "seq": 17, "type": "message.inbound", "at": "<iso>", "data": {…}}

  with ``type`` one of ``message.inbound``, ``message.status``, ``session.state``,
  ``session.limited`` (their ``data`` below);
* the **session object** (``GET/POST /sessions/{id}…`` and ``session.state``'s data);
* the **send request/response** of ``POST /sessions/{id}/messages``.

Pure (no I/O). Readers are strict: a payload the API cannot act on raises ``ContractError``
naming *every* problem at once (so the gateway's dead file says what to fix); unknown keys are
ignored (a writer may add fields); a **newer** ``version`` is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts.jobs import PermanentJobError

__all__ = [
    "EVENT_TYPES",
    "MESSAGE_STATUSES",
    "SESSION_STATES",
    "STATUS_RANK",
    "VERSION",
    "ContractError",
    "Event",
    "Inbound",
    "Limited",
    "Media",
    "Me",
    "SendRequest",
    "SendResult",
    "SessionInfo",
    "StatusUpdate",
    "read_event",
    "read_send_request",
    "read_send_result",
    "read_session",
]

VERSION: Final = 1
SESSION_STATES: Final = ("stopped", "starting", "qr", "connected", "logged_out", "failed")
MESSAGE_STATUSES: Final = ("server_ack", "delivered", "read", "failed")
# A message's status only moves up this ladder (a late "delivered" never undoes "read").
STATUS_RANK: Final = {"pending": 0, "sent": 1, "server_ack": 2, "delivered": 3, "read": 4}
EVENT_TYPES: Final = ("message.inbound", "message.status", "session.state", "session.limited")
MAX_IDEMPOTENCY_KEY: Final = 160
MAX_SAFE_INTEGER: Final = 2**53 - 1  # the gateway is JavaScript: its numbers are exact up to here
MAX_ID: Final = 2**31 - 1  # business ids and shard numbers are 32-bit integer columns
MAX_MESSAGE_ID: Final = 255  # message.external_id
MAX_JID: Final = 128  # a LID or a chat JID
FREE_TEXT: Final = frozenset({"text", "caption", "push_name", "error", "qr"})  # what people typed: NULs are dropped by the API


class ContractError(PermanentJobError, ValueError):
    """A gateway payload that breaks the contract; ``problems`` lists each one."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"invalid {what}: " + "; ".join(self.problems))


class _Fields:
    """Reads fields of one JSON object, collecting problems instead of raising."""

    def __init__(self, data: Mapping[str, Any], prefix: str, problems: list[str]) -> None:
        self.data, self.prefix, self.problems = data, prefix, problems

    def _bad(self, name: str, want: str) -> None:
        where = f"{self.prefix}{name}"
        if name not in self.data:
            self.problems.append(f"missing {where}")
        else:
            self.problems.append(f"{where} must be {want}, got {_kind(self.data[name])}")

    def text(self, name: str, *, empty: bool = False, max_len: int | None = None) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and (empty or value):
            return self._bounded(name, value, max_len) or ""
        self._bad(name, "a string" if empty else "a non-empty string")
        return ""

    def opt_text(self, name: str, *, max_len: int | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return self._bounded(name, value, max_len)
        self._bad(name, "a string or null")
        return None

    def _bounded(self, name: str, value: str | None, max_len: int | None) -> str | None:
        if value is not None and "\x00" in value and name not in FREE_TEXT:
            self.problems.append(f"{self.prefix}{name} contains a NUL character")
            return value.replace("\x00", "")
        if value is not None and max_len is not None and len(value) > max_len:
            self.problems.append(f"{self.prefix}{name} is longer than {max_len} characters")
            return value[:max_len]
        return value

    def integer(self, name: str, *, minimum: int = 0, maximum: int = MAX_SAFE_INTEGER) -> int:
        value = self.data.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum:
            return value
        self._bad(name, f"a whole number from {minimum} to {maximum}")
        return minimum

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and value in allowed:
            return value
        self._bad(name, "one of " + ", ".join(allowed))
        return allowed[0]

    def phone(self, name: str, *, optional: bool) -> str | None:
        value = self.data.get(name)
        if value is None and optional:
            return None
        if isinstance(value, str) and _is_e164(value):
            return value
        self._bad(name, "an E.164 phone (+ and 8-15 digits)" + (" or null" if optional else ""))
        return None

    def digits(self, name: str) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10 and 1 <= int(value) <= MAX_ID:
            return value
        self._bad(name, f"a string of digits from 1 to {MAX_ID}")
        return "0"

    def obj(self, name: str, *, optional: bool) -> Mapping[str, Any] | None:
        value = self.data.get(name)
        if value is None and optional:
            return None
        if isinstance(value, Mapping):
            return value
        self._bad(name, "an object" + (" or null" if optional else ""))
        return None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_e164(value: str) -> bool:
    return value.startswith("+") and value[1:].isascii() and value[1:].isdigit() and 8 <= len(value) - 1 <= 15


def _version(data: Mapping[str, Any], what: str, problems: list[str]) -> int:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"version must be a whole number >= 1, got {version!r}")
        return VERSION
    if version > VERSION:
        raise ContractError(what, [f"version {version} is newer than this reader ({VERSION}): upgrade the API"])
    return version


def _object(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ContractError(what, [f"must be a JSON object, got {_kind(data)}"])
    return data


# --- the session object ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Me:
    """The WhatsApp account a connected session is logged in as."""

    phone: str | None
    lid: str | None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    business_id: str
    shard_id: int
    state: str
    reason: str | None
    qr: str | None
    me: Me | None
    updated_at: str
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version, "business_id": self.business_id, "shard_id": self.shard_id,
            "state": self.state, "reason": self.reason, "qr": self.qr,
            "me": None if self.me is None else {"phone": self.me.phone, "lid": self.me.lid},
            "updated_at": self.updated_at,
        }


def _session(data: Mapping[str, Any], prefix: str, problems: list[str]) -> SessionInfo:
    f = _Fields(data, prefix, problems)
    me = None
    raw_me = f.obj("me", optional=True)
    if raw_me is not None:
        mf = _Fields(raw_me, prefix + "me.", problems)
        me = Me(phone=mf.phone("phone", optional=True), lid=mf.opt_text("lid", max_len=MAX_JID))
    return SessionInfo(
        business_id=f.digits("business_id"), shard_id=f.integer("shard_id", minimum=1, maximum=MAX_ID),
        state=f.choice("state", SESSION_STATES), reason=f.opt_text("reason", max_len=64), qr=f.opt_text("qr"),
        me=me, updated_at=f.text("updated_at", max_len=40),
    )


def read_session(data: object) -> SessionInfo:
    """The session object a gateway answered with.

    Raises:
        ContractError: naming every problem, or a newer version.
    """
    obj = _object(data, "session")
    problems: list[str] = []
    version = _version(obj, "session", problems)
    session = _session(obj, "", problems)
    if problems:
        raise ContractError("session", problems)
    return SessionInfo(**{**_fields_of(session), "version": version})


def _fields_of(session: SessionInfo) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SessionInfo.__slots__}


# --- events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Media:
    mime: str
    caption: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """``message.inbound``: a message someone sent to the business. ``from_phone`` is null when
    WhatsApp only gave a LID (``from_lid``) for the sender."""

    message_id: str
    chat: str
    from_phone: str | None
    from_lid: str | None
    push_name: str | None
    text: str
    media: Media | None
    timestamp: str


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """``message.status``: what became of a message the business sent."""

    message_id: str
    status: str
    error: str | None


@dataclass(frozen=True, slots=True)
class Limited:
    """``session.limited``: WhatsApp's reach-out time-lock (463) is on until ``until``."""

    until: str
    reason: str


EventData = Inbound | StatusUpdate | SessionInfo | Limited


@dataclass(frozen=True, slots=True)
class Event:
    """The envelope; ``data`` is typed by ``type``."""

    event_id: str
    shard_id: int
    business_id: str
    epoch: int
    seq: int
    type: str
    at: str
    data: EventData
    version: int = VERSION


def read_event(data: object) -> Event:
    """An event as the gateway POSTed it.

    Raises:
        ContractError: naming every problem of the envelope and its data, or a newer version.
    """
    obj = _object(data, "event")
    problems: list[str] = []
    version = _version(obj, "event", problems)
    f = _Fields(obj, "", problems)
    event_id = f.text("event_id", max_len=64)
    shard_id = f.integer("shard_id", minimum=1, maximum=MAX_ID)
    business_id = f.digits("business_id")
    epoch = f.integer("epoch")
    seq = f.integer("seq")
    kind = f.choice("type", EVENT_TYPES)
    at = f.text("at", max_len=40)
    body = f.obj("data", optional=False)
    typed: EventData | None = None
    if body is not None and obj.get("type") in EVENT_TYPES:  # an unknown type is already named
        typed = _data(kind, body, problems)
    if problems or typed is None:
        raise ContractError("event", problems or ["data could not be read"])
    return Event(event_id, shard_id, business_id, epoch, seq, kind, at, typed, version)


def _data(kind: str, body: Mapping[str, Any], problems: list[str]) -> EventData:
    f = _Fields(body, "data.", problems)
    if kind == "message.inbound":
        media = None
        raw_media = f.obj("media", optional=True)
        if raw_media is not None:
            mf = _Fields(raw_media, "data.media.", problems)
            media = Media(mime=mf.text("mime"), caption=mf.opt_text("caption") or "")
        inbound = Inbound(
            message_id=f.text("message_id", max_len=MAX_MESSAGE_ID), chat=f.text("chat", max_len=MAX_JID),
            from_phone=f.phone("from_phone", optional=True), from_lid=f.opt_text("from_lid", max_len=MAX_JID),
            push_name=f.opt_text("push_name"), text=f.text("text", empty=True), media=media,
            timestamp=f.text("timestamp", max_len=40),
        )
        if inbound.from_phone is None and not inbound.from_lid and body.get("from_phone") is None:
            problems.append("data.from_phone and data.from_lid are both null: the sender is unknown")
        return inbound
    if kind == "message.status":
        return StatusUpdate(
            message_id=f.text("message_id", max_len=MAX_MESSAGE_ID), status=f.choice("status", MESSAGE_STATUSES),
            error=f.opt_text("error"),
        )
    if kind == "session.limited":
        return Limited(until=f.text("until", max_len=40), reason=f.text("reason", max_len=64))
    return _session(body, "data.", problems)  # session.state (the session object, qr left out)


# --- sending ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendRequest:
    """The body of ``POST /sessions/{id}/messages`` (text only from the API for now)."""

    to: str
    text: str
    idempotency_key: str
    media: Mapping[str, Any] | None = None
    version: int = VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version, "to": self.to, "text": self.text,
            "media": None if self.media is None else dict(self.media), "idempotency_key": self.idempotency_key,
        }


def read_send_request(data: object) -> SendRequest:
    """Check a send body (the gateway's own check, mirrored for tests and fixtures).

    Raises:
        ContractError: naming every problem, or a newer version.
    """
    obj = _object(data, "send request")
    problems: list[str] = []
    version = _version(obj, "send request", problems)
    f = _Fields(obj, "", problems)
    to = f.phone("to", optional=False) or ""
    text = f.text("text", empty=True)
    key = f.text("idempotency_key", max_len=MAX_IDEMPOTENCY_KEY)
    media = f.obj("media", optional=True)
    if not text and media is None and "text" in obj:
        problems.append("a message needs text or media")
    if problems:
        raise ContractError("send request", problems)
    return SendRequest(to, text, key, media, version)


@dataclass(frozen=True, slots=True)
class SendResult:
    """The gateway's 200 answer to a send: ``duplicate`` when the idempotency key was seen."""

    message_id: str
    status: str
    duplicate: bool


def read_send_result(data: object) -> SendResult:
    """Raises:
        ContractError: naming every problem."""
    obj = _object(data, "send result")
    problems: list[str] = []
    f = _Fields(obj, "", problems)
    message_id = f.text("message_id", max_len=MAX_MESSAGE_ID)
    status = f.text("status", max_len=32)
    duplicate = obj.get("duplicate", False)
    if not isinstance(duplicate, bool):
        problems.append(f"duplicate must be true or false, got {_kind(duplicate)}")
        duplicate = False
    if problems:
        raise ContractError("send result", problems)
    return SendResult(message_id, status, duplicate)
