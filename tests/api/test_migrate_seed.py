from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from api.db.models import Base, Business, User
from api.seed import DEMO_PHONE, seed

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_match_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diffs == []


def test_sqlite_has_foreign_keys_on(db: Session, api_settings: Any) -> None:
    if not api_settings.database_url.startswith("sqlite"):
        return
    from sqlalchemy import text

    from api.db.engine import make_engine

    engine = make_engine(api_settings.database_url, pool_size=1)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrate_command_is_idempotent(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    run = [sys.executable, "-m", "api.migrate"]
    first = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    second = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "upgraded from empty" in first.stdout and "already at head" in second.stdout
    check = subprocess.run([*run, "--check"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0
    engine = create_engine(env["DATABASE_URL"])
    tables = set(inspect(engine).get_table_names())
    engine.dispose()  # Python 3.13 warns about sqlite connections left to the GC
    assert {"business", "user", "lead", "call", "message", "broadcast", "email_account", "attachment"} <= tables


def test_seed_is_idempotent_and_prints_logins(db: Session) -> None:
    first = seed(db, owner_password="owner pass 1", admin_password="admin pass 1")
    db.commit()
    again = seed(db)
    db.commit()
    assert [login.password for login in first] == ["owner pass 1", "admin pass 1"]
    assert [login.password for login in again] == [None, None]
    assert db.scalar(select(Business).where(Business.phone_e164 == DEMO_PHONE)) is not None
    roles = sorted(user.role for user in db.scalars(select(User)))
    assert roles == ["owner", "system_admin"]


def test_seed_command_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = subprocess.run([sys.executable, "-m", "api.seed"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "api.migrate" in result.stderr


def test_api_refuses_to_start_on_bad_environment() -> None:
    env = {**os.environ, "APP_ENV": "production", "API_PORT": "x"}
    for name in ("SECRET_KEY", "INTERNAL_SECRET", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "api"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    for name in ("API_PORT", "SECRET_KEY", "INTERNAL_SECRET"):
        assert name in result.stderr
