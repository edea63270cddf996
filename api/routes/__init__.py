"""One blueprint per resource."""

from __future__ import annotations

from api.routes import auth, health, twilio

__all__ = ["BLUEPRINTS"]

BLUEPRINTS = [health.bp, twilio.bp, auth.bp]
