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
    record that failed stays on disk. A file that is not valid JSON is renamed ``*.bad``
    and logged, so one corrupt file cannot block the rest.
    """
    sent = 0
    for path in pending(directory):
        try:
            record = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            log.error("unreadable spooled call record %s: %s", path, exc)
            path.rename(path.with_suffix(".bad"))
            continue
        enqueue(record)
        path.unlink(missing_ok=True)
        sent += 1
    return sent
