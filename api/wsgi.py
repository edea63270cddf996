"""``api.wsgi:app`` for Hypercorn's multi-worker mode (API_WORKERS > 1): each worker process
imports this module and builds its own app (its own engine, Redis pool and limiters)."""

from __future__ import annotations

from api.app import create_app
from api.logs import configure_logging
from api.settings import Settings

_settings = Settings.from_env()
configure_logging(_settings.log_level)
app = create_app(_settings)
