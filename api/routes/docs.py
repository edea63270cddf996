"""``GET /api/docs``: the OpenAPI document as an interactive page (Swagger UI), offline.

The Swagger UI files come from the ``swagger-ui-py`` package, which ships the swagger-ui
distribution inside its wheel; they are served from here (``/api/docs/assets/…``), so the page
loads nothing from another origin: its Content-Security-Policy allows only this origin, and the
validator badge (which would call validator.swagger.io) is off. The page reads
``/api/openapi.json``; like that document it needs no login. "Try it out" runs requests from
the browser with its session cookie; after a login (or ``/api/auth/me``) the page sends the
returned CSRF token on state-changing requests, as the SPA does.

These routes are not API operations, so the OpenAPI document leaves them out (quart-schema's
``hide``; ``ROUTES`` names them for the tests).
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path

from quart import Blueprint, Response, request
from quart_schema import hide

from api.errors import NotFound
from api.security import CSRF_HEADER

__all__ = ["ASSETS", "ROUTES", "bp", "swagger_ui_version"]

bp = Blueprint("docs", __name__, url_prefix="/api/docs")

DISTRIBUTION = "swagger-ui-py"
ASSET_DIR = "swagger_ui/static"
ASSET_PREFIX = "/api/docs/assets/"
ROUTES = frozenset({("get", "/api/docs"), ("get", "/api/docs/assets/{name}")})

# The files the page uses, from the package, with their content types.
PACKAGED = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INIT = "init.js"
ASSETS = (*PACKAGED, INIT)

# Swagger UI sets style attributes and inlines small SVG/PNG images as data: URLs.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"  # asset URLs carry the package version

INIT_JS = """\
// Starts Swagger UI on /api/openapi.json (served by the API; nothing from another origin).
"use strict";
(function () {
  var csrf = null;
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: "/api/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      displayRequestDuration: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: function (req) {
        var method = (req.method || "GET").toUpperCase();
        if (csrf && ["GET", "HEAD", "OPTIONS"].indexOf(method) < 0) {
          req.headers["%(header)s"] = csrf;
        }
        return req;
      },
      responseInterceptor: function (res) {
        if (res && res.body && typeof res.body.csrf_token === "string") {
          csrf = res.body.csrf_token;
        }
        return res;
      }
    });
  });
})();
""" % {"header": CSRF_HEADER}

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ProSaaS API</title>
  <link rel="stylesheet" href="{prefix}swagger-ui.css?v={v}">
  <link rel="icon" type="image/png" sizes="32x32" href="{prefix}favicon-32x32.png?v={v}">
  <link rel="icon" type="image/png" sizes="16x16" href="{prefix}favicon-16x16.png?v={v}">
</head>
<body>
  <noscript>This page needs JavaScript; the document itself is <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
  <div id="swagger-ui"></div>
  <script src="{prefix}swagger-ui-bundle.js?v={v}"></script>
  <script src="{prefix}init.js?v={v}"></script>
</body>
</html>
"""


@functools.cache
def _distribution() -> metadata.Distribution:
    return metadata.distribution(DISTRIBUTION)


def swagger_ui_version() -> str:
    """The installed ``swagger-ui-py`` version (part of every asset URL, for caching)."""
    return _distribution().version


@functools.cache
def _asset_path(name: str) -> Path:
    return Path(str(_distribution().locate_file(f"{ASSET_DIR}/{name}")))


@functools.cache
def _asset_bytes(name: str) -> bytes:
    return _asset_path(name).read_bytes()


@bp.get("")
@hide
async def page() -> Response:
    html = PAGE.format(prefix=ASSET_PREFIX, v=swagger_ui_version())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/assets/<name>")
@hide
async def asset(name: str) -> Response:
    """One of ``ASSETS``; anything else is 404 (no path from the request reaches the disk)."""
    if name == INIT:
        body, content_type = INIT_JS.encode(), "text/javascript; charset=utf-8"
    elif name in PACKAGED:
        body, content_type = _asset_bytes(name), PACKAGED[name]
    else:
        raise NotFound(f"no docs asset {name!r}")
    response = Response(body, content_type=content_type)
    versioned = request.args.get("v") == swagger_ui_version()
    response.headers["Cache-Control"] = IMMUTABLE if versioned else "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    await response.add_etag()
    return await response.make_conditional(request)
