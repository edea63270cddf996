"""API fixtures: a migrated database per backend (SQLite and the shared Postgres), the app under
``test_app()`` (lifespan hooks run), Redis database from TEST_REDIS_URL, and data helpers.

Postgres: one private database per test session (``api_test_<pid>``), dropped at the end;
every test starts from empty tables (TRUNCATE … RESTART IDENTITY).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from api.app import create_app
from api.db.engine import make_engine
from api.db.models import Base, Business, Lead, Role, User
from api.migrate import upgrade
from api.security import CSRF_HEADER, hash_password
from api.settings import Secret, Settings
from tests.api.private_postgres import PrivatePostgres, pg_bin

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
AUTH_TOKEN = "test-twilio-auth-token"
PUBLIC = "https://api.example.test"
INTERNAL = "test-internal-secret"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"api_test_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url, pool_size=1)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}", pool_size=1)
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "api.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def api_settings(db_url: str, tmp_path: Path, redis_client: redis.Redis) -> Settings:
    return Settings(
        database_url=db_url,
        redis_url=REDIS_URL,
        db_pool_size=5,
        secret_key=Secret("test-secret-key-" + "x" * 32),
        internal_secret=Secret(INTERNAL),
        public_base_url=PUBLIC,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=Secret(AUTH_TOKEN),
        recordings_dir=tmp_path / "recordings",
        media_dir=tmp_path / "media",
        baileys_shard_urls=(),
        shard_probe_timeout_seconds=0.5,
    )


@pytest.fixture
async def app(api_settings: Settings) -> AsyncIterator[Any]:
    application = create_app(api_settings)
    async with application.test_app() as test_app:
        yield test_app
    application.extensions["prosaas"].close()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def db(api_settings: Settings) -> Iterator[Session]:
    engine = make_engine(api_settings.database_url, pool_size=1)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


@dataclass
class Tenant:
    business_id: int
    owner_email: str
    agent_email: str
    phone: str


def make_tenant(db: Session, n: int, *, max_calls: int = 5) -> Tenant:
    phone = f"+1555010{n:04d}"
    business = Business(name=f"Business {n}", phone_e164=phone, greeting=f"Hello from {n}",
                        brain="echo", brain_settings={"menu": [{"digit": "1", "label": "new customers", "intent": "sales"}]},
                        max_concurrent_calls=max_calls)
    db.add(business)
    db.flush()
    owner, agent = f"owner{n}@example.test", f"agent{n}@example.test"
    db.add_all([
        User(email=owner, role=Role.OWNER, business_id=business.id, password_hash=hash_password(PASSWORD)),
        User(email=agent, role=Role.AGENT, business_id=business.id, password_hash=hash_password(PASSWORD)),
    ])
    db.add(Lead(business_id=business.id, phone_e164=f"+1444000{n:04d}", name=f"Lead of {n}"))
    db.commit()
    return Tenant(business.id, owner, agent, phone)


def make_admin(db: Session) -> str:
    email = "root@example.test"
    db.add(User(email=email, role=Role.SYSTEM_ADMIN, business_id=None, password_hash=hash_password(PASSWORD)))
    db.commit()
    return email


async def login(client: Any, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in; returns the headers a state-changing request needs (the CSRF token)."""
    resp = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    body = await resp.get_json()
    return {CSRF_HEADER: body["csrf_token"]}


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL server that a test may stop (the shared one is never stopped)."""
    if pg_bin("initdb") is None:
        pytest.fail("PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin)")
    pg = PrivatePostgres()
    pg.init()
    pg.start()
    yield pg
    try:
        pg.stop()
    except subprocess.CalledProcessError:
        pass  # already stopped by the test
    shutil.rmtree(pg.dir, ignore_errors=True)


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)
