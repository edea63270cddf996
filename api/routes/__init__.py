"""One blueprint per resource."""

from __future__ import annotations

from api.routes import auth, calls, directory, docs, email_accounts, events, health, leads, twilio

__all__ = ["BLUEPRINTS"]

BLUEPRINTS = [health.bp, twilio.bp, auth.bp, leads.bp, calls.bp, directory.businesses, directory.users, events.bp,
              email_accounts.bp, docs.bp]
