"""Jobs about phone calls.

``finalize_call`` receives the call record the calls service builds when a call ends
(``contracts.call_record``; enqueued by name as ``contracts.jobs.FINALIZE_CALL``): it reads the
record through the contract, stores the call, upserts the lead by (business, phone) and links
them, in one transaction (with the ``lead_created``/``lead_updated`` webhook row when the
business has a webhook URL). Idempotent by ``call_sid``. After the commit, the first time a
call is stored, it enqueues post-call processing (``jobs.postcall``, one job id per call) and
the webhook delivery on the Redis it was taken from.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Call
from api.services import webhooks
from api.services.call_records import UnusableRecord, store_call_record
from contracts.call_record import CallRecord, RecordError, read_record
from jobs.current import enqueue_follow_up
from jobs.db import job_session
from jobs.enqueue import enqueue_process_call, enqueue_webhook_delivery

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
    delivery_id: int | None = None
    try:
        with job_session() as session:
            outcome = store_call_record(session, typed)
            if outcome["status"] == "stored" and outcome["lead_id"] is not None:
                delivery_id = _lead_event(session, outcome)
            # A redelivered record whose first run stored the call but could not enqueue the
            # processing (Redis went away) enqueues it now; the job id dedupes the rest.
            unprocessed = outcome["status"] == "stored" or session.scalar(
                select(Call.processed_at).where(Call.call_sid == typed.call_sid)
            ) is None
    except UnusableRecord as exc:
        raise RecordError(f"call {typed.call_sid}: {exc}") from exc
    if unprocessed:
        # After the commit: the jobs must find the rows. Post-call processing once per call.
        enqueue_follow_up(
            f"post-call processing of {typed.call_sid}", lambda redis: enqueue_process_call(redis, typed.call_sid)
        )
        if delivery_id is not None:
            found = delivery_id
            enqueue_follow_up(f"webhook delivery {found}", lambda redis: enqueue_webhook_delivery(redis, found))
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


def _lead_event(session: Session, outcome: dict[str, Any]) -> int | None:
    """Record ``lead_created`` (the call made the lead) or ``lead_updated`` (the call touched
    an existing one) for the business's webhook, in the call's transaction."""
    event = webhooks.LEAD_CREATED if outcome["lead_created"] else webhooks.LEAD_UPDATED
    return webhooks.record_lead_event(
        session, outcome["business_id"], event, outcome["lead_id"], {"call_sid": outcome["call_sid"]}
    )
