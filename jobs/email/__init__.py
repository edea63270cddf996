"""Email sync over IMAP (docs/ARCHITECTURE.md §5): the jobs ``sync_account`` and
``sync_due_accounts``.

Pure parts: ``message`` (raw email → row fields), ``plan`` (resume point, batches, backoff).
I/O: ``imap`` (the server), ``store`` (the database), ``sync`` (the jobs that join them).
"""

from __future__ import annotations

from jobs.email.sync import sync_account, sync_due_accounts

__all__ = ["sync_account", "sync_due_accounts"]
