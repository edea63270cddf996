"""The call record: what the calls service reports when a call ends.

The call's actor builds a ``CallRecord`` and hands ``to_dict()`` to the RQ job
``jobs.calls.finalize_call`` (``contracts.jobs.FINALIZE_CALL``; spooled to disk while Redis is
down); the job reads it back with ``read_record`` and stores the call and its lead. JSON
object, version 2::

    {
      "version": 2,
      "call_sid": "CA…", "stream_sid": "MZ…", "account_sid": "AC…" | null,
      "business_id": "42",                    # as in the stream's <Parameter>
      "direction": "inbound",                 # inbound | outbound
      "from": "+15551230000" | null, "to": "+15550100000" | null,
      "started_at": "2026-11-26T10:00:00.000+00:00", "ended_at": "…",   # ISO 8601, UTC
      "duration_seconds": 61.2,
      "end_reason": "stopped",                # why the call ended (callengine's EndReason)
      "close_code": 1000 | null,
      "dtmf": [{"digit": "3", "at_ms": 5120}],
      "transcript": [{"role": "caller", "text": "…", …}],   # the brain's turns
      "brain": "receptionist",
      "brain_summary": {"lead": {"reason": "billing", …}, …},  # the brain's own summary
      "recording_path": "…" | null, "capture_path": "…" | null,
      "instance": "host-123",
      "metrics": {"frames_in": 3000, …},
      "test": false                           # a browser test call (/ws/browser): no lead
    }

Version 2 added ``test``. It is a version bump, not a silent addition, because its meaning
matters to the reader: a version-1 worker would ignore it and make a lead of the test call's
number. A version-1 record (no ``test``) is still read, as ``test: false``.

Compatibility rules: readers ignore unknown keys (a writer may add fields freely); writers bump
``version`` only for an incompatible change. The reader is strict about the fields a stored call
needs (``REQUIRED``: a record without them cannot be stored, so it raises ``RecordError``, a
permanent job failure) and lenient about the rest (a mistyped optional field becomes its
default and is reported). A record with a **newer** version is refused with ``RecordError``
rather than guessed at: the job fails and stays in RQ's failed registry, to be requeued once
the workers run the newer code. Deploy the workers before the calls service when the version
goes up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts._fields import read_object
from contracts.call_setup import Direction
from contracts.jobs import PermanentJobError

__all__ = ["RECORD_VERSION", "REQUIRED", "CallRecord", "DtmfPress", "RecordError", "read_record"]

RECORD_VERSION = 2

# The fields a stored call needs, and their JSON types.
REQUIRED: Mapping[str, type | tuple[type, ...]] = {
    "call_sid": str,
    "stream_sid": str,
    "business_id": str,
    "direction": str,
    "started_at": str,
    "ended_at": str,
    "duration_seconds": (int, float),
    "end_reason": str,
    "dtmf": list,
    "transcript": list,
}
_OPTIONAL_TEXT = ("account_sid", "from", "to", "brain", "recording_path", "capture_path", "instance")


class RecordError(PermanentJobError, ValueError):
    """A call record is not usable; retrying cannot fix it."""


@dataclass(frozen=True, slots=True)
class DtmfPress:
    """One key the caller pressed, ``at_ms`` after the stream started."""

    digit: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A finished call, as the calls service saw it."""

    call_sid: str
    stream_sid: str
    business_id: str
    direction: Direction
    started_at: str
    ended_at: str
    duration_seconds: float
    end_reason: str
    dtmf: tuple[DtmfPress, ...] = ()
    transcript: tuple[Mapping[str, Any], ...] = ()
    account_sid: str | None = None
    caller: str | None = None  # "from" in JSON
    called: str | None = None  # "to" in JSON
    close_code: int | None = None
    brain: str | None = None
    brain_summary: Mapping[str, Any] = field(default_factory=dict)
    recording_path: str | None = None
    capture_path: str | None = None
    instance: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    test: bool = False
    version: int = RECORD_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (keys as documented above)."""
        return {
            "version": self.version,
            "call_sid": self.call_sid,
            "stream_sid": self.stream_sid,
            "account_sid": self.account_sid,
            "business_id": self.business_id,
            "direction": self.direction.value,
            "from": self.caller,
            "to": self.called,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_seconds": self.duration_seconds,
            "end_reason": self.end_reason,
            "close_code": self.close_code,
            "dtmf": [{"digit": d.digit, "at_ms": d.at_ms} for d in self.dtmf],
            "transcript": [dict(turn) for turn in self.transcript],
            "brain": self.brain,
            "brain_summary": dict(self.brain_summary),
            "recording_path": self.recording_path,
            "capture_path": self.capture_path,
            "instance": self.instance,
            "metrics": dict(self.metrics),
            "test": self.test,
        }


def read_record(data: object) -> tuple[CallRecord, tuple[str, ...]]:
    """Check and type a record as it came off the queue (pure).

    Returns:
        The record, and the problems with optional fields (each replaced by its default).

    Raises:
        RecordError: naming every missing or mistyped required field, or a newer version.
    """
    if not isinstance(data, Mapping):
        raise RecordError(f"call record must be an object, got {type(data).__name__}")
    version = data.get("version", RECORD_VERSION)  # absent: written before versions existed
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"invalid call record: version {version!r} is not a whole number >= 1")
    if version > RECORD_VERSION:
        raise RecordError(
            f"call record version {version} is newer than this worker ({RECORD_VERSION}); "
            "requeue it once the workers are upgraded"
        )
    errors = []
    for name, kind in REQUIRED.items():
        if name not in data:
            errors.append(f"missing {name}")
        elif not isinstance(data[name], kind) or isinstance(data[name], bool):
            errors.append(f"{name} has type {type(data[name]).__name__}")
    if not errors and not data["call_sid"]:
        errors.append("call_sid is empty")
    if errors:
        raise RecordError("invalid call record: " + ", ".join(errors))
    problems: list[str] = []
    direction = data["direction"]
    if direction not in tuple(Direction):
        problems.append(f"direction {direction!r} read as inbound")
        direction = Direction.INBOUND.value
    text = {name: _optional_text(data, name, problems) for name in _OPTIONAL_TEXT}
    close_code = data.get("close_code")
    if close_code is not None and (not isinstance(close_code, int) or isinstance(close_code, bool)):
        problems.append("close_code: expected a whole number")
        close_code = None
    record = CallRecord(
        call_sid=data["call_sid"],
        stream_sid=data["stream_sid"],
        business_id=data["business_id"],
        direction=Direction(direction),
        started_at=data["started_at"],
        ended_at=data["ended_at"],
        duration_seconds=float(data["duration_seconds"]),
        end_reason=data["end_reason"],
        dtmf=_dtmf(data["dtmf"], problems),
        transcript=tuple(_objects(data["transcript"], "transcript", problems)),
        account_sid=text["account_sid"],
        caller=text["from"],
        called=text["to"],
        close_code=close_code,
        brain=text["brain"],
        brain_summary=read_object(data, "brain_summary", problems),
        recording_path=text["recording_path"],
        capture_path=text["capture_path"],
        instance=text["instance"],
        metrics=read_object(data, "metrics", problems),
        test=_test_flag(data, problems),
        version=version,
    )
    return record, tuple(problems)


def _test_flag(data: Mapping[str, Any], problems: list[str]) -> bool:
    value = data.get("test", False)
    if isinstance(value, bool):
        return value
    problems.append("test: expected true or false; read as true (never a lead from a doubtful call)")
    return True


def _optional_text(data: Mapping[str, Any], name: str, problems: list[str]) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value or None
    problems.append(f"{name}: expected a string or null")
    return None


def _objects(items: list[Any], name: str, problems: list[str]) -> list[dict[str, Any]]:
    kept = [dict(item) for item in items if isinstance(item, Mapping)]
    if len(kept) != len(items):
        problems.append(f"{name}: {len(items) - len(kept)} entries are not objects (dropped)")
    return kept


def _dtmf(items: list[Any], problems: list[str]) -> tuple[DtmfPress, ...]:
    presses = []
    for item in items:
        if isinstance(item, str) and len(item) == 1:  # a bare key, as older records had it
            presses.append(DtmfPress(item, 0))
        elif isinstance(item, Mapping) and isinstance(item.get("digit"), str):
            at_ms = item.get("at_ms")
            if not isinstance(at_ms, int) or isinstance(at_ms, bool):
                at_ms = 0
            presses.append(DtmfPress(item["digit"], at_ms))
        else:
            problems.append(f"dtmf: {item!r} is not a key press (dropped)")
    return tuple(presses)
