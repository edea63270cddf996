"""The contract tests drive the API as its own tests do: reuse its fixtures (app, database on
SQLite and Postgres, the test Redis database)."""

from __future__ import annotations

from tests.api.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    api_settings,
    app,
    client,
    db,
    db_url,
    pg_url,
    redis_client,
    sqlite_template,
)

__all__: list[str] = []
