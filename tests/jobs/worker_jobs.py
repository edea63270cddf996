"""Job functions the worker tests enqueue by name (a real worker subprocess imports them)."""

from __future__ import annotations

import time
from pathlib import Path

from contracts.job_payloads import read_call_ref

__all__ = ["fail", "fail_permanently", "read_payload", "sleep_then_touch", "touch"]


def touch(path: str) -> str:
    """Leave a file behind: the test sees the job ran."""
    Path(path).write_text(str(time.time()))
    return path


def sleep_then_touch(path: str, seconds: float) -> str:
    """A job long enough to be interrupted (signals, SIGKILL); touches ``path`` when it ends."""
    Path(path + ".started").write_text(str(time.time()))
    time.sleep(seconds)
    return touch(path)


def fail(message: str) -> None:
    """A transient-looking failure: retried while retries are left."""
    raise RuntimeError(message)


def fail_permanently(message: str) -> None:
    """A failure retrying cannot fix."""
    from contracts.jobs import PermanentJobError

    raise PermanentJobError(message)


def read_payload(payload: object) -> str:
    """Parse a typed payload the way the real jobs do (a bad one raises PayloadError)."""
    return read_call_ref(payload).call_sid
