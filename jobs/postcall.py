"""Post-call processing: the call's summary and the lead's fields, once the call is stored.

``finalize_call`` enqueues ``process_call({"version": 1, "call_sid": …})`` (spec
``contracts.jobs.PROCESS_CALL``) after its commit. The summary comes from OpenAI's Chat
Completions when OPENAI_API_KEY is set (``jobs.openai_summary``), otherwise from the transcript
(``jobs.summary``). A timeout or 5xx from OpenAI raises so RQ retries; on the last attempt, and
at once on a 4xx or an unusable answer, the offline summary is stored instead and the reason
is kept in ``call.events["postcall"]``. Then the lead gets the summary, the intent, the
caller's name when it has none, and ``last_contact_at``; and a ``call_completed`` webhook is
recorded when the business has a webhook URL (enqueued after the commit).

Idempotent: a call with ``processed_at`` set is left alone unless ``force`` is given.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from api.db.models import Call, Lead, utcnow
from api.services import webhooks
from api.settings import Settings
from contracts.job_payloads import read_call_ref
from contracts.jobs import PermanentJobError
from jobs.current import enqueue_follow_up, is_last_attempt
from jobs.db import job_session
from jobs.enqueue import enqueue_webhook_delivery
from jobs.openai_summary import TransientFailure, UnusableAnswer, openai_summary
from jobs.summary import CallSummary, offline_summary

__all__ = ["process_call", "summarize"]

log = logging.getLogger(__name__)
OPENAI, OFFLINE = "openai", "offline"


def summarize(
    transcript: list[Any], brain_summary: dict[str, Any], settings: Settings
) -> tuple[CallSummary, str]:
    """The summary, and why OpenAI's was not used ("" when it was, or when no key is set).

    Raises:
        TransientFailure: OpenAI timed out or answered 429/5xx and RQ will retry this job.
    """
    if not settings.openai_api_key:
        return offline_summary(transcript, brain_summary), ""
    try:
        return openai_summary(
            transcript, brain_summary, api_key=settings.openai_api_key.reveal(),
            base_url=settings.openai_base_url, model=settings.openai_summary_model,
            timeout_seconds=settings.openai_timeout_seconds,
        ), ""
    except UnusableAnswer as exc:
        reason = str(exc)
    except TransientFailure as exc:
        if not is_last_attempt():
            raise
        reason = f"{exc} (last attempt)"
    log.warning("post-call summary falls back to the offline summary: %s", reason)
    return offline_summary(transcript, brain_summary), reason


def process_call(payload: Any, force: bool = False) -> dict[str, Any]:
    """Summarize one stored call and update its lead; returns what happened.

    Raises:
        PayloadError: the payload does not parse (dead-lettered at once).
        PermanentJobError: the call does not exist or was never finalized.
        TransientFailure: OpenAI is unreachable or overloaded (retried by RQ).
        sqlalchemy.exc.OperationalError: the database is unreachable (retried by RQ).
    """
    ref = read_call_ref(payload)
    settings = Settings.from_env()
    with job_session() as session:
        call = session.scalar(select(Call).where(Call.call_sid == ref.call_sid))
        if call is None:
            raise PermanentJobError(f"process_call: call {ref.call_sid} does not exist")
        if call.finalized_at is None:
            raise PermanentJobError(f"process_call: call {ref.call_sid} has no call record yet")
        if call.processed_at is not None and not force:
            return {"call_sid": ref.call_sid, "status": "already_processed"}
        transcript = list(call.transcript or [])
        raw = (call.events or {}).get("brain_summary")
        brain_summary = dict(raw) if isinstance(raw, dict) else {}

    summary, fallback_reason = summarize(transcript, brain_summary, settings)

    with job_session() as session:
        call = session.scalar(select(Call).where(Call.call_sid == ref.call_sid).with_for_update())
        if call is None:
            raise PermanentJobError(f"process_call: call {ref.call_sid} was deleted")
        if call.processed_at is not None and not force:
            return {"call_sid": ref.call_sid, "status": "already_processed"}
        now = utcnow()
        call.summary = summary.text
        call.summary_source = summary.source
        call.processed_at = now
        call.events = {
            **(call.events or {}),
            "postcall": {"source": summary.source, "intent": summary.intent, "fallback_reason": fallback_reason},
        }
        lead = session.get(Lead, call.lead_id) if call.lead_id is not None else None
        if lead is not None:
            _update_lead(lead, call, summary, now)
        session.flush()
        delivery_id = webhooks.record_event(
            session, call.business_id, webhooks.CALL_COMPLETED,
            {"call": webhooks.call_data(call), "lead": webhooks.lead_data(lead) if lead is not None else None},
            event_id=webhooks.call_event_id(call.call_sid),
        )
        lead_id = lead.id if lead is not None else None
    if delivery_id is not None:
        enqueue_follow_up(
            f"webhook delivery {delivery_id}", lambda redis: enqueue_webhook_delivery(redis, delivery_id)
        )
    log.info(
        "call processed call_sid=%s source=%s intent=%s lead_id=%s fallback=%s",
        ref.call_sid, summary.source, summary.intent or "-", lead_id, fallback_reason or "-",
    )
    return {
        "call_sid": ref.call_sid, "status": "processed", "summary_source": summary.source,
        "lead_id": lead_id, "webhook_delivery_id": delivery_id,
    }


def _update_lead(lead: Lead, call: Call, summary: CallSummary, now: Any) -> None:
    """The lead shows its latest call: summary and intent; the name only when it has none
    (never over what a person typed); ``last_contact_at`` only moves forward."""
    lead.summary = summary.text
    if summary.intent:
        lead.intent = summary.intent[:64]
    if summary.name and not lead.name:
        lead.name = summary.name[:200]
    contact = call.ended_at or now
    if lead.last_contact_at is None or lead.last_contact_at < contact:
        lead.last_contact_at = contact
