"""Decisions of an email sync that need no I/O: where to resume, how to cut the work into
batches, and how long a failing account waits before its next try (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Resume", "backoff_seconds", "batches", "resume_point", "uid_windows"]

SEARCH_WINDOW = 50_000  # UIDs per UID SEARCH: keeps each answer far below imaplib's 1 MB line limit


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a sync starts in the mailbox.

    Attributes:
        after_uid: Fetch messages whose UID is greater than this.
        reset: The mailbox's UIDVALIDITY is not the one stored: its UIDs name other messages
            now, so the sync starts over from UID 0 (messages already stored are deduped by
            the message table's unique key).
    """

    after_uid: int
    reset: bool


def resume_point(stored_validity: int | None, stored_last_uid: int, server_validity: int) -> Resume:
    """Resume after the stored last UID while the UIDVALIDITY is unchanged (RFC 9051 §2.3.1.1:
    a changed UIDVALIDITY invalidates every UID the client kept)."""
    if stored_validity is None or stored_validity != server_validity:
        return Resume(after_uid=0, reset=stored_validity is not None or stored_last_uid != 0)
    return Resume(after_uid=max(0, stored_last_uid), reset=False)


def uid_windows(after_uid: int, uid_next: int | None, window: int = SEARCH_WINDOW) -> Iterator[tuple[int, int | None]]:
    """UID ranges ``(low, high)`` to search, from ``after_uid + 1`` up; ``high`` None means ``*``.

    Without UIDNEXT (a server may omit it) one open range is searched. With it, ranges of
    ``window`` UIDs up to UIDNEXT - 1, then a last open range for mail that arrived since
    SELECT: a huge mailbox never comes back in one SEARCH answer.
    """
    low = after_uid + 1
    if uid_next is not None:
        while low + window <= uid_next - 1:
            yield low, low + window - 1
            low += window
    yield low, None


def batches(uids: list[int], size: int) -> Iterator[list[int]]:
    """``uids`` in ascending order, cut into lists of at most ``size``."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    ordered = sorted(set(uids))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def backoff_seconds(failures: int, interval_seconds: int, cap_seconds: int) -> int:
    """The wait before the next try after ``failures`` consecutive failures: the account's sync
    interval doubled per failure (1×, 2×, 4×, …), never more than ``cap_seconds``, so a wrong
    password is tried a few times an hour at most, never in a storm."""
    if failures < 1:
        return max(1, interval_seconds)
    base = max(1, interval_seconds)
    exponent = min(failures - 1, 32)  # 2**32 × any interval is past every cap
    return int(min(cap_seconds, base * (2 ** exponent)))


def due_job_key(due_at: float, now: float, stale_after_seconds: int) -> str:
    """The job-id key of a scheduled sync of an account due since ``due_at`` (epoch seconds:
    its ``next_sync_at``, or its creation for one never synced).

    Two scheduler runs that find the account due for the same reason get the same key (so RQ
    keeps one job). A sync always moves ``next_sync_at`` when it ends; an account still due
    ``stale_after_seconds`` (longer than a sync job may run) later was left behind by a job
    that died without a word, and gets a new key, hence a new job.
    """
    waited = max(0.0, now - due_at)
    return f"{int(due_at)}-{int(waited // max(1, stale_after_seconds))}"
