"""Job specs: what an enqueuer needs to know about a job, as plain data (no ``rq`` here).

A service that hands work to the RQ worker enqueues the job *by name* with the spec's queue,
timeout and retries, so it never imports the job's code (nor, through it, the API's data layer).
``jobs.enqueue`` (the API's door into RQ) and the calls service's reporter both read these specs.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.keys import BROADCASTS, DEFAULT, HIGH, LOW

__all__ = [
    "BROADCAST_WATCHDOG",
    "RUN_BROADCAST",
    "FINALIZE_CALL",
    "RECONCILE_CALL_LEASES",
    "RECORDINGS_RETENTION",
    "REQUEUE_UNSENT_WEBHOOKS",
    "STALE_CLEANUP",
    "SYNC_DUE_EMAIL",
    "JOB_SPECS",
    "MAKE_THUMBNAIL",
    "PROCESS_CALL",
    "DELIVER_WEBHOOK",
    "SYNC_EMAIL_ACCOUNT",
    "JobSpec",
    "PermanentJobError",
    "finalize_job_id",
]


class PermanentJobError(Exception):
    """A job failure that retrying cannot fix (a payload that does not parse, a row that is
    gone, a record of a newer version): the worker dead-letters the job at once, with this
    message as the reason, instead of spending its retries."""


@dataclass(frozen=True, slots=True)
class JobSpec:
    """How to enqueue one kind of job.

    Attributes:
        name: The dotted path of the job function the worker imports.
        queue: The RQ queue name (``contracts.keys``).
        timeout_seconds: RQ's ``job_timeout``.
        retry_intervals: Seconds before each retry (RQ ``Retry(max=len, interval=...)``).
        result_ttl_seconds: How long RQ keeps a finished job (and so its id, for dedupe).
    """

    name: str
    queue: str
    timeout_seconds: int
    retry_intervals: tuple[int, ...]
    result_ttl_seconds: int = 3600

    @property
    def max_retries(self) -> int:
        return len(self.retry_intervals)


# jobs.calls.finalize_call(record): the call record (contracts.call_record) when a call ends.
FINALIZE_CALL = JobSpec(
    name="jobs.calls.finalize_call",
    queue=HIGH,
    timeout_seconds=120,
    retry_intervals=(5, 15, 60, 300, 900),  # database blips to a short outage, then give up
    result_ttl_seconds=24 * 3600,  # a record re-sent within a day (spool drain) is deduped
)


def finalize_job_id(call_sid: str) -> str:
    """One job id per call, so the same record enqueued twice (a spool drain that was cut
    short, say) runs once."""
    return f"finalize-call-{call_sid}"


# jobs.postcall.process_call(payload): summary and lead fields once a call is stored.
PROCESS_CALL = JobSpec(
    name="jobs.postcall.process_call",
    queue=DEFAULT,
    timeout_seconds=120,
    retry_intervals=(10, 60, 300),
)

# jobs.webhooks.deliver(payload): one outbound business webhook event (timeouts and 5xx retried).
DELIVER_WEBHOOK = JobSpec(
    name="jobs.webhooks.deliver",
    queue=HIGH,
    timeout_seconds=30,
    retry_intervals=(10, 60, 300, 1800, 7200),
)

# jobs.email.sync_account(payload): fetch an IMAP account's new mail. No RQ retries: a failing
# account records its error and backs off by its own schedule (no retry storm).
SYNC_EMAIL_ACCOUNT = JobSpec(
    name="jobs.email.sync_account",
    queue=DEFAULT,
    timeout_seconds=600,
    retry_intervals=(),
)

# jobs.media.make_thumbnail(payload): thumbnails of an uploaded image (or a PDF's first page).
MAKE_THUMBNAIL = JobSpec(
    name="jobs.media.make_thumbnail",
    queue=LOW,
    timeout_seconds=60,
    retry_intervals=(30,),
)

# jobs.broadcasts.run.run_broadcast(payload): one chunk of a WhatsApp broadcast (at most 50 sends
# or ~50 s), then it queues itself for the pacer's next slot. Retried when its worker dies (the
# recipients' idempotency keys make a rerun safe); the watchdog resumes a broadcast whose chain broke.
RUN_BROADCAST = JobSpec(
    name="jobs.broadcasts.run.run_broadcast",
    queue=BROADCASTS,
    timeout_seconds=180,
    retry_intervals=(10, 30, 120, 600),
    result_ttl_seconds=3600,
)

# Periodic jobs (python -m jobs.scheduler enqueues them once per slot; they take no arguments).
# jobs.email.sync_due_accounts(): enqueue SYNC_EMAIL_ACCOUNT for every account that is due.
SYNC_DUE_EMAIL = JobSpec(
    name="jobs.email.sync_due_accounts", queue=DEFAULT, timeout_seconds=120, retry_intervals=(30,)
)
# jobs.maintenance.reconcile_call_leases(): drop expired call leases, rewrite calls:active_count.
RECONCILE_CALL_LEASES = JobSpec(
    name="jobs.maintenance.reconcile_call_leases", queue=HIGH, timeout_seconds=60, retry_intervals=(10,)
)
# jobs.maintenance.recordings_retention(): delete recordings older than the business's retention.
RECORDINGS_RETENTION = JobSpec(
    name="jobs.maintenance.recordings_retention", queue=LOW, timeout_seconds=600, retry_intervals=(300,)
)
# jobs.maintenance.broadcast_watchdog(): find broadcasts that stopped making progress.
BROADCAST_WATCHDOG = JobSpec(
    name="jobs.maintenance.broadcast_watchdog", queue=LOW, timeout_seconds=300, retry_intervals=(60,)
)
# jobs.maintenance.stale_cleanup(): expired sessions, old delivered webhooks, orphaned files.
STALE_CLEANUP = JobSpec(
    name="jobs.maintenance.stale_cleanup", queue=LOW, timeout_seconds=600, retry_intervals=(300,)
)

# jobs.webhooks.requeue_unsent(): re-enqueue pending webhook deliveries no job is working on
# (recorded while Redis was down, or whose job was lost).
REQUEUE_UNSENT_WEBHOOKS = JobSpec(
    name="jobs.webhooks.requeue_unsent", queue=LOW, timeout_seconds=120, retry_intervals=(30,)
)

# Every job kind by function name: the worker reads a job's spec here (its retries, its
# timeout), the scheduler adds its periodic jobs to the same table.
JOB_SPECS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        FINALIZE_CALL, PROCESS_CALL, DELIVER_WEBHOOK, SYNC_EMAIL_ACCOUNT, MAKE_THUMBNAIL, RUN_BROADCAST,
        SYNC_DUE_EMAIL, RECONCILE_CALL_LEASES, RECORDINGS_RETENTION, BROADCAST_WATCHDOG, STALE_CLEANUP,
        REQUEUE_UNSENT_WEBHOOKS,
    )
}
