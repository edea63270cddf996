"""Logging set-up for the API processes (``python -m api`` and each multi-worker child)."""

from __future__ import annotations

import logging

__all__ = ["configure_logging"]


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # /readyz asks Alembic for the revision on every probe; its INFO lines are noise there.
    logging.getLogger("alembic").setLevel(logging.WARNING)
