from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from api import __version__
from api.app import create_app
from api.version import build_info
from tests.api.conftest import INTERNAL, REDIS_URL


async def test_health_reports_version(client: Any) -> None:
    resp = await client.get("/api/health")
    assert resp.status_code == 200
    assert await resp.get_json() == {"status": "ok", "version": __version__}


async def test_readyz_is_ready_on_a_migrated_database(client: Any) -> None:
    resp = await client.get(f"/readyz?token={INTERNAL}")
    body = await resp.get_json()
    assert resp.status_code == 200, body
    assert body["failing"] == [] and set(body["checks"]) == {"database", "migrations", "redis"}
    public = await client.get("/readyz")
    assert public.status_code == 200 and await public.get_json() == {"status": "ready", "failing": []}


async def test_version_names_package_and_commit(client: Any) -> None:
    body = await (await client.get("/version")).get_json()
    assert body["version"] == __version__
    assert body["git_commit"] is None or len(body["git_commit"]) == 40
    assert body["build_time"] is None  # BUILD_TIME unset: null, as the README's table says


def test_version_reports_build_time_and_commit_from_the_environment(api_settings: Any) -> None:
    settings = dataclasses.replace(api_settings, git_commit="a" * 40, build_time="2026-12-06T19:00:00Z")
    info = build_info(settings)
    assert info["build_time"] == "2026-12-06T19:00:00Z"
    assert info["git_commit"] == "a" * 40 and info["git_commit_source"] == "env"


def test_readme_says_what_version_reports_when_build_time_is_unset() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `GIT_COMMIT` / `BUILD_TIME`"))
    assert "`null`" in row and "unknown" not in row


async def test_metrics_require_the_internal_secret(client: Any) -> None:
    assert (await client.get("/metrics.json")).status_code == 401
    assert (await client.get("/metrics.json?token=wrong")).status_code == 401
    body = await (await client.get("/metrics.json?token=wrong")).get_json()
    assert body["error"]["code"] == "bad_token"


async def test_metrics_count_routes_in_redis_and_read_call_gauges(client: Any, redis_client: Any) -> None:
    redis_client.set("calls:active_count", 3)
    redis_client.set("calls:capacity", 50)
    redis_client.rpush("rq:queue:high", "job-1", "job-2")
    redis_client.rpush("rq:queue:failed", "dead-1")
    redis_client.zadd("rq:failed:default", {"job-x": 1})
    for _ in range(3):
        await client.get("/api/health")
    body = await (await client.get(f"/metrics.json?token={INTERNAL}")).get_json()
    assert body["calls"] == {"active_count": 3, "capacity": 50}
    assert body["queues"]["high"]["queued"] == 2
    assert body["queues"]["failed"]["queued"] == 1
    assert body["queues"]["default"]["failed"] == 1
    route = body["routes"]["GET /api/health"]
    assert route["count"] == 3 and route["errors_5xx"] == 0 and route["latency_ms_mean"] >= 0
    # Shared across workers: the numbers live in Redis, not in this process.
    assert redis_client.hget("api:metrics:requests", "GET /api/health") == "3"


async def test_health_whatsapp_reports_each_unreachable_shard_with_503(api_settings: Any) -> None:
    from dataclasses import replace

    from tests.conftest import free_port

    settings = replace(api_settings, baileys_shard_urls=(f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"))
    app = create_app(settings)
    async with app.test_app() as test_app:
        resp = await test_app.test_client().get("/health/whatsapp")
        body = await resp.get_json()
    assert resp.status_code == 503
    assert set(body["shards"]) == {"1", "2"}
    assert all(shard["state"] == "unreachable" for shard in body["shards"].values())


async def test_unknown_route_is_a_json_404(client: Any) -> None:
    resp = await client.get("/api/nope")
    assert resp.status_code == 404
    assert (await resp.get_json())["error"]["code"] == "not_found"


def _break_sqlite_file(url: str) -> None:
    """Replace the database file by a directory: unopenable even for root (who ignores modes)."""
    path = Path(url.removeprefix("sqlite:///"))
    path.unlink()
    for extra in ("-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)
    path.mkdir()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_readyz_turns_503_when_the_sqlite_file_is_unusable(api_settings: Any) -> None:
    _break_sqlite_file(api_settings.database_url)
    app = create_app(api_settings)
    async with app.test_app() as test_app:
        resp = await test_app.test_client().get(f"/readyz?token={INTERNAL}")
        body = await resp.get_json()
    assert resp.status_code == 503
    assert body["failing"] == ["database", "migrations"]
    assert body["checks"]["migrations"]["detail"] == "skipped: database unreachable"


async def test_readyz_names_redis_when_redis_is_down(api_settings: Any) -> None:
    from dataclasses import replace

    from tests.conftest import free_port

    settings = replace(api_settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)
    async with app.test_app() as test_app:
        resp = await test_app.test_client().get("/readyz")
        body = await resp.get_json()
    assert resp.status_code == 503
    assert body["failing"] == ["redis"]
    assert REDIS_URL  # the shared Redis was not touched


async def test_metrics_are_the_sum_over_worker_processes(api_settings: Any, redis_client: Any) -> None:
    """Two app instances (as two Hypercorn workers would be) report one shared count."""
    first, second = create_app(api_settings), create_app(api_settings)
    async with first.test_app() as a, second.test_app() as b:
        for _ in range(2):
            await a.test_client().get("/version")
        await b.test_client().get("/version")
        await a.test_client().get("/metrics.json?token=" + INTERNAL)  # flushes a's numbers
        body = await (await b.test_client().get("/metrics.json?token=" + INTERNAL)).get_json()
    assert body["routes"]["GET /version"]["count"] == 3
