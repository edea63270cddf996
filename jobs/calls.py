"""Jobs about phone calls.

``finalize_call`` receives the call record the calls service builds when a call ends
(``contracts.call_record``; enqueued by name as ``contracts.jobs.FINALIZE_CALL``): it reads the
record through the contract, stores the call, upserts the lead by (business, phone) and links
them, in one transaction. Idempotent by ``call_sid``.
"""

from __future__ import annotations

import logging
from typing import Any

from api.services.call_records import UnusableRecord, store_call_record
from contracts.call_record import CallRecord, RecordError, read_record
from jobs.db import job_session

__all__ = ["RecordError", "finalize_call", "validate_call_record"]

log = logging.getLogger(__name__)


def validate_call_record(record: Any) -> CallRecord:
    """Read the record as the contract defines it; optional-field problems are logged.

    Raises:
        RecordError: naming every missing or mistyped required field (or a newer version).
    """
    typed, problems = read_record(record)
    if problems:
        log.warning("call %s record problems (defaults used): %s", typed.call_sid, "; ".join(problems))
    return typed


def finalize_call(record: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a finished call; returns what happened.

    Idempotent: the job id is derived from call_sid and a second delivery of the same record
    finds the call already finalized and changes nothing.

    Raises:
        RecordError: the record is malformed or names an unknown business (permanent: the
            job fails without retries being useful).
        sqlalchemy.exc.OperationalError: the database is unreachable (RQ retries with backoff).
    """
    typed = validate_call_record(record)
    try:
        with job_session() as session:
            outcome = store_call_record(session, typed)
    except UnusableRecord as exc:
        raise RecordError(f"call {typed.call_sid}: {exc}") from exc
    log.info(
        "call finalized call_sid=%s business_id=%s end_reason=%s duration=%.1fs turns=%d lead_id=%s %s",
        typed.call_sid,
        typed.business_id,
        typed.end_reason,
        typed.duration_seconds,
        len(typed.transcript),
        outcome["lead_id"],
        outcome["status"],
    )
    return outcome
