"""``api.wsgi:app`` for Hypercorn's multi-worker mode (API_WORKERS > 1): each worker process
imports this module and builds its own app (its own engine, Redis pool and limiters)."""

from __future__ import annotations

from api.app import create_app
from api.settings import Settings

app = create_app(Settings.from_env())
