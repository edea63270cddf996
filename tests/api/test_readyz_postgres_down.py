"""``/readyz`` against a private PostgreSQL that the test really stops (the shared one is never
touched): 200 while it runs, 503 naming ``database`` once it is down, 200 again after restart;
without the internal token the answer names the failing checks and discloses nothing else."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from api.app import create_app
from api.db.engine import make_engine
from api.migrate import upgrade
from tests.api.conftest import INTERNAL
from tests.api.private_postgres import PrivatePostgres

pytestmark = pytest.mark.slow


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
