"""The periodic table and its slot arithmetic (pure: no Redis, no clock of its own).

Time is cut into UTC slots per entry: ``slot = floor(epoch_seconds / interval)``. An entry is
due when the last slot it was enqueued for is older than the current slot, and then only the
*current* slot is enqueued: after any downtime, however many slots were missed, the job runs
once (docs/ARCHITECTURE.md §5). The slot also names the job (``periodic-{entry}-{slot}``), so
two enqueues of the same slot are one job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import final

from contracts.envvars import EnvReader, int_range
from contracts.jobs import (
    BROADCAST_WATCHDOG,
    RECONCILE_CALL_LEASES,
    RECORDINGS_RETENTION,
    REQUEUE_UNSENT_WEBHOOKS,
    STALE_CLEANUP,
    SYNC_DUE_EMAIL,
    JobSpec,
)

__all__ = ["DEFAULT_TABLE", "Entry", "due_slot", "interval_var", "parse_last_slots", "read_table", "slot_of"]

MAX_INTERVAL_SECONDS = 7 * 86_400  # a week: anything rarer is not a housekeeping job


@final
@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the periodic table.

    Attributes:
        name: Short, stable name: it is part of the job id and of the Redis field that keeps
            the entry's last slot, so renaming it re-runs the job once.
        spec: The job to enqueue (``contracts.jobs``); periodic jobs take no arguments.
        interval_seconds: Slot length; 0 disables the entry.
    """

    name: str
    spec: JobSpec
    interval_seconds: int

    @property
    def enabled(self) -> bool:
        return self.interval_seconds > 0


# The default table; each interval can be changed with SCHEDULER_<NAME>_SECONDS (0 = off).
DEFAULT_TABLE: tuple[Entry, ...] = (
    Entry("email", SYNC_DUE_EMAIL, 60),  # accounts keep their own next_sync_at; this only looks
    Entry("leases", RECONCILE_CALL_LEASES, 30),  # twice a lease (15 s): stale gauges heal fast
    Entry("retention", RECORDINGS_RETENTION, 3600),  # retention is counted in days
    Entry("watchdog", BROADCAST_WATCHDOG, 120),
    Entry("cleanup", STALE_CLEANUP, 86_400),
    Entry("webhooks", REQUEUE_UNSENT_WEBHOOKS, 60),  # deliveries recorded while Redis was down
)


def interval_var(entry_name: str) -> str:
    """The environment variable that overrides an entry's interval."""
    return f"SCHEDULER_{entry_name.upper()}_SECONDS"


def read_table(reader: EnvReader, table: Iterable[Entry] = DEFAULT_TABLE) -> tuple[Entry, ...]:
    """The table with each interval read from its variable (problems go to ``reader``)."""
    parse = int_range(0, MAX_INTERVAL_SECONDS)
    return tuple(
        Entry(entry.name, entry.spec, reader.get(interval_var(entry.name), parse, entry.interval_seconds))
        for entry in table
    )


def slot_of(epoch_seconds: float, interval_seconds: int) -> int:
    """The UTC slot that ``epoch_seconds`` falls in.

    Raises:
        ValueError: ``interval_seconds`` is not positive.
    """
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be positive")
    return math.floor(epoch_seconds / interval_seconds)


def due_slot(entry: Entry, last_slot: int | None, epoch_seconds: float) -> int | None:
    """The slot to enqueue now, or None when the entry is disabled or already done.

    ``last_slot`` is the last slot enqueued for the entry (None: never). Missed slots are not
    replayed one by one: only the current slot is returned.
    """
    if not entry.enabled:
        return None
    current = slot_of(epoch_seconds, entry.interval_seconds)
    if last_slot is not None and last_slot >= current:
        return None
    return current


def parse_last_slots(raw: Mapping[str, str]) -> dict[str, int]:
    """The Redis hash of last slots, entries with unreadable values dropped (they run again)."""
    slots: dict[str, int] = {}
    for name, value in raw.items():
        try:
            slots[name] = int(value)
        except ValueError:
            continue
    return slots
