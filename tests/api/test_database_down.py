"""With the database down (a private PostgreSQL the test really stops), login and the voice
webhook answer 503 with ``Retry-After`` — the webhook with a TwiML ``<Reject/>`` — instead of a
500, and the driver's text (host, port) is not in the answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.app import create_app
from api.db.engine import make_engine
from api.migrate import upgrade
from tests.api.conftest import PASSWORD, make_tenant
from tests.api.private_postgres import PrivatePostgres
from tests.api.test_twilio import open_capacity, signed, voice_form

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_login_and_voice_webhook_answer_503_while_the_database_is_down(
    api_settings: Any, private_pg: PrivatePostgres, redis_client: Any
) -> None:
    engine = make_engine(private_pg.url, pool_size=1)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as db:
        tenant = make_tenant(db, 1)
    engine.dispose()
    open_capacity(redis_client)
    app = create_app(replace(api_settings, database_url=private_pg.url))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        login = {"email": tenant.owner_email, "password": PASSWORD}
        assert (await client.post("/api/auth/login", json=login)).status_code == 200
        private_pg.stop()

        resp = await client.post("/api/auth/login", json=login)
        body = await resp.get_json()
        assert resp.status_code == 503, body
        assert body["error"]["code"] == "database_unavailable" and int(resp.headers["Retry-After"]) > 0
        assert str(private_pg.port) not in await resp.get_data(as_text=True)

        resp = await client.post("/twilio/voice", **signed("/twilio/voice", voice_form(tenant.phone)))
        text = await resp.get_data(as_text=True)
        assert resp.status_code == 503, text
        assert int(resp.headers["Retry-After"]) > 0 and resp.mimetype == "text/xml"
        assert ET.fromstring(text).find("Reject") is not None, text
