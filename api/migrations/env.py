"""Alembic environment: runs on the connection or URL that ``api.migrate`` puts in the config.

``render_as_batch=True`` in both modes so SQLite gets "move and copy" ALTERs
(docs/ARCHITECTURE.md §12.2); the metadata's naming convention names every constraint.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from api.db.engine import make_engine
from api.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", pool_size=1)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
