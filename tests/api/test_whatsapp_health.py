"""``/health/whatsapp`` against fake shards: 200 only when every configured shard answers its
``/health`` with 200 and ``"status": "ok"`` as the shard it is configured as; each shard's detail."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from api.app import create_app
from api.settings import Settings
from tests.api.conftest import INTERNAL
from tests.fakes.fake_gateway import FakeGateway
from tests.fakes.http_server import Reply, ScriptedServer

__all__: list[str] = []


async def probe(api_settings: Settings, *urls: str) -> tuple[int, dict[str, Any]]:
    app = create_app(replace(api_settings, baileys_shard_urls=urls))
    async with app.test_app() as test_app:
        resp = await test_app.test_client().get("/health/whatsapp")
        body = await resp.get_json()
    app.extensions["prosaas"].close()
    return resp.status_code, body


async def test_all_shards_ok_is_200_with_each_shards_health(api_settings: Settings) -> None:
    with FakeGateway(1, INTERNAL) as one, FakeGateway(2, INTERNAL) as two:
        one.set_state(7, "connected")
        status, body = await probe(api_settings, one.url, two.url)
    assert status == 200 and body["status"] == "ok"
    assert body["shards"]["1"]["state"] == body["shards"]["2"]["state"] == "ok"
    assert body["shards"]["1"]["health"]["sessions"]["connected"] == 1 and body["shards"]["2"]["health"]["shard_id"] == 2


async def test_a_draining_a_foreign_or_a_swapped_shard_is_503(api_settings: Settings) -> None:
    with FakeGateway(1, INTERNAL) as one, FakeGateway(2, INTERNAL) as two:
        two.healthy = False  # draining: 503 with the health body
        status, body = await probe(api_settings, one.url, two.url)
        assert status == 503 and body["status"] == "degraded"
        assert body["shards"]["1"]["state"] == "ok"
        drained = body["shards"]["2"]
        assert (drained["state"], drained["status"], drained["health"]["status"]) == ("unhealthy", 503, "draining")
        two.healthy = True
        status, body = await probe(api_settings, two.url, one.url)  # BAILEYS_SHARD_1_URL is shard 2
        assert status == 503 and body["shards"]["1"]["state"] == "wrong_shard"
        assert "BAILEYS_SHARD_1_URL" in body["shards"]["1"]["detail"]
    with ScriptedServer(default=Reply(200, b"hello")) as other:  # something else answers 200 on that port
        status, body = await probe(api_settings, other.url)
    assert status == 503 and body["shards"]["1"]["state"] == "unhealthy" and "not JSON" in body["shards"]["1"]["detail"]
    with ScriptedServer(default=Reply(200, {"status": "starting", "shard_id": 1})) as odd:
        status, body = await probe(api_settings, odd.url)
    assert status == 503 and body["shards"]["1"]["state"] == "unhealthy"
    assert "'starting'" in body["shards"]["1"]["detail"]
