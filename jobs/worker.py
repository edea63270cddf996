"""``python -m jobs.worker``: the RQ worker with dead letters and a bounded abandoned-job delay.

An RQ 2.x ``Worker`` (a forked work horse per job, RQ's JSON serializer, RQ's scheduler so
delayed jobs and ``Retry`` intervals fire) listening to ``RQ_QUEUES`` in strict priority order,
with these changes (docs/ARCHITECTURE.md §5):

- **Dead letters.** A job that fails for good goes to ``rq:queue:failed`` with its reason
  (``jobs.deadletter``). A ``contracts.jobs.PermanentJobError`` (``PayloadError``,
  ``RecordError``), a function that does not import and arguments that do not deserialize are
  permanent: dead-lettered at once, their retries left unspent. A job hash RQ cannot even load is
  dead-lettered by id instead of stopping the worker.
- **Abandoned jobs.** A job's heartbeat lasts ``monitoring interval + grace`` (RQ: + 60 s), and
  every worker runs maintenance (RQ's registry cleanup, then the dead-letter reconcile) every
  ``WORKER_MAINTENANCE_INTERVAL_SECONDS``, idle (its blocking dequeue is cut to that length) or
  busy (from the loop that watches its horse). So a job whose worker was SIGKILLed is retried or
  dead-lettered within ``worker_settings.abandoned_bound_seconds`` while any worker of its queue
  lives.
- **Maintenance lock.** RQ's per-queue cleaning lock lasts 899 s when its holder dies; ours lasts
  the maintenance interval (at least 5 s).
- **Warm shutdown** as RQ's — the first SIGTERM/SIGINT finishes the current job, a second one
  kills it — but a job already popped and not yet started is run first instead of dropped
  (``ProQueue``).
- **Preloaded jobs.** ``main`` imports every job kind's module before forking (and freezes it for
  the garbage collector), so a horse does not import SQLAlchemy and the models per job.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import re
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker, worker_registration
from rq.exceptions import DeserializationError, StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.registry import clean_registries
from rq.serializers import JSONSerializer
from rq.utils import now
from rq.worker import WorkerStatus

from contracts.jobs import JOB_SPECS, PermanentJobError
from jobs import deadletter
from jobs.schema import database_problem
from jobs.worker_settings import SettingsError, WorkerSettings, abandoned_bound_seconds, stop_grace_seconds

if TYPE_CHECKING:
    from types import TracebackType

    from rq.registry import StartedJobRegistry

__all__ = ["JobFunctionError", "ProJob", "ProQueue", "ProWorker", "build_worker", "main", "preload_job_modules"]

log = logging.getLogger("jobs.worker")  # not __name__: this module runs as __main__

MIN_MAINTENANCE_LOCK_SECONDS = 5
PUBSUB_WAKE_SECONDS = 1.0


class JobFunctionError(PermanentJobError):
    """The job names a function this worker cannot import: retrying the same code cannot help
    (requeue it once workers run code that has it)."""


class ProJob(Job):
    """RQ's job, with a function that fails to import raised as a permanent error."""

    @property
    def func(self) -> Any:
        try:
            return super().func
        except DeserializationError:
            raise
        except Exception as exc:
            raise JobFunctionError(f"cannot import the job function {self.func_name!r}: {exc!r}") from exc


def _is_permanent(exc: BaseException | None) -> bool:
    return isinstance(exc, PermanentJobError | DeserializationError)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DeserializationError):
        cause = exc.__cause__
        return f"DeserializationError: the job's data does not deserialize ({cause!r})"
    return deadletter.exception_reason(exc)


class ProQueue(Queue):
    """RQ's queue, telling the worker whether it is blocked waiting for a job.

    RQ pops from several queues with a plain (B)LPOP, and its warm shutdown, when the worker is
    not yet busy, raises ``StopRequested`` wherever the signal lands: a SIGTERM between the pop
    and the job's start dropped the job (seen: ``make run``'s stop, which signals the worker the
    moment its queue looks empty, lost a call record). So the stop is raised only while the worker
    waits in the pop (nothing taken yet); anywhere else it is deferred until the job in hand has
    run, and a deferred stop refuses the next pop. Class-level flags: one worker per process,
    main thread only.
    """

    waiting = False
    stop_requested = False

    @classmethod
    def lpop(cls, queue_keys: Sequence[str], timeout: int | None, connection: Redis | None = None) -> Any:
        if ProQueue.stop_requested:
            raise StopRequested()
        ProQueue.waiting = True
        try:
            return super().lpop(queue_keys, timeout, connection=connection)
        finally:
            ProQueue.waiting = False

    @classmethod
    def lmove(cls, connection: Redis, queue_key: str, timeout: int | None) -> Any:
        if ProQueue.stop_requested:
            raise StopRequested()
        ProQueue.waiting = True
        try:
            return super().lmove(connection, queue_key, timeout)
        finally:
            ProQueue.waiting = False


class ProWorker(Worker):
    """RQ's forking worker with the changes in the module docstring."""

    job_class = ProJob
    queue_class = ProQueue

    def __init__(self, queues: Sequence[str], *, settings: WorkerSettings, connection: Redis, **kwargs: Any) -> None:
        self.settings = settings
        self._failures: dict[str, tuple[str, bool]] = {}  # job id -> (reason, permanent)
        super().__init__(
            list(queues),
            name=kwargs.pop("name", None) or f"{socket.gethostname()}.{os.getpid()}.{uuid4().hex[:6]}",
            connection=connection,
            serializer=JSONSerializer,
            job_class=ProJob,
            queue_class=ProQueue,
            job_monitoring_interval=settings.job_monitoring_interval_seconds,
            maintenance_interval=settings.maintenance_interval_seconds,
            **kwargs,
        )

    def subscribe(self) -> None:
        """RQ's command channel (``rq:pubsub:<name>``), with a reader that wakes every second: RQ's
        blocks 60 s in ``get_message``, and a shutdown that lands in that wait sat there for
        the rest of the minute (seen: a burst run exiting after 60.5 s instead of 0.4 s)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=PUBSUB_WAKE_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def _shutdown(self) -> None:
        """Warm shutdown (``ProQueue``): at once while waiting for a job, else after the job in
        hand (RQ: at once unless busy, dropping a job popped but not yet started)."""
        if self.get_state() == WorkerStatus.BUSY or ProQueue.waiting:
            super()._shutdown()  # type: ignore[no-untyped-call]
            return
        ProQueue.stop_requested = True
        self._stop_requested = True
        if self.scheduler:
            self.stop_scheduler()  # type: ignore[no-untyped-call]

    # -- abandoned jobs ---------------------------------------------------------------------

    @property
    def dequeue_timeout(self) -> int:
        """Cut the idle blocking dequeue to the maintenance interval, so an idle worker heartbeats
        and runs maintenance that often (RQ's default blocks for ``worker_ttl - 15`` = 405 s)."""
        return max(1, min(self.worker_ttl - 15, self.settings.maintenance_interval_seconds))

    def get_heartbeat_ttl(self, job: Job) -> int:
        """RQ adds 60 s of slack to each job heartbeat; we add ``abandoned_grace_seconds``."""
        grace = self.settings.abandoned_grace_seconds
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - self.current_job_working_time
            return int(max(1, min(remaining, self.job_monitoring_interval))) + grace
        return int(self.job_monitoring_interval) + grace

    def maintain_heartbeats(self, job: Job) -> None:
        """Heartbeat the running job, and run maintenance while busy too: a worker on a 30-minute
        job still notices other workers' abandoned jobs in time."""
        super().maintain_heartbeats(job)
        if self.should_run_maintenance_tasks:
            try:
                self.run_maintenance_tasks()  # type: ignore[no-untyped-call]
            except RedisError as exc:
                self.log.error("Worker %s: maintenance failed while busy: %s", self.name, exc)

    def clean_registries(self) -> None:
        """RQ's registry cleanup per queue (one worker at a time per queue), then the dead-letter
        reconcile (``jobs.deadletter.reconcile``)."""
        lock_seconds = max(MIN_MAINTENANCE_LOCK_SECONDS, self.settings.maintenance_interval_seconds)
        cleaned = []
        for queue in self.queues:
            if not self.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=lock_seconds):
                continue
            try:
                self.log.debug("Worker %s: cleaning registries for queue %s", self.name, queue.name)
                clean_registries(queue, self._exc_handlers)
                worker_registration.clean_worker_registry(queue)
                queue.intermediate_queue.cleanup(self, queue)
                cleaned.append(queue.name)
            finally:
                self.connection.delete(queue.registry_cleaning_key)
        if cleaned:
            deadletter.reconcile(self.connection, cleaned)
        self.last_cleaned_at = now()  # type: ignore[assignment]

    # -- dead letters -----------------------------------------------------------------------

    def handle_exception(
        self, job: Job, exc_type: type[BaseException], exc_value: BaseException, tb: TracebackType | None
    ) -> None:
        """Note why the job failed (and whether retrying can help) for ``handle_job_failure``,
        which RQ calls next in the same process."""
        self._failures[job.id] = (_reason(exc_value), _is_permanent(exc_value))
        super().handle_exception(job, exc_type, exc_value, tb)

    def handle_job_failure(
        self,
        job: Job,
        queue: Queue,
        started_job_registry: StartedJobRegistry | None = None,
        exc_string: str = "",
    ) -> None:
        """RQ's failure handling (retry, or the failed registry), then the dead letters for a job
        that will not run again. A permanent error spends no retries."""
        reason, permanent = self._failures.pop(job.id, (deadletter.one_line(exc_string), False))
        if permanent and job.retries_left:
            self.log.warning("Worker %s: job %s failed permanently, %d retries not used", self.name, job.id,
                             job.retries_left)
            job.retries_left = 0
        dies = self._stopped_job_id == job.id or not job.should_retry
        super().handle_job_failure(job, queue, started_job_registry=started_job_registry, exc_string=exc_string)
        if dies:
            deadletter.bury(self.connection, job, reason if permanent else f"{reason} (no retries left)")

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        """RQ's dequeue, except that a job hash RQ cannot load is dead-lettered (by id, with the
        error) instead of ending the worker's loop."""
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except (RedisError, SystemExit, KeyboardInterrupt):
                raise
            except Exception as exc:
                job_id, queue = getattr(exc, "job_id", None), getattr(exc, "queue", None)
                if job_id is None or queue is None:
                    raise
                self.connection.lrem(queue.intermediate_queue_key, 1, job_id)
                deadletter.bury_unreadable(self.connection, queue.name, job_id, f"unreadable job: {exc!r}")


def preload_job_modules() -> list[str]:
    """Import every job kind's module (``contracts.jobs.JOB_SPECS``) in the worker process, so
    each forked horse starts with it loaded: a horse importing ``jobs.calls`` (SQLAlchemy, the
    API's models) spends 0.3-0.6 s before its job starts. Returns the modules that failed to
    import (logged; their jobs are dead-lettered with the reason when they run)."""
    failed = []
    for module in sorted({spec.name.rpartition(".")[0] for spec in JOB_SPECS.values()}):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - reported, and each such job dead-letters itself
            log.warning("job module %s does not import: %r", module, exc)
            failed.append(module)
    return failed


def build_worker(settings: WorkerSettings, connection: Redis, **kwargs: Any) -> ProWorker:
    """The worker for ``settings`` (no Redis call beyond RQ's own CLIENT SETNAME)."""
    return ProWorker(settings.queues, settings=settings, connection=connection, **kwargs)


DESCRIPTION = f"""\
Run the RQ worker: jobs from RQ_QUEUES in strict priority order, RQ's scheduler (delayed jobs,
retry intervals), dead letters in rq:queue:failed (python -m jobs failed ... handles them).
SIGTERM/SIGINT: warm shutdown (the current job finishes); a second signal kills the job. Give the
container a stop grace period above the longest job timeout: at least {stop_grace_seconds()} s.

Environment variables (read once at start; a bad value exits 2 listing every problem):
  RQ_QUEUES        queues in priority order (default high,default,low,broadcasts; never failed)
  REDIS_URL        the Redis of the queues (default redis://127.0.0.1:6379/0)
  LOG_LEVEL        DEBUG, INFO (default), WARNING or ERROR
  WORKER_JOB_MONITORING_INTERVAL_SECONDS  heartbeat of a running job (default 10)
  WORKER_ABANDONED_GRACE_SECONDS          slack before a job counts as abandoned (default 30)
  WORKER_MAINTENANCE_INTERVAL_SECONDS     abandoned-job check and dead-letter reconcile (default 60)
  WORKER_PRELOAD   import every job module before forking (default true)
  DATABASE_URL     read by the jobs themselves (api/settings.py)
With the defaults a job whose worker was killed is retried or dead-lettered within
{abandoned_bound_seconds(WorkerSettings())} s while another worker of its queue runs."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m jobs.worker", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", action="store_true", help="run the queued (and due scheduled) jobs, then exit")
    parser.add_argument("--name", help="the worker's name (default: host.pid.random)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = WorkerSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"jobs.worker: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = database_problem(os.environ)
    if problem is not None:
        print(f"jobs.worker: {problem}", file=sys.stderr)
        return 1
    if settings.preload:
        preload_job_modules()
    gc.freeze()  # what the worker has loaded is never collected: forked horses do not touch it
    connection = Redis.from_url(settings.redis_url)
    try:
        worker = build_worker(settings, connection, name=args.name)
        worker.work(burst=args.burst, logging_level=settings.log_level, with_scheduler=True)
    except RedisError as exc:
        shown = re.sub(r"//[^@/]*@", "//***@", settings.redis_url)  # never print a password
        print(f"jobs.worker: Redis at {shown} does not answer: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
