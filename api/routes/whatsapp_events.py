"""``POST /internal/whatsapp/events``: what the WhatsApp gateway shards report (docs/ARCHITECTURE.md §7).

Service-to-service: no session and no CSRF (CSRF only guards ``/api/``); the only credential
is the signature, ``X-ProSaaS-Signature: v1=<HMAC-SHA256(INTERNAL_SECRET, "<ts>.<raw body>")>``
with ``X-ProSaaS-Timestamp`` within ±300 s (``contracts.webhook_signature``). A missing, wrong
or stale signature is 401 before the body is parsed, and nothing is stored. The reverse proxy
does not route ``/internal/`` from outside (docs/ARCHITECTURE.md §7); the signature is what
protects it anyway.

An applied ``session.state`` event is also published to ``calls:events`` as a
``whatsapp_state`` entry for ``/api/events`` (``api.event_hub.publish_whatsapp_state``); Redis
being down only loses that live notice (logged), never the stored state.

Answers: 200 ``{"stored": true}`` or ``{"stored": false, "duplicate": true}`` (the same
``event_id``, or an inbound ``message_id`` already stored); 400 naming every problem of a body
that breaks the contract (the gateway drops it to its dead file rather than retrying); 503 when
the database is down (the gateway retries).
"""

from __future__ import annotations

import json
import logging
import time

from quart import Blueprint, Response, jsonify, request
from quart_schema import security_scheme, tag_blueprint

from api.errors import BadRequest, Unauthorized, Unavailable
from api.event_hub import publish_whatsapp_state
from api.openapi import SIGNED, responds
from api.routes.webhooks import enqueue_delivery
from api.runtime import current_runtime
from api.services.whatsapp_events import UnknownBusiness, apply_event
from contracts.wa_events import ContractError, SessionInfo, read_event
from contracts.webhook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("whatsapp_internal", __name__, url_prefix="/internal/whatsapp")
tag_blueprint(bp, ["internal"])


@bp.post("/events")
@security_scheme([{SIGNED: []}])
@responds(200, "stored, or a duplicate (stored false, duplicate true)")
@responds(400, "the body is not JSON or breaks the event contract (every problem named)")
@responds(401, "missing, wrong or stale signature (or INTERNAL_SECRET not configured)")
@responds(503, "the database is unavailable: retry")
async def receive_event() -> Response:
    """Receive a WhatsApp gateway event"""
    rt = current_runtime()
    raw = await request.get_data(cache=True, as_text=False)
    assert isinstance(raw, bytes)  # as_text=False
    secret = rt.settings.internal_secret.reveal()
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not secret:
        raise Unauthorized("INTERNAL_SECRET is not configured: gateway events are refused", code="not_configured")
    if not signature or not timestamp:
        raise Unauthorized(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required", code="bad_signature")
    if not verify(secret, raw, timestamp, signature, now=time.time()):
        raise Unauthorized("invalid or stale signature (the timestamp must be within 300 s)", code="bad_signature")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the body is not JSON: {exc}", code="malformed_json") from exc
    try:
        event = read_event(data)
    except ContractError as exc:
        raise BadRequest(str(exc), code="invalid_event", details={"problems": exc.problems}) from exc
    try:
        outcome = await rt.db(apply_event, event)
    except UnknownBusiness as exc:
        raise BadRequest(str(exc), code="unknown_business", details={"business_id": event.business_id}) from exc
    if not outcome.applied:
        log.info("whatsapp event %s (%s) recorded, not applied: %s", event.event_id, event.type, outcome.note)
    await enqueue_delivery(outcome.delivery_id)
    if outcome.stored and outcome.applied and isinstance(event.data, SessionInfo):
        try:
            await rt.redis_call(publish_whatsapp_state, event.business_id, event.data.state)
        except Unavailable as exc:  # the state is stored; only the live feed misses it
            log.warning("whatsapp_state of business %s not published: %s", event.business_id, exc.details)
    return jsonify(outcome.to_json())
