"""The periodic table's slot arithmetic (pure)."""

from __future__ import annotations

import pytest

from contracts.envvars import EnvReader
from contracts.jobs import RECONCILE_CALL_LEASES, STALE_CLEANUP
from jobs.schedule import DEFAULT_TABLE, Entry, due_slot, interval_var, parse_last_slots, read_table, slot_of

LEASES = Entry("leases", RECONCILE_CALL_LEASES, 30)
DAILY = Entry("cleanup", STALE_CLEANUP, 86_400)


def test_slots_are_utc_floors_of_the_epoch() -> None:
    assert slot_of(0, 30) == 0
    assert slot_of(29.999, 30) == 0
    assert slot_of(30, 30) == 1
    # 2026-12-07 00:00:00 UTC starts a new daily slot, whatever the local time zone
    midnight = 1_796_601_600
    assert slot_of(midnight - 0.001, 86_400) == slot_of(midnight, 86_400) - 1
    with pytest.raises(ValueError, match="positive"):
        slot_of(10, 0)


def test_a_new_entry_is_due_at_once_and_then_once_per_slot() -> None:
    assert due_slot(LEASES, None, 95) == 3
    assert due_slot(LEASES, 3, 95) is None
    assert due_slot(LEASES, 3, 119.9) is None
    assert due_slot(LEASES, 3, 120) == 4


def test_missed_slots_are_caught_up_once_not_once_each() -> None:
    """Down for ten slots: only the current slot is due, and after it nothing."""
    assert due_slot(LEASES, 3, 30 * 14 + 1) == 14
    assert due_slot(LEASES, 14, 30 * 14 + 2) is None
    assert due_slot(DAILY, 100, 86_400 * 107 + 5) == 107


def test_a_clock_that_went_back_enqueues_nothing() -> None:
    assert due_slot(LEASES, 50, 30 * 40) is None


def test_a_disabled_entry_is_never_due() -> None:
    assert due_slot(Entry("leases", RECONCILE_CALL_LEASES, 0), None, 1000) is None


def test_intervals_are_read_from_the_environment() -> None:
    reader = EnvReader({interval_var("leases"): "5", interval_var("watchdog"): "0"})
    table = {e.name: e for e in read_table(reader)}
    assert reader.problems == []
    assert table["leases"].interval_seconds == 5
    assert not table["watchdog"].enabled
    assert table["retention"].interval_seconds == 3600  # default kept
    assert [e.spec for e in read_table(EnvReader({}))] == [e.spec for e in DEFAULT_TABLE]


def test_bad_intervals_are_all_reported() -> None:
    reader = EnvReader({"SCHEDULER_EMAIL_SECONDS": "soon", "SCHEDULER_CLEANUP_SECONDS": "-1"})
    read_table(reader)
    assert len(reader.problems) == 2
    assert "SCHEDULER_EMAIL_SECONDS" in reader.problems[0]


def test_default_table_names_every_periodic_job_once() -> None:
    names = [e.spec.name for e in DEFAULT_TABLE]
    assert names == [
        "jobs.email.sync_due_accounts", "jobs.maintenance.reconcile_call_leases",
        "jobs.maintenance.recordings_retention", "jobs.maintenance.broadcast_watchdog",
        "jobs.maintenance.stale_cleanup", "jobs.webhooks.requeue_unsent",
    ]
    assert len({e.name for e in DEFAULT_TABLE}) == len(DEFAULT_TABLE)


def test_unreadable_last_slots_are_dropped() -> None:
    assert parse_last_slots({"leases": "12", "email": "x"}) == {"leases": 12}
