"""``/readyz`` against a private PostgreSQL that the test really stops (the shared one is never
touched): 200 while it runs, 503 naming ``database`` once it is down, 200 again after restart;
without the internal token the answer names the failing checks and discloses nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.db.engine import make_engine
from api.migrate import upgrade
from tests.api.conftest import INTERNAL, pg_bin
from tests.conftest import free_port

pytestmark = pytest.mark.slow


class PrivatePostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="api-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        initdb = pg_bin("initdb")
        assert initdb, "initdb not found"
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self._run(
            pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-w", "-l", str(self.dir / "log"),
            "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start",
        )

    def stop(self) -> None:
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_pg() -> Iterator[PrivatePostgres]:
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


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_readyz_turns_503_while_postgres_is_down(api_settings: Any, private_pg: PrivatePostgres) -> None:
    engine = make_engine(private_pg.url, pool_size=1)
    upgrade(engine)
    engine.dispose()
    app = create_app(replace(api_settings, database_url=private_pg.url))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        assert (await client.get("/readyz")).status_code == 200
        private_pg.stop()
        resp = await client.get(f"/readyz?token={INTERNAL}")
        body = await resp.get_json()
        assert resp.status_code == 503, body
        assert body["failing"] == ["database", "migrations"]
        assert body["checks"]["redis"]["ok"] is True
        private_pg.start()
        deadline = time.monotonic() + 10
        while (resp := await client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            pass
        assert resp.status_code == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_public_readyz_names_the_failed_check_and_nothing_more(
    api_settings: Any, private_pg: PrivatePostgres
) -> None:
    engine = make_engine(private_pg.url, pool_size=1)
    upgrade(engine)
    engine.dispose()
    app = create_app(replace(api_settings, database_url=private_pg.url))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        private_pg.stop()
        resp = await client.get("/readyz")
        raw = await resp.get_data(as_text=True)
        assert resp.status_code == 503
        assert await resp.get_json() == {"status": "not_ready", "failing": ["database", "migrations"]}
        for secret in (str(private_pg.port), "127.0.0.1", "Operational", "psycopg", "connection", "server"):
            assert secret not in raw, secret
        # The internal token still gets the driver's words, for the operator.
        detailed = await (await client.get(f"/readyz?token={INTERNAL}")).get_json()
        assert str(private_pg.port) in detailed["checks"]["database"]["detail"]
        # A wrong token is refused rather than answered as if public.
        wrong = await client.get("/readyz?token=guess")
        assert wrong.status_code == 401 and (await wrong.get_json())["error"]["code"] == "bad_token"
