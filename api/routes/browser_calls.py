"""``POST /api/test-calls``: a business user talks to their own agent from the browser.

It does what the voice webhook does for a phone call (docs/ARCHITECTURE.md §2, §11) — the same
admission script (cluster capacity, the business's ``max_concurrent_calls`` and its
``calls:business:{id}:pending`` accounting), the call setup stored under a fresh ``CA…`` SID,
the call row opened — and answers with what the browser needs to open the media stream itself:
``/ws/browser?access=<token>`` (``contracts.browser_access``, valid ``ACCESS_TTL_SECONDS``) and
the ``customParameters`` to send in ``start`` (including the per-call stream token); with
``CALLS_PUBLIC_WS_URL`` set (the local stack, where the calls service has its own origin) also
the full ``ws_url`` to open.

A test call has no real caller: its "from" is the business's own number, the setup and the row
are marked ``test``, and the worker never makes a lead of it (``api.services.call_records``).
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring

from api.admission import admit
from api.auth import authenticated
from api.call_setup import SETUP_TTL_SECONDS, build_setup
from api.db.models import CallStatus, Role
from api.errors import Conflict, NotFound, TooManyRequests, Unavailable
from api.openapi import responds
from api.responses import BrowserCall
from api.runtime import current_runtime
from api.schemas import ScopeQuery
from api.security import Caller
from api.services import telephony
from contracts.browser_access import ACCESS_PARAMETER, ACCESS_TTL_SECONDS, mint_access_token
from contracts.call_token import TOKEN_PARAMETER, mint_call_token

__all__ = ["BROWSER_WS_PATH", "bp"]

log = logging.getLogger(__name__)
bp = Blueprint("browser_calls", __name__, url_prefix="/api/test-calls")
tag_blueprint(bp, ["calls"])
BROWSER_WS_PATH = "/ws/browser"
BUSY_RETRY_AFTER_SECONDS = 5
BUSY_MESSAGES = {
    "business_limit": "all of this business's lines are in use (max_concurrent_calls); try again when a call ends",
    "capacity": "every calls service is full; try again in a moment",
}


class Busy(TooManyRequests):
    """429 naming the admission script's reason (``business_limit`` or ``capacity``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(BUSY_MESSAGES.get(reason, f"refused: {reason}"), retry_after_seconds=BUSY_RETRY_AFTER_SECONDS)
        self.code = reason


def new_call_sid() -> str:
    return "CA" + secrets.token_hex(16)


@bp.post("")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(201, "admitted: open ws_path within expires_at and speak Twilio Media Streams", model=BrowserCall)
@responds(404, "no such business")
@responds(409, "the business is inactive (business_inactive), or no calls service is running (no_capacity)")
@responds(429, "busy: the business's lines (business_limit) or every calls service (capacity) are in use")
@responds(503, "test calls are not configured (INTERNAL_SECRET), or Redis is unreachable")
async def create(caller: Caller, query_args: ScopeQuery) -> tuple[Response, int]:
    """Start a browser test call with the business's own agent

    Admits the call exactly as the voice webhook would (same limits) and returns the
    WebSocket path and the ``start`` parameters; the browser then speaks Twilio Media Streams
    (μ-law 8 kHz, 20 ms frames) on ``ws_path``. A test call never creates or updates a lead.
    """
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    secret = rt.settings.internal_secret.reveal()
    if not secret:
        raise Unavailable("test calls need INTERNAL_SECRET (it signs the browser's access token)",
                          code="test_calls_not_configured")
    call_sid = new_call_sid()

    def open_row(session: Any) -> dict[str, Any] | None:
        business = telephony.business_for_test_call(session, business_id)
        if business is None or not business["is_active"]:
            return business
        number = business["phone_e164"]
        telephony.open_call(
            session, call_sid=call_sid, business_id=business_id, direction="inbound", caller=number, called=number,
            status=CallStatus.RINGING, test=True,
        )
        return business

    business = await rt.db(open_row)
    if business is None:
        raise NotFound("no such business", code="business_not_found")
    if not business["is_active"]:
        raise Conflict("the business is inactive and takes no calls", code="business_inactive")
    number = business["phone_e164"]
    now = time.time()
    setup = build_setup(
        call_sid=call_sid, business=business, direction="inbound", caller=number, called=number, lead=None,
        created_at_ms=int(now * 1000), test=True,
    )
    payload = setup.to_json().decode()
    try:
        refusal = await rt.redis_call(
            lambda c: admit(c, call_sid=call_sid, business_id=business_id, limit=business["max_concurrent_calls"],
                            setup_json=payload, ttl_seconds=SETUP_TTL_SECONDS)
        )
    except Exception as exc:
        # Unlike a phone call, nothing is connected yet: without the setup stored (and the
        # slot counted) the call would run on defaults, so refuse it.
        log.warning("test call %s refused: Redis unreachable (%s)", call_sid, exc)
        await rt.db(telephony.mark_rejected, call_sid, "redis_unavailable")
        raise Unavailable("Redis is unreachable; try again", code="redis_unavailable", retry_after_seconds=5) from exc
    if refusal is not None:
        await rt.db(telephony.mark_rejected, call_sid, refusal)
        log.info("test call %s for business %s refused: %s", call_sid, business_id, refusal)
        if refusal == "no_capacity":
            raise Conflict("no calls service is running, so no call can be taken", code="no_capacity")
        raise Busy(refusal)

    expires_at = int(now) + ACCESS_TTL_SECONDS
    access = mint_access_token(secret, call_sid, str(business_id), expires_at)
    parameters = {
        "business_id": str(business_id),
        TOKEN_PARAMETER: mint_call_token(secret, call_sid),
        "direction": "inbound",
        "from": number,
        "to": number,
        "test": "1",
    }
    log.info("test call %s admitted for business %s (user %s)", call_sid, business_id, caller.user_id)
    ws_path = f"{BROWSER_WS_PATH}?{ACCESS_PARAMETER}={access}"
    calls_origin = rt.settings.calls_public_ws_url
    body = {
        "call_sid": call_sid,
        "ws_path": ws_path,
        "ws_url": calls_origin + ws_path if calls_origin else None,
        "parameters": parameters,
        "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat(),
    }
    return jsonify(body), 201
