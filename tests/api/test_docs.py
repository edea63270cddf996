"""``/api/docs``: Swagger UI served from the package's own files, nothing from another origin."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from api.routes import docs

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


class _Refs(HTMLParser):
    """Every URL the page makes the browser load (scripts, styles, icons, images)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


async def _page(client: Any) -> tuple[Any, str, list[str]]:
    resp = await client.get("/api/docs")
    html = await resp.get_data(as_text=True)
    parser = _Refs()
    parser.feed(html)
    return resp, html, parser.urls


async def test_page_is_html_that_loads_only_same_origin_assets(client: Any) -> None:
    resp, html, urls = await _page(client)
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert not re.search(r"(?i)\b(https?:)?//", html), "the page names another origin"
    scripts = [u for u in urls if u.split("?")[0].endswith(".js")]
    assert any("swagger-ui-bundle.js" in u for u in scripts) and any("init.js" in u for u in scripts)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp and "http" not in csp


async def test_every_asset_the_page_names_is_served_with_its_type_and_cached(client: Any) -> None:
    _, _, urls = await _page(client)
    types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    assets = [u for u in urls if u.startswith(docs.ASSET_PREFIX)]
    assert len(assets) == len(docs.ASSETS)
    for url in assets:
        resp = await client.get(url)
        body = await resp.get_data()
        assert resp.status_code == 200, url
        suffix = "." + url.split("?")[0].rsplit(".", 1)[-1]
        assert resp.mimetype == types[suffix], (url, resp.mimetype)
        assert resp.headers["Cache-Control"] == docs.IMMUTABLE
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert len(body) > 100
    bundle = await (await client.get(f"{docs.ASSET_PREFIX}swagger-ui-bundle.js")).get_data(as_text=True)
    assert "SwaggerUIBundle" in bundle and len(bundle) > 500_000  # the real swagger-ui build


async def test_the_page_reads_the_apis_own_openapi_document_offline(client: Any) -> None:
    init = await (await client.get(f"{docs.ASSET_PREFIX}init.js")).get_data(as_text=True)
    assert 'url: "/api/openapi.json"' in init
    assert "validatorUrl: null" in init  # else the page asks validator.swagger.io for a badge
    assert "X-CSRF-Token" in init
    assert (await client.get("/api/openapi.json")).status_code == 200  # the same access: no login


async def test_unversioned_asset_is_revalidated_and_etag_gives_304(client: Any) -> None:
    resp = await client.get(f"{docs.ASSET_PREFIX}swagger-ui.css")
    assert resp.headers["Cache-Control"] == "no-cache"
    etag = resp.headers["ETag"]
    again = await client.get(f"{docs.ASSET_PREFIX}swagger-ui.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("name", ["index.html", "..%2f..%2fsetup.cfg", "swagger-ui-bundle.js.map", "LICENSE"])
async def test_only_the_listed_assets_are_served(client: Any, name: str) -> None:
    resp = await client.get(f"{docs.ASSET_PREFIX}{name}")
    assert resp.status_code == 404
    assert (await resp.get_json())["error"]["code"] == "not_found"
