"""Stop ``make run``'s stack in order, saying what it waits for (used by scripts/localstack.py).

    python scripts/stop_stack.py --redis-url URL --calls PID --health URL --worker PID --api PID \\
        [--nginx PID] [--redis-pidfile var/redis/redis.pid | --redis PID]

1. The calls service gets SIGTERM and drains: live calls go on (up to its
   DRAIN_TIMEOUT_SECONDS), then each one's record is queued for the worker (``finalize_call``
   on queue ``high``). A Ctrl-C while waiting sends a second SIGTERM, which ends them at once.
2. The worker stores what the drain queued: the stop waits until queue ``high`` is empty and no
   job is running (at most ``--worker-timeout`` seconds; what is left runs at the next start).
3. Then nginx (the web front serving the SPA, when make run started one), the API and the
   worker get SIGTERM (again after 5 s if still running — the RQ worker's cold shutdown —,
   then SIGKILL), and a private Redis (its pid file) is stopped. nginx stays up until then:
   calls that came through it go on while the calls service drains.

Every step prints one line when it starts, and a line every few seconds while it waits. An
empty or missing pid skips that step. The processes need not be our children: a process is
gone when ``kill -0`` fails or it is a zombie.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from contracts.jobs import FINALIZE_CALL

__all__ = ["alive", "main", "queue_status", "stop_stack"]

POLL_SECONDS = 0.2
REPORT_EVERY_SECONDS = 5.0
FINALIZE_QUEUE = FINALIZE_CALL.queue  # where the calls service queues finalize_call
SECOND_SIGNAL_AFTER_SECONDS = 5.0


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped by its parent, is gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _live_calls(health_url: str) -> int | None:
    """``active_calls`` from the calls service's /health (answered 503 while draining)."""
    try:
        with urllib.request.urlopen(health_url, timeout=1) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    except (OSError, ValueError):
        return None
    try:
        count = json.loads(body).get("active_calls")
    except (ValueError, AttributeError):
        return None
    return count if isinstance(count, int) else None


def queue_status(redis_url: str) -> tuple[int, int]:
    """(jobs queued, jobs running) on the ``finalize_call`` queue."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        queue = Queue(FINALIZE_QUEUE, connection=connection)
        return queue.count, StartedJobRegistry(queue=queue).count
    finally:
        connection.close()


def _signal(pid: int | None, sig: int = signal.SIGTERM) -> None:
    if pid is not None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _wait(
    done: Callable[[], bool],
    status: Callable[[], str],
    say: Callable[[str], None],
    *,
    timeout: float | None = None,
    on_interrupt: Callable[[], None] | None = None,
) -> bool:
    """Poll ``done``; print ``status()`` every few seconds. False when ``timeout`` passed."""
    start = last = time.monotonic()
    while not done():
        now = time.monotonic()
        if timeout is not None and now - start > timeout:
            return False
        if now - last >= REPORT_EVERY_SECONDS:
            say(f"  … still waiting ({now - start:.0f} s): {status()}")
            last = now
        try:
            time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            if on_interrupt is None:
                raise
            on_interrupt()
            on_interrupt = None  # a further Ctrl-C interrupts the wait itself
    return True


def stop_stack(
    *,
    redis_url: str,
    calls_pid: int | None,
    health_url: str,
    worker_pid: int | None,
    others: Sequence[int],
    scheduler_pid: int | None = None,
    nginx_pid: int | None = None,
    redis_pidfile: Path | None = None,
    redis_pid: int | None = None,
    worker_timeout: float = 60.0,
    say: Callable[[str], None] = print,
) -> int:
    """Run the stop sequence (module docstring); returns the number of records left queued."""
    if calls_pid is not None and alive(calls_pid):
        live = _live_calls(health_url)
        what = "no live call" if not live else f"{live} live call(s) go on until they end or DRAIN_TIMEOUT_SECONDS"
        say(f"stop: the calls service drains ({what}); Ctrl-C again ends them now")
        _signal(calls_pid)

        def end_calls_now() -> None:
            say("stop: ending the live calls now (their records are still stored)")
            _signal(calls_pid)

        _wait(
            lambda: not alive(calls_pid),
            lambda: f"the calls service has {_live_calls(health_url)} live call(s)",
            say,
            on_interrupt=end_calls_now,
        )
        say("stop: the calls service stopped")
    left = 0
    if worker_pid is not None and alive(worker_pid):

        def pending() -> tuple[int, int]:
            try:
                return queue_status(redis_url)
            except Exception:  # noqa: BLE001 - Redis gone: nothing more can be stored
                return 0, 0

        queued, running = pending()
        if queued or running:
            say(f"stop: the worker stores the queued call records ({queued} queued, {running} running) …")
            finished = _wait(
                lambda: pending() == (0, 0) or not alive(worker_pid),
                lambda: "{} queued, {} running on queue {}".format(*pending(), FINALIZE_QUEUE),
                say,
                timeout=worker_timeout,
            )
            left = sum(pending())
            if not finished or left:
                say(f"stop: {left} job(s) left on queue {FINALIZE_QUEUE}; the worker runs them at the next start")
            else:
                say("stop: the worker stored every call record")
    named = [("nginx", nginx_pid)] + [("the API", pid) for pid in others] + [("the scheduler", scheduler_pid), ("the worker", worker_pid)]
    targets = [(name, pid) for name, pid in named if pid is not None and alive(pid)]
    if targets:
        say(f"stop: stopping {_listed(list(dict.fromkeys(name for name, _ in targets)))}")
        for _, pid in targets:
            _signal(pid)

        def still_up() -> list[tuple[str, int]]:
            return [(name, pid) for name, pid in targets if alive(pid)]

        def names() -> str:
            return " and ".join(name for name, _ in still_up()) + " still running"

        if not _wait(lambda: not still_up(), names, say, timeout=SECOND_SIGNAL_AFTER_SECONDS):
            # A second SIGTERM: the RQ worker's cold shutdown (nothing is running by now);
            # rq 2.x sometimes hangs after "unsubscribing from channel" on a warm shutdown.
            say(f"stop: {names()} after {SECOND_SIGNAL_AFTER_SECONDS:.0f} s; signalling again")
            for _, pid in still_up():
                _signal(pid)
            if not _wait(lambda: not still_up(), names, say, timeout=SECOND_SIGNAL_AFTER_SECONDS):
                say(f"stop: {names()}; killing")
                for _, pid in still_up():
                    _signal(pid, signal.SIGKILL)
    if redis_pid is None and redis_pidfile is not None and redis_pidfile.is_file():
        with contextlib.suppress(ValueError):
            redis_pid = int(redis_pidfile.read_text().strip())
    if redis_pid is not None and alive(redis_pid):
        say(f"stop: stopping the private Redis (pid {redis_pid}; what is still queued stays in its data)")
        _signal(redis_pid)
        _wait(lambda: not alive(redis_pid), lambda: "Redis still running", say, timeout=10)
    say("stop: done")
    return left


def _listed(names: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _pid(text: str) -> int | None:
    return int(text) if text.strip() else None


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (see the module docstring)."""
    p = argparse.ArgumentParser(prog="scripts/stop_stack.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--redis-url", required=True)
    p.add_argument("--calls", type=_pid, default=None, metavar="PID", help="the calls service")
    p.add_argument("--health", default="http://127.0.0.1:5050/health", help="the calls service's /health")
    p.add_argument("--worker", type=_pid, default=None, metavar="PID", help="the RQ worker")
    p.add_argument("--api", type=_pid, action="append", default=[], metavar="PID", help="the API (repeatable)")
    p.add_argument("--scheduler", type=_pid, default=None, metavar="PID", help="the periodic-job scheduler")
    p.add_argument("--nginx", type=_pid, default=None, metavar="PID", help="the web front (nginx's master)")
    p.add_argument("--redis-pidfile", type=Path, help="stop this private Redis last")
    p.add_argument("--redis", type=_pid, default=None, metavar="PID", help="or this one (its pid)")
    p.add_argument("--worker-timeout", type=float, default=60.0, help="seconds to wait for the records")
    args = p.parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    stop_stack(
        redis_url=args.redis_url,
        calls_pid=args.calls,
        health_url=args.health,
        worker_pid=args.worker,
        others=[pid for pid in args.api if pid is not None],
        scheduler_pid=args.scheduler,
        nginx_pid=args.nginx,
        redis_pidfile=args.redis_pidfile,
        redis_pid=args.redis,
        worker_timeout=args.worker_timeout,
        say=say,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
