"""One blueprint per resource."""

from __future__ import annotations

from api.routes import attachments, auth, calls, directory, docs, events, health, leads, twilio, webhooks

__all__ = ["BLUEPRINTS"]

BLUEPRINTS = [health.bp, twilio.bp, auth.bp, leads.bp, calls.bp, directory.businesses, directory.users, events.bp,
              attachments.bp, docs.bp, webhooks.bp]
