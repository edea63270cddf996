"""Where a database stands against this code's migrations (alembic), for every service that
opens it: ``python -m api.migrate`` upgrades; the API, the worker and the scheduler refuse to
start on a database behind the head (``schema_problem``)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.db.engine import make_engine

__all__ = ["alembic_config", "current_revision", "head_revision", "is_known_revision", "schema_problem"]

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
log = logging.getLogger("api.db.revisions")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations found"
    return head


def is_known_revision(revision: str) -> bool:
    """True when ``revision`` is one of this code's migrations (False: a newer release's)."""
    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_problem(database_url: str) -> str | None:
    """Why the API must not start on this database: it is behind the code's migration head (or
    empty); ``None`` when it is not.

    A database ahead of the code (a revision this code does not know: an image rolled back after
    its successor migrated) is not a reason, nor is an unreachable one: the API starts, warns,
    and ``/readyz`` reports it.
    """
    engine = make_engine(database_url, pool_size=1)
    try:
        current, head = current_revision(engine), head_revision()
    except SQLAlchemyError as exc:
        log.warning("database not reachable at start, its revision is not checked: %s", type(exc).__name__)
        return None
    finally:
        engine.dispose()
    if current == head:
        return None
    if current is not None and not is_known_revision(current):
        log.warning("database at %s, which this code (head %s) does not know: a newer release migrated it", current,
                    head)
        return None
    return f"database at {current or 'nothing'}, head is {head}: run python -m api.migrate"
