"""``GET /api/dashboard``: a business's numbers at a glance (``api/services/dashboard.py``).

Everyone of a business sees their own; a system admin names one with ``?business_id=`` or,
without it, sees every business together (``business_id`` null, the cluster's live calls, no
per-business limit and no WhatsApp session). Queue depths are for system admins only. Redis
down: the database numbers still answer and the Redis ones are null, with
``redis_available`` false (never a 5xx for it).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import trio
from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring
from redis import RedisError

from api.auth import authenticated
from api.openapi import responds
from api.responses import Dashboard
from api.runtime import current_runtime
from api.schemas import ScopeQuery
from api.security import Caller
from api.services import dashboard
from jobs import admin as jobs_admin

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("dashboard", __name__, url_prefix="/api")
tag_blueprint(bp, ["dashboard"])


@bp.get("/dashboard")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the numbers (Redis ones null with redis_available false while Redis is unreachable)",
          model=Dashboard)
async def get_dashboard(caller: Caller, query_args: ScopeQuery) -> Response:
    """Dashboard: live calls, calls per hour, rejections, queues, WhatsApp"""
    business_id: int | None = None
    if not caller.is_system_admin or query_args.business_id is not None:
        business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    now = datetime.now(UTC)
    body = await rt.db(dashboard.database_part, business_id, now)
    live: dict[str, Any] | None = None
    queues: list[dict[str, Any]] | None = None
    try:
        live = await trio.to_thread.run_sync(
            dashboard.live_part, rt.redis, business_id, int(time.time() * 1000), limiter=rt.redis_limiter)
        if caller.is_system_admin:

            def depths(client: Any) -> list[dict[str, Any]]:
                return dashboard.queue_list(jobs_admin.queue_depths(client), jobs_admin.dead_letter_count(client))

            queues = await trio.to_thread.run_sync(depths, rt.queue_redis(), limiter=rt.redis_limiter)
    except RedisError as exc:
        log.warning("dashboard without Redis numbers: %s", exc)
        live, queues = None, None
    body.update(
        active_calls=live["active_calls"] if live else None,
        cluster=live["cluster"] if live else None,
        queues=queues,
        redis_available=live is not None,
        generated_at=now.isoformat(),
    )
    return jsonify(body)
