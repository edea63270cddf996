"""Database access for jobs: one engine per worker process, built on first use.

RQ forks a work horse per job, so the engine is created lazily in the process that uses it
and uses ``NullPool`` (no pooled sockets are ever inherited across a fork: docs/ARCHITECTURE.md
§12.3). Tests and the worker's composition root call ``configure(url)``; otherwise the URL
comes from ``api.settings`` (DATABASE_URL, the same default SQLite file as the API).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.db.engine import make_engine, make_session_factory, session_scope

__all__ = ["configure", "job_session", "reset"]

_lock = threading.Lock()
_url: str | None = None
_engine: Engine | None = None
_pid: int | None = None


def configure(url: str) -> None:
    """Use ``url`` from now on (drops an engine built for another URL)."""
    global _url
    with _lock:
        _url = url
        _drop()


def reset() -> None:
    global _url
    with _lock:
        _url = None
        _drop()


def _drop() -> None:
    global _engine, _pid
    if _engine is not None:
        _engine.dispose()
    _engine, _pid = None, None


def _get_engine() -> Engine:
    global _engine, _pid
    with _lock:
        if _engine is None or _pid != os.getpid():
            url = _url
            if url is None:
                from api.settings import Settings

                url = Settings.from_env().database_url
            _engine = make_engine(url, null_pool=True)
            _pid = os.getpid()
        return _engine


@contextmanager
def job_session() -> Iterator[Session]:
    """A session committing on success, rolling back on error."""
    with session_scope(make_session_factory(_get_engine())) as session:
        yield session
