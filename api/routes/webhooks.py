"""``/api/webhooks/deliveries``: the business's outbound webhook deliveries, and redelivery.

The events themselves are recorded where they happen (``api.services.webhooks``); this module
also holds ``enqueue_delivery``, which the routes that record an event call after the commit.
"""

from __future__ import annotations

import logging

from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring

from api.auth import authenticated
from api.db.models import Role
from api.errors import Unavailable
from api.openapi import responds
from api.responses import WebhookDelivery, WebhookDeliveryPage
from api.runtime import current_runtime
from api.schemas import DeliveriesQuery, ScopeQuery, path_id
from api.security import Caller
from api.services import webhooks
from jobs.enqueue import enqueue_webhook_delivery

__all__ = ["bp", "enqueue_delivery"]

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")
tag_blueprint(bp, ["webhooks"])
ID = path_id("delivery_id")


async def enqueue_delivery(delivery_id: int | None, attempts: int = 0) -> bool:
    """Enqueue a committed delivery; False (logged) when there is none or Redis is down. The
    change that made the event is committed and stays so: the row waits, pending, for the
    sweep that re-enqueues unsent deliveries (docs/ARCHITECTURE.md §5)."""
    if delivery_id is None:
        return False
    try:
        await current_runtime().redis_call(enqueue_webhook_delivery, delivery_id, attempts)
    except Unavailable as exc:
        log.warning("webhook delivery %s not enqueued: %s", delivery_id, exc)
        return False
    return True


@bp.get("/deliveries")
@authenticated(Role.ADMIN)
@validate_querystring(DeliveriesQuery)
@responds(200, "a page of webhook deliveries, newest first", model=WebhookDeliveryPage)
async def list_deliveries(caller: Caller, query_args: DeliveriesQuery) -> Response:
    """List webhook deliveries (filter by status and event)"""
    query = query_args
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(
        lambda s: webhooks.list_deliveries(
            s, business_id, status=query.status, event=query.event, page=query.page, per_page=query.per_page
        )
    )
    return jsonify(page.to_json())


@bp.post(f"/deliveries/{ID}/redeliver")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(202, "put back to pending and queued", model=WebhookDelivery)
@responds(404, "no such delivery in your business")
@responds(409, "the delivery is still pending")
async def redeliver(caller: Caller, query_args: ScopeQuery, delivery_id: int) -> tuple[Response, int]:
    """Send a delivered or failed webhook again"""
    business_id = caller.scope(query_args.business_id)
    row = await current_runtime().db(webhooks.prepare_redelivery, business_id, delivery_id)
    await enqueue_delivery(row["id"], row["attempts"])
    return jsonify(row), 202
