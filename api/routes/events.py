"""``GET /api/events``: server-sent events of the caller's business, fed from ``calls:events``:
``call_started``, ``call_ended``, ``rejected`` and ``whatsapp_state`` (``{business_id, state, ts}``).

Streams subscribe to the process's ``EventHub`` (api/event_hub.py): one task reads the Redis
stream for every stream of the process, so an open stream holds no thread, no database
connection and no token of the request limiters, only a bounded memory channel. Caps per user
and per business close the *oldest* stream with a final ``closed`` event naming the reason; the
process-wide cap answers 503. ``Last-Event-ID`` resumes after a reconnect (one ``XRANGE``). A
comment line every ``KEEPALIVE_SECONDS`` keeps proxies from closing an idle stream. Every
``SESSION_RECHECK_SECONDS`` the stream checks that the session it was opened with is still live:
a logout (or a password change, deactivation, an admin, a timeout) ends it with a final
``closed`` event, reason ``session_ended``, as it ends every other request of that session.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import cast

import trio
from quart import Blueprint, Response, request
from quart_schema import tag_blueprint, validate_querystring

from api.auth import authenticated, session_credentials, still_logged_in
from api.errors import Unavailable
from api.event_hub import WHATSAPP_STATE, Entry, EventHub, HubFull, entry_key
from api.openapi import responds
from api.runtime import current_runtime
from api.schemas import ScopeQuery
from api.security import Caller
from contracts import keys as call_keys

__all__ = ["bp", "format_closed", "format_event"]

bp = Blueprint("events", __name__, url_prefix="/api")
tag_blueprint(bp, ["calls"])
KEEPALIVE_SECONDS = 5.0
SESSION_RECHECK_SECONDS = 30.0  # one small query per stream per half minute (1,000 streams: ~33/s)
READY_TIMEOUT_SECONDS = 5.0  # the hub's first read of Redis; longer means Redis is down
RESUME_MAX_ENTRIES = 1000  # Last-Event-ID backlog sent at most (the stream keeps ~10,000)
FORWARDED = frozenset({"call_started", "call_ended", "rejected", WHATSAPP_STATE})
_STREAM_ID = "0123456789-"


def format_event(entry_id: str, fields: dict[str, str]) -> str:
    """One SSE message (pure)."""
    data = json.dumps({k: v for k, v in fields.items() if k != "type"}, separators=(",", ":"))
    return f"id: {entry_id}\nevent: {fields.get('type', 'message')}\ndata: {data}\n\n"


def format_closed(reason: str) -> str:
    """The last SSE message of a stream the server closes (pure)."""
    return f"event: closed\ndata: {json.dumps({'reason': reason})}\n\n"


def _visible(fields: dict[str, str], business: str | None) -> bool:
    return fields.get("type") in FORWARDED and (business is None or fields.get("business_id") == business)


@bp.get("/events")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the event stream (Last-Event-ID resumes after a reconnect; a final `closed` event names "
          "why the server ended it)", content="text/event-stream")
@responds(503, "too many event streams open in this process, or Redis unreachable")
async def events(caller: Caller, query_args: ScopeQuery) -> Response:
    """Server-sent events: call_started, call_ended, rejected, whatsapp_state"""
    query = query_args
    business: str | None = None
    if not caller.is_system_admin or query.business_id is not None:
        business = str(caller.scope(query.business_id))
    rt = current_runtime()
    hub = cast(EventHub, rt.extras["event_hub"])
    credentials = session_credentials()
    last = request.headers.get("Last-Event-ID", "")
    resume = last if last and all(c in _STREAM_ID for c in last) and last.count("-") <= 1 else ""
    try:
        sub = hub.subscribe(caller.user_id, business)
    except HubFull:
        raise Unavailable("too many event streams open; retry later", code="too_many_streams") from None
    try:
        with trio.move_on_after(READY_TIMEOUT_SECONDS):
            await hub.wait_ready()
        if not hub.ready:
            raise Unavailable("Redis is unreachable", code="redis_unavailable")
        backlog: list[Entry] = []
        if resume:
            # Registered first, so nothing between this read and the live entries is lost;
            # live entries already in the backlog are skipped below.
            found = await rt.redis_call(
                lambda client: client.xrange(call_keys.EVENTS, min="(" + resume, max="+", count=RESUME_MAX_ENTRIES)
            )
            backlog = [(str(entry_id), dict(fields)) for entry_id, fields in found]
    except BaseException:
        hub.unsubscribe(sub)
        raise

    async def stream() -> AsyncIterator[str]:
        seen = entry_key(backlog[-1][0]) if backlog else (0, 0)
        recheck_at = trio.current_time() + SESSION_RECHECK_SECONDS * (0.75 + random.random() / 2)  # noqa: S311
        try:
            yield ": connected\n\n"
            for entry_id, fields in backlog:
                if _visible(fields, business):
                    yield format_event(entry_id, fields)
            while True:
                entry: Entry | None = None
                ended = False
                # Jittered: after a broadcast every stream's timer restarts at once, and 1,000
                # keepalives written in one burst would stall the event loop.
                with trio.move_on_after(KEEPALIVE_SECONDS * (0.75 + random.random() / 2)):  # noqa: S311
                    try:
                        entry = await sub.receive()
                    except trio.EndOfChannel:
                        ended = True
                if ended:
                    if sub.closed_reason is not None:
                        yield format_closed(sub.closed_reason.value)
                    return
                if credentials is not None and trio.current_time() >= recheck_at:
                    if not await still_logged_in(rt, credentials):
                        yield format_closed("session_ended")
                        return
                    recheck_at = trio.current_time() + SESSION_RECHECK_SECONDS
                if entry is None:
                    yield ": keepalive\n\n"
                elif entry_key(entry[0]) > seen and _visible(entry[1], business):
                    yield format_event(*entry)
        finally:
            hub.unsubscribe(sub)

    response = Response(stream(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.timeout = None
    return response
