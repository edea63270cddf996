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


def _at_0004_with_a_stray_index(url: str) -> None:
    """A database at 0004 holding an index that 0005 creates: 0005's upgrade fails half-way."""
    from alembic import command

    from api.migrate import alembic_config

    subprocess.run([sys.executable, "-m", "api.migrate"], env={**os.environ, "DATABASE_URL": url}, cwd=ROOT,
                   capture_output=True, check=True)
    command.downgrade(alembic_config(url), "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_broadcast_business_created ON broadcast (business_id)")
    engine.dispose()


def test_a_failed_sqlite_migration_changes_nothing_and_names_the_error(tmp_path: Path) -> None:
    """SQLite DDL is transactional, but pysqlite commits before each DDL statement on its own: a
    failed upgrade left 0005's copy table behind, so the rerun failed on it too."""
    url = f"sqlite:///{tmp_path / 'm.db'}"
    _at_0004_with_a_stray_index(url)
    engine = create_engine(url)
    before = set(inspect(engine).get_table_names())
    env = {**os.environ, "DATABASE_URL": url}
    failed = subprocess.run([sys.executable, "-m", "api.migrate"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("api.migrate: upgrade from 0004 to 0005 failed, the database is still at 0004: "), last
    assert "index ix_broadcast_business_created already exists" in last
    assert set(inspect(engine).get_table_names()) == before  # no _alembic_tmp_broadcast
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_broadcast_business_created")  # the operator's fix
    engine.dispose()
    rerun = subprocess.run([sys.executable, "-m", "api.migrate"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0 and rerun.stdout.strip() == "database upgraded from 0004 to 0005", rerun.stderr


def test_api_refuses_to_start_on_a_database_not_at_head(tmp_path: Path) -> None:
    from tests.conftest import free_port

    for name, url in (("empty", f"sqlite:///{tmp_path / 'empty.db'}"), ("behind", f"sqlite:///{tmp_path / 'old.db'}")):
        if name == "behind":
            _at_0004_with_a_stray_index(url)
        env = {**os.environ, "DATABASE_URL": url, "API_PORT": str(free_port()), "API_HOST": "127.0.0.1"}
        try:
            result = subprocess.run([sys.executable, "-m", "api"], env=env, cwd=ROOT, capture_output=True, text=True,
                                    timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"the API started on the {name} database") from exc
        revision = "nothing" if name == "empty" else "0004"
        assert result.returncode == 1, result.stderr
        assert f"api: database at {revision}, head is 0005: run python -m api.migrate" in result.stderr


def test_api_starts_on_a_database_ahead_of_its_code(tmp_path: Path) -> None:
    """A rolled-back image on a database its successor migrated: it starts (and warns); it is
    the older code's schema plus what it does not know."""
    from tests.conftest import free_port, wait_for_port

    url = f"sqlite:///{tmp_path / 'ahead.db'}"
    subprocess.run([sys.executable, "-m", "api.migrate"], env={**os.environ, "DATABASE_URL": url}, cwd=ROOT,
                   capture_output=True, check=True)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "API_PORT": str(port), "API_HOST": "127.0.0.1"}
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "api"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for_port(port, proc, timeout=60), log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "database at 9999, which this code (head 0005) does not know" in log.read_text()
