"""Queue payloads: the one argument each job takes, typed and versioned.

An enqueuer builds the payload and passes ``to_dict()``; the job reads it back with the
matching ``read_*`` function, which raises ``PayloadError`` (a ``PermanentJobError``: the job
is dead-lettered at once, never retried) naming every problem. JSON objects::

    {"version": 1, "call_sid": "CA…"}                 # PROCESS_CALL
    {"version": 1, "delivery_id": 17}                 # DELIVER_WEBHOOK
    {"version": 1, "account_id": 3}                   # SYNC_EMAIL_ACCOUNT
    {"version": 1, "attachment_id": 9}                # MAKE_THUMBNAIL
    {"version": 1, "broadcast_id": 4}                 # RUN_BROADCAST

Compatibility rules as for the call record (``contracts.call_record``): unknown keys are
ignored, a newer version is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.jobs import PermanentJobError

__all__ = [
    "PAYLOAD_VERSION",
    "AccountRef",
    "AttachmentRef",
    "BroadcastRef",
    "CallRef",
    "DeliveryRef",
    "PayloadError",
    "read_account_ref",
    "read_attachment_ref",
    "read_broadcast_ref",
    "read_call_ref",
    "read_delivery_ref",
]

PAYLOAD_VERSION = 1


class PayloadError(PermanentJobError, ValueError):
    """A job payload is not usable; retrying cannot fix it."""


@dataclass(frozen=True, slots=True)
class CallRef:
    call_sid: str
    version: int = PAYLOAD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "call_sid": self.call_sid}


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    delivery_id: int
    version: int = PAYLOAD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "delivery_id": self.delivery_id}


@dataclass(frozen=True, slots=True)
class AccountRef:
    account_id: int
    version: int = PAYLOAD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "account_id": self.account_id}


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    attachment_id: int
    version: int = PAYLOAD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "attachment_id": self.attachment_id}


@dataclass(frozen=True, slots=True)
class BroadcastRef:
    broadcast_id: int
    version: int = PAYLOAD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "broadcast_id": self.broadcast_id}


def _checked(data: object, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise PayloadError(f"{kind} payload: expected a JSON object, got {type(data).__name__}")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise PayloadError(f"{kind} payload: version: expected a positive integer")
    if version > PAYLOAD_VERSION:
        raise PayloadError(
            f"{kind} payload: version {version} is newer than this worker reads ({PAYLOAD_VERSION})"
        )
    return data


def _positive_id(data: Mapping[str, Any], kind: str, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PayloadError(f"{kind} payload: {name}: expected a positive integer")
    return value


def read_call_ref(data: object) -> CallRef:
    payload = _checked(data, "process_call")
    call_sid = payload.get("call_sid")
    if not isinstance(call_sid, str) or not call_sid.strip():
        raise PayloadError("process_call payload: call_sid: expected a non-empty string")
    return CallRef(call_sid=call_sid)


def read_delivery_ref(data: object) -> DeliveryRef:
    return DeliveryRef(delivery_id=_positive_id(_checked(data, "deliver_webhook"), "deliver_webhook", "delivery_id"))


def read_account_ref(data: object) -> AccountRef:
    return AccountRef(account_id=_positive_id(_checked(data, "sync_email_account"), "sync_email_account", "account_id"))


def read_attachment_ref(data: object) -> AttachmentRef:
    return AttachmentRef(
        attachment_id=_positive_id(_checked(data, "make_thumbnail"), "make_thumbnail", "attachment_id")
    )


def read_broadcast_ref(data: object) -> BroadcastRef:
    return BroadcastRef(broadcast_id=_positive_id(_checked(data, "run_broadcast"), "run_broadcast", "broadcast_id"))
