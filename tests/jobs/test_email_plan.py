"""jobs.email.plan: resume point, UID windows, batches, backoff, job keys (pure)."""

from __future__ import annotations

import pytest

from jobs.email.plan import Resume, backoff_seconds, batches, due_job_key, resume_point, uid_windows


def test_same_uidvalidity_resumes_after_the_last_uid() -> None:
    assert resume_point(7, 120, 7) == Resume(after_uid=120, reset=False)


def test_first_sync_starts_at_zero_without_calling_it_a_reset() -> None:
    assert resume_point(None, 0, 7) == Resume(after_uid=0, reset=False)


def test_changed_uidvalidity_starts_over() -> None:
    assert resume_point(7, 120, 8) == Resume(after_uid=0, reset=True)


def test_windows_cover_the_mailbox_then_stay_open() -> None:
    assert list(uid_windows(0, 1201, window=500)) == [(1, 500), (501, 1000), (1001, None)]
    assert list(uid_windows(40, None, window=500)) == [(41, None)]
    assert list(uid_windows(1200, 1201, window=500)) == [(1201, None)]


def test_batches_are_sorted_deduplicated_and_bounded() -> None:
    assert list(batches([5, 1, 3, 3, 2, 9, 7], 3)) == [[1, 2, 3], [5, 7, 9]]
    assert list(batches([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(batches([1], 0))


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 300, 3600) for n in range(0, 7)] == [300, 300, 600, 1200, 2400, 3600, 3600]
    assert backoff_seconds(10_000, 300, 3600) == 3600


def test_due_job_key_is_stable_for_one_due_time_and_moves_when_left_behind() -> None:
    due, stale = 1_000_000.0, 660
    assert due_job_key(due, due + 5, stale) == due_job_key(due, due + 600, stale) == "1000000-0"
    assert due_job_key(due, due + 700, stale) == "1000000-1"
    assert due_job_key(due, due - 30, stale) == "1000000-0"  # clocks a little apart
    assert due_job_key(due + 300, due + 400, stale) != due_job_key(due, due + 400, stale)
