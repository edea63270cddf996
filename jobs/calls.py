"""Jobs about phone calls.

``finalize_call`` receives the call record the calls service builds when a call ends
(``callengine.actor.call.CallActor._record``): it validates the shape, stores the call, upserts
the lead by (business, phone) and links them, in one transaction. Idempotent by ``call_sid``.
"""

from __future__ import annotations

import logging
from typing import Any

from api.services.call_records import UnusableRecord, store_call_record
from jobs.db import job_session

__all__ = ["RecordError", "finalize_call", "validate_call_record"]

log = logging.getLogger(__name__)

REQUIRED: dict[str, type | tuple[type, ...]] = {
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


class RecordError(ValueError):
    """A call record is not usable; retrying cannot fix it."""


def validate_call_record(record: Any) -> dict[str, Any]:
    """Check the record's shape.

    Raises:
        RecordError: naming every missing or mistyped field.
    """
    if not isinstance(record, dict):
        raise RecordError(f"call record must be an object, got {type(record).__name__}")
    problems = []
    for name, kind in REQUIRED.items():
        if name not in record:
            problems.append(f"missing {name}")
        elif not isinstance(record[name], kind) or isinstance(record[name], bool):
            problems.append(f"{name} has type {type(record[name]).__name__}")
    if not problems and not record["call_sid"]:
        problems.append("call_sid is empty")
    if problems:
        raise RecordError("invalid call record: " + ", ".join(problems))
    return record


def finalize_call(record: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a finished call; returns what happened.

    Idempotent: the job id is derived from call_sid and a second delivery of the same record
    finds the call already finalized and changes nothing.

    Raises:
        RecordError: the record is malformed or names an unknown business (permanent: the
            job fails without retries being useful).
        sqlalchemy.exc.OperationalError: the database is unreachable (RQ retries with backoff).
    """
    record = validate_call_record(record)
    try:
        with job_session() as session:
            outcome = store_call_record(session, record)
    except UnusableRecord as exc:
        raise RecordError(f"call {record['call_sid']}: {exc}") from exc
    log.info(
        "call finalized call_sid=%s business_id=%s end_reason=%s duration=%.1fs turns=%d lead_id=%s %s",
        record["call_sid"],
        record["business_id"],
        record["end_reason"],
        record["duration_seconds"],
        len(record["transcript"]),
        outcome["lead_id"],
        outcome["status"],
    )
    return outcome
