"""The SPA's server (nginx/frontend/templates/frontend.conf.template), on its own as the frontend
container runs it and through the gateway: caching, compression, client-side routes."""

from __future__ import annotations

import gzip

import pytest

from tests.nginx.conftest import ASSET, INDEX, Nginx, request

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(params=["frontend", "gateway"])
def port(request: pytest.FixtureRequest) -> int:
    server: Nginx = request.getfixturevalue("frontend" if request.param == "frontend" else "plain")
    return server.ports["http"]


@pytest.mark.parametrize("path", ["/", "/index.html", "/calls/123", "/settings/team?tab=2", "/login"])
def test_pages_are_the_spa_never_cached(port: int, path: str) -> None:
    resp = request(port, path)
    assert resp.status == 200 and resp.body == INDEX, path
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-store"


def test_hashed_assets_are_cached_for_good(port: int) -> None:
    resp = request(port, "/assets/app-abc123.js")
    assert resp.status == 200 and resp.body == ASSET
    assert resp.headers["cache-control"] == IMMUTABLE
    assert "javascript" in resp.headers["content-type"]


@pytest.mark.parametrize("path", ["/assets/app-abc123.js", "/assets/app-abc123.css"])
def test_js_and_css_are_gzipped(port: int, path: str) -> None:
    plain = request(port, path).body
    resp = request(port, path, headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("content-encoding") == "gzip"
    assert "Accept-Encoding" in resp.headers.get("vary", "")
    assert gzip.decompress(resp.body) == plain and len(resp.body) < len(plain)


def test_a_missing_asset_is_a_404_not_the_page(port: int) -> None:
    resp = request(port, "/assets/x.js")
    assert resp.status == 404 and resp.body != INDEX
    assert "immutable" not in resp.headers.get("cache-control", "")


def test_health(frontend: Nginx) -> None:
    resp = request(frontend.ports["http"], "/health")
    assert (resp.status, resp.body) == (200, b"ok\n")


def test_internal_is_not_the_spa(frontend: Nginx) -> None:
    assert request(frontend.ports["http"], "/internal/whatsapp/events").status == 404


def test_api_json_is_gzipped_by_the_gateway(plain: Nginx) -> None:
    resp = request(plain.ports["http"], "/api/calls?" + "x" * 2000, headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200 and resp.headers.get("content-encoding") == "gzip"
    assert b"/api/calls" in gzip.decompress(resp.body)
