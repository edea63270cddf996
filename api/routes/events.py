"""``GET /api/events``: server-sent events of the caller's business, fed from ``calls:events``.

Each stream blocks on ``XREAD`` in a worker thread on its own Redis client (no socket timeout
shorter than the block), so it never holds a token of the request limiters. Streams are capped
per process (``MAX_STREAMS``); the next one gets 503. ``Last-Event-ID`` resumes after a
reconnect. A comment line every ``BLOCK_MS`` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, cast

import redis
import trio
from quart import Blueprint, Response, request
from quart_schema import tag_blueprint, validate_querystring

from api.auth import authenticated
from api.errors import Unavailable
from api.openapi import responds
from api.runtime import current_runtime
from api.schemas import ScopeQuery
from api.security import Caller
from contracts import keys as call_keys

__all__ = ["bp"]

bp = Blueprint("events", __name__, url_prefix="/api")
tag_blueprint(bp, ["calls"])
MAX_STREAMS = 100  # per process; each holds one Redis connection while blocked
BLOCK_MS = 5000
FORWARDED = frozenset({"call_started", "call_ended", "rejected"})
_STREAM_ID = "0123456789-"


def _client(rt: Any) -> redis.Redis:
    client = rt.extras.get("sse_redis")
    if client is None:
        client = rt.extras["sse_redis"] = redis.Redis.from_url(
            rt.settings.redis_url, max_connections=MAX_STREAMS + 10, socket_timeout=BLOCK_MS / 1000 + 5,
            socket_connect_timeout=2, decode_responses=True,
        )
        rt.extras["sse_limiter"] = trio.CapacityLimiter(MAX_STREAMS)
    return cast(redis.Redis, client)


def format_event(entry_id: str, fields: dict[str, str]) -> str:
    """One SSE message (pure)."""
    data = json.dumps({k: v for k, v in fields.items() if k != "type"}, separators=(",", ":"))
    return f"id: {entry_id}\nevent: {fields.get('type', 'message')}\ndata: {data}\n\n"


@bp.get("/events")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the event stream (Last-Event-ID resumes after a reconnect)", content="text/event-stream")
@responds(503, "too many event streams open")
async def events(caller: Caller, query_args: ScopeQuery) -> Response:
    """Server-sent events: call_started, call_ended, rejected"""
    query = query_args
    business: str | None = None
    if not caller.is_system_admin or query.business_id is not None:
        business = str(caller.scope(query.business_id))
    rt = current_runtime()
    client = _client(rt)
    limiter: trio.CapacityLimiter = rt.extras["sse_limiter"]
    token = object()
    try:
        limiter.acquire_on_behalf_of_nowait(token)
    except trio.WouldBlock:
        raise Unavailable("too many event streams open; retry later", code="too_many_streams") from None
    last = request.headers.get("Last-Event-ID", "")
    last_id = last if last and all(c in _STREAM_ID for c in last) else "$"

    def read(after: str) -> list[Any]:
        return cast(list[Any], client.xread({call_keys.EVENTS: after}, count=100, block=BLOCK_MS) or [])

    async def stream() -> AsyncIterator[str]:
        after = last_id
        try:
            if after == "$":
                # Resolve "$" once so no event between two reads is lost.
                newest = await trio.to_thread.run_sync(lambda: client.xrevrange(call_keys.EVENTS, count=1))
                after = str(newest[0][0]) if newest else "0-0"
            yield ": connected\n\n"
            while True:
                batches = await trio.to_thread.run_sync(read, after, abandon_on_cancel=True)
                sent = False
                for _stream, entries in batches:
                    for entry_id, fields in entries:
                        after = entry_id
                        if fields.get("type") not in FORWARDED:
                            continue
                        if business is not None and fields.get("business_id") != business:
                            continue
                        sent = True
                        yield format_event(entry_id, fields)
                if not sent:
                    yield ": keepalive\n\n"
        finally:
            limiter.release_on_behalf_of(token)

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.timeout = None
    return response
