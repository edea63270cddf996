"""The built SPA served by the API itself, when ``SPA_DIST`` names it (off unless set).

The local stack (``make run``, scripts/localstack.py) has no nginx in front of the API, so the
API serves ``frontend/dist`` the way nginx/frontend's server does in a deployment:

* ``/assets/…``: Vite's hashed bundles, cached for good (a new build gets new names); a missing
  one is a 404, never the page (an old page asking for a bundle a build removed must not get
  HTML as JavaScript);
* another file of the build (``/favicon.svg``): served, revalidated on each use;
* any other path is a client-side route (``/calls/123``): ``index.html``, never cached, so a
  new build is seen at the next load.

The API's own paths are never shadowed: a path whose first segment is one of the app's routes'
(``/api/…``, ``/twilio/…``, ``/readyz``, ``/health/…``, ``/version``, …) or the calls
service's (``/ws/…``) or ``/internal/…`` is the API's, and an unknown one stays a JSON 404.
These routes are not API operations: the OpenAPI document leaves them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from quart import Response, send_file
from quart_schema import hide

from api.errors import NotFound

if TYPE_CHECKING:
    from quart_trio import QuartTrio

__all__ = ["ASSET_CACHE", "PAGE_CACHE", "register_spa"]

ASSET_CACHE = "public, max-age=31536000, immutable"  # hashed names: a new build, new names
PAGE_CACHE = "no-store"  # the page names the bundles: always the current build's
FILE_CACHE = "no-cache"  # other files keep their names across builds: revalidate
NOT_THE_SPA = frozenset({"ws", "internal"})  # the calls service's and the gateway's paths


def _inside(root: Path, path: str) -> Path | None:
    """``root/path`` when it is a file inside ``root`` (no ``..`` escape, no symlink out)."""
    candidate = (root / path).resolve()
    return candidate if candidate.is_relative_to(root) and candidate.is_file() else None


def register_spa(app: QuartTrio, dist: Path) -> None:
    """Serve ``dist`` (module docstring). Call after every blueprint is registered: the API's
    first path segments are read from the route table then."""
    root = dist.resolve()
    reserved = NOT_THE_SPA | {
        first for rule in app.url_map.iter_rules() if (first := rule.rule.lstrip("/").split("/", 1)[0])
    }

    async def _file(path: Path, cache: str) -> Response:
        response = await send_file(path, conditional=True)
        response.headers["Cache-Control"] = cache
        return response

    @hide
    async def spa(path: str = "") -> Response:
        first = path.split("/", 1)[0]
        if first in reserved:
            raise NotFound("no such route")
        found = _inside(root, path) if path else None
        if first == "assets":
            if found is None:
                raise NotFound("no such file in the build")
            return await _file(found, ASSET_CACHE)
        if found is not None and found.name != "index.html":
            return await _file(found, FILE_CACHE)
        return await _file(root / "index.html", PAGE_CACHE)

    app.add_url_rule("/", "spa_index", spa, methods=["GET"], defaults={"path": ""})
    app.add_url_rule("/<path:path>", "spa", spa, methods=["GET"])
