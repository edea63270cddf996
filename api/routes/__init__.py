"""One blueprint per resource."""

from __future__ import annotations

from api.routes import (
    attachments,
    auth,
    broadcasts,
    browser_calls,
    calls,
    dashboard,
    directory,
    docs,
    email_accounts,
    events,
    health,
    leads,
    ops,
    twilio,
    webhooks,
    whatsapp,
    whatsapp_events,
)

__all__ = ["BLUEPRINTS"]

BLUEPRINTS = [health.bp, twilio.bp, auth.bp, leads.bp, calls.bp, directory.businesses, directory.users, events.bp,
              attachments.bp, email_accounts.bp, docs.bp, webhooks.bp, whatsapp.bp,
              whatsapp_events.bp, broadcasts.bp, dashboard.bp, ops.bp, browser_calls.bp]
