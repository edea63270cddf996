"""Run ``python -m jobs.worker`` as the tests' real subprocess, the way an operator does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["ROOT", "descendants", "kill_tree", "run_burst", "start_worker", "wait_until", "worker_env"]

ROOT = Path(__file__).resolve().parents[2]


def worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RQ_", "WORKER_"))}
    env.update({"REDIS_URL": redis_url, "LOG_LEVEL": "INFO", **extra})
    return env


def run_burst(redis_url: str, *args: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python -m jobs.worker --burst``: runs what is queued, then exits."""
    return subprocess.run(
        [sys.executable, "-m", "jobs.worker", "--burst", *args], cwd=ROOT, env=worker_env(redis_url, **extra),
        capture_output=True, text=True, timeout=timeout,
    )


def start_worker(redis_url: str, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """A long-running worker in its own session; its output goes to ``log``."""
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=worker_env(redis_url, **extra),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )


def wait_until(cond: Callable[[], object], timeout: float, what: str, log: Path | None = None) -> float:
    """Poll ``cond`` every 50 ms; returns the seconds it took. Fails with ``what`` (and the log)."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
        time.sleep(0.05)
    return time.monotonic() - start


def descendants(pid: int) -> list[int]:
    """``pid``'s children, grandchildren… (the work horse, the scheduler process)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            out += children
            todo += children
    return out


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and every process under it, as a container kill does."""
    pids = [proc.pid, *descendants(proc.pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)
