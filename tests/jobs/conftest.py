"""Jobs tests reuse the API's migrated databases (SQLite and the shared Postgres)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs import db as jobs_db
from tests.api.conftest import db_url, pg_url, sqlite_template  # noqa: F401 (fixtures)


@pytest.fixture
def job_db(db_url: str) -> Iterator[str]:  # noqa: F811
    jobs_db.configure(db_url)
    yield db_url
    jobs_db.reset()
