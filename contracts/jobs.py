"""Job specs: what an enqueuer needs to know about a job, as plain data (no ``rq`` here).

A service that hands work to the RQ worker enqueues the job *by name* with the spec's queue,
timeout and retries, so it never imports the job's code (nor, through it, the API's data layer).
``jobs.enqueue`` (the API's door into RQ) and the calls service's reporter both read these specs.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.keys import HIGH

__all__ = ["FINALIZE_CALL", "JobSpec", "finalize_job_id"]


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
    result_ttl_seconds: int

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
