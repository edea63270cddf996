"""Engine and session construction; nothing here runs at import time (no global engine).

SQLite (the embedded default) gets ``PRAGMA foreign_keys=ON`` and WAL on every connection,
Postgres a per-connection ``statement_timeout`` so a runaway query cannot pin a worker thread
forever (threads are not cancellable: docs/ARCHITECTURE.md §12.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

__all__ = ["make_engine", "make_session_factory", "session_scope"]

SQLITE_BUSY_TIMEOUT_SECONDS = 15  # writers wait for each other instead of "database is locked"


def make_engine(
    url: str, *, pool_size: int = 10, statement_timeout_ms: int = 10_000, null_pool: bool = False
) -> Engine:
    """Build the engine for ``url``; creates the SQLite file's directory when needed.

    ``null_pool`` opens a connection per checkout (for forked job processes).
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    pool_kwargs: dict[str, Any] = (
        {"poolclass": NullPool} if null_pool else {"pool_size": pool_size, "max_overflow": 0}
    )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
        engine = create_engine(url, **kwargs, **pool_kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["connect_args"] = {"options": f"-c statement_timeout={statement_timeout_ms}", "connect_timeout": 5}
    return create_engine(url, **kwargs, **pool_kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
