"""A directory of call records waiting for Redis (blocking file I/O: run in a thread).

Each record is one JSON file named after its call, written to a temporary name, fsynced and
renamed, so a crash leaves either the whole record or none of it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["drain", "pending", "write"]

log = logging.getLogger(__name__)


def write(directory: Path, record: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{record['call_sid']}.json"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(json.dumps(record, separators=(",", ":")).encode())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def pending(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.json"))


def drain(directory: Path, enqueue: Callable[[dict[str, Any]], object]) -> int:
    """Enqueue and delete spooled records in name order; returns how many went out.

    An exception from ``enqueue`` (Redis down again) stops the drain and propagates; the
    record that failed stays on disk. A file that is not a call record (not JSON, not an
    object, no ``call_sid`` string) is renamed ``*.bad`` and logged, so one corrupt file is
    neither retried forever nor blocks the rest (nor stops the reporter).
    """
    sent = 0
    for path in pending(directory):
        try:
            record = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            _set_aside(path, str(exc))
            continue
        call_sid = record.get("call_sid") if isinstance(record, dict) else None
        if not isinstance(call_sid, str) or not call_sid:
            _set_aside(path, "not a call record (a JSON object with a call_sid)")
            continue
        enqueue(record)
        path.unlink(missing_ok=True)
        sent += 1
    return sent


def _set_aside(path: Path, why: str) -> None:
    """Rename ``path`` to ``*.bad`` (kept for an operator, no longer pending)."""
    log.error("unusable spooled call record %s set aside as .bad: %s", path, why)
    path.rename(path.with_suffix(".bad"))
