"""``python -m api.migrate``: upgrade the database to the newest revision (idempotent).

Run it once before the API starts (``make run`` and ``scripts/run.sh`` do; in a deployment,
run it before starting the new API); running it again on an up-to-date database does nothing
and exits 0. ``--check`` exits 1 when migrations are pending. The database is the environment
variable DATABASE_URL (default ``sqlite:///var/prosaas.db``), read by ``api/settings.py``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from alembic import command
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from api.db.engine import make_engine
from api.db.revisions import alembic_config, current_revision, head_revision, is_known_revision
from api.errors import SettingsError
from api.settings import Settings

__all__ = ["alembic_config", "current_revision", "head_revision", "is_known_revision", "main", "upgrade"]

log = logging.getLogger("api.migrate")


def upgrade(engine: Engine) -> None:
    """Upgrade ``engine``'s database to head in one transaction: all of it or nothing.

    PostgreSQL's DDL is transactional. So is SQLite's, but the pysqlite driver commits before
    each DDL statement on its own, so a migration failing half-way would leave its first steps
    (a batch ALTER's copy table) and the rerun would fail on them: on SQLite the driver's
    implicit transactions are switched off for this connection and the BEGIN is ours.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: a migration failed; nothing of the upgrade is kept.
    """
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
        saved = raw.isolation_level if raw is not None else None
        if raw is not None:
            raw.isolation_level = None  # no implicit COMMIT before DDL (the sqlite3 module's legacy mode)
        try:
            with conn.begin():
                if raw is not None:
                    conn.exec_driver_sql("BEGIN")
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            if raw is not None:
                raw.isolation_level = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.migrate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the database is not at head")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"api.migrate: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        before = current_revision(engine)
        if args.check:
            ok = before == head_revision()
            print(f"database at {before or 'nothing'}, head is {head_revision()}")
            return 0 if ok else 1
        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            # The traceback for the log, then one line naming the problem (the last line of
            # `docker compose logs migrate`).
            log.exception("upgrade failed")
            detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
            print(f"api.migrate: upgrade from {before or 'empty'} to {head_revision()} failed, the database is still "
                  f"at {current_revision(engine) or 'nothing'}: {type(exc).__name__}: {detail}", file=sys.stderr)
            return 1
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"database already at head ({after})")
    else:
        print(f"database upgraded from {before or 'empty'} to {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
