"""The built SPA served by the API itself (``SPA_DIST``, api/routes/spa.py): the page for client
routes, never cached; hashed bundles cached for good and a missing one a 404; the API's own
paths never shadowed; nothing outside the build served; off unless set."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.errors import SettingsError
from api.routes.spa import ASSET_CACHE, PAGE_CACHE
from api.settings import Settings

PAGE = "<!doctype html><title>ProSaaS</title><script src=/assets/index-abc123.js></script>\n"
BUNDLE = "console.log('bundle');\n"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(PAGE)
    (root / "assets" / "index-abc123.js").write_text(BUNDLE)
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for the browser")
    return root


@pytest.fixture
async def spa_client(api_settings: Settings, dist: Path) -> AsyncIterator[Any]:
    application = create_app(dataclasses.replace(api_settings, spa_dist=dist))
    async with application.test_app() as test_app:
        yield test_app.test_client()
    application.extensions["prosaas"].close()


async def get(client: Any, path: str) -> tuple[int, str, Any]:
    resp = await client.get(path)
    return resp.status_code, (await resp.get_data()).decode(), resp.headers


@pytest.mark.parametrize("path", ["/", "/calls", "/calls/123", "/settings/phone", "/login?next=%2Fcalls", "/index.html"])
async def test_client_routes_get_the_page_never_cached(spa_client: Any, path: str) -> None:
    status, body, headers = await get(spa_client, path)
    assert (status, body) == (200, PAGE)
    assert headers["Content-Type"].startswith("text/html") and headers["Cache-Control"] == PAGE_CACHE


async def test_hashed_bundles_are_cached_for_good_and_a_missing_one_is_a_404(spa_client: Any) -> None:
    status, body, headers = await get(spa_client, "/assets/index-abc123.js")
    assert (status, body, headers["Cache-Control"]) == (200, BUNDLE, ASSET_CACHE)
    assert "javascript" in headers["Content-Type"]
    status, body, headers = await get(spa_client, "/assets/index-gone99.js")  # an old page after a new build
    assert status == 404 and headers["Content-Type"] == "application/json" and PAGE not in body


async def test_other_files_of_the_build_are_served_and_revalidated(spa_client: Any) -> None:
    status, body, headers = await get(spa_client, "/favicon.svg")
    assert (status, body, headers["Cache-Control"]) == (200, "<svg/>", "no-cache")


@pytest.mark.parametrize(
    "path", ["/api/no-such-thing", "/api", "/twilio/voice", "/health/nope", "/ws/browser", "/internal/whatsapp/x",
             "/version/x", "/static/x.js"],
)  # fmt: skip
async def test_the_apis_own_paths_are_never_the_page(spa_client: Any, path: str) -> None:
    status, body, headers = await get(spa_client, path)
    assert status in (404, 405) and headers["Content-Type"] == "application/json" and PAGE not in body


async def test_the_api_still_answers_beside_it(spa_client: Any) -> None:
    status, body, headers = await get(spa_client, "/api/health")
    assert status == 200 and headers["Content-Type"] == "application/json"
    status, body, _ = await get(spa_client, "/readyz")
    assert status in (200, 503) and '"status"' in body
    status, body, _ = await get(spa_client, "/api/openapi.json")
    assert status == 200 and '"/<path:path>"' not in body and '"/{path}"' not in body


@pytest.mark.parametrize("path", ["/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"])
async def test_nothing_outside_the_build_is_served(spa_client: Any, path: str) -> None:
    _, body, _ = await get(spa_client, path)
    assert "not for the browser" not in body


async def test_off_unless_spa_dist_is_set(client: Any) -> None:
    status, body, headers = await get(client, "/")
    assert status == 404 and headers["Content-Type"] == "application/json"
    status, _, _ = await get(client, "/calls/123")
    assert status == 404


def test_spa_dist_must_be_a_built_spa(tmp_path: Path, dist: Path) -> None:
    assert Settings.from_env({"SPA_DIST": str(dist)}).spa_dist == dist
    assert Settings.from_env({}).spa_dist is None
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"SPA_DIST": str(tmp_path / "empty"), "CALLS_PUBLIC_WS_URL": "http://x"})
    text = str(err.value)
    assert "SPA_DIST" in text and "index.html" in text and "CALLS_PUBLIC_WS_URL" in text
    settings = Settings.from_env({"CALLS_PUBLIC_WS_URL": "ws://127.0.0.1:5050/"})
    assert settings.calls_public_ws_url == "ws://127.0.0.1:5050"
