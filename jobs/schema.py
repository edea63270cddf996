"""The worker and the scheduler refuse to start on a database behind the code's migrations, as
the API does: their jobs would fail one by one against missing tables or columns and end as
dead letters, where a refusal at start says at once what to run (``python -m api.migrate``)."""

from __future__ import annotations

from collections.abc import Mapping

from api.db.revisions import schema_problem

__all__ = ["database_problem"]


def database_problem(environ: Mapping[str, str]) -> str | None:
    """Why this process must not start on ``DATABASE_URL``'s database, or ``None``.

    Only a database that is set is checked (a worker that serves only Redis-side jobs may run
    without one); an unreachable database is not a reason to refuse (the jobs retry), nor is
    one a newer release migrated (see ``api.db.revisions.schema_problem``).
    """
    url = environ.get("DATABASE_URL", "").strip()
    return schema_problem(url) if url else None
