"""``/api/whatsapp``: the business's WhatsApp session, conversations and messages (the SPA).

The gateway (``api.services.whatsapp_gateway``) is asked in a worker thread after the
business's shard is read from the database in its own short transaction, so no database
connection waits on WhatsApp. Gateway refusals become JSON errors naming the problem:
409 ``not_connected``, 422 ``invalid_number``, 423 ``reach_out_limited`` (with ``until``),
409 ``wrong_shard`` (naming the shard), 404 ``no_qr``, 503 ``gateway_unavailable``
(unreachable, timed out, shard not configured) and 502 for any other gateway answer.

Roles: agents read and answer conversations; connecting, the QR and logging out (which
unlinks the business's phone) need an admin.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import trio
from quart import Blueprint, Response, jsonify, request
from quart_schema import tag_blueprint, validate_querystring, validate_request

from api.auth import authenticated
from api.db.models import Role
from api.errors import ApiError, Conflict, NotFound, Unavailable, Unprocessable
from api.openapi import responds
from api.routes.webhooks import enqueue_delivery
from api.runtime import Runtime, current_runtime
from api.schemas import ScopeQuery, path_id
from api.security import Caller
from api.services import whatsapp
from api.services import whatsapp_gateway as wa
from api.whatsapp_schemas import (
    ConversationPage,
    MessagePage,
    MessagesQuery,
    ReadResult,
    SendBody,
    WhatsAppMessage,
    WhatsAppQr,
    WhatsAppStatus,
)
from contracts.wa_events import SessionInfo

__all__ = ["bp", "gateway_error"]

T = TypeVar("T")
bp = Blueprint("whatsapp", __name__, url_prefix="/api/whatsapp")
tag_blueprint(bp, ["whatsapp"])
ID = path_id("lead_id")
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY = 100
GATEWAY_RETRY_AFTER_SECONDS = 5


class Locked(ApiError):
    status, default_code = 423, "reach_out_limited"


class BadGateway(ApiError):
    status, default_code = 502, "bad_gateway"


def gateway_error(exc: wa.GatewayError) -> ApiError:
    """The API's JSON error for a gateway refusal."""
    if isinstance(exc, wa.NotConnected):
        return Conflict("WhatsApp is not connected for this business: connect and scan the QR code",
                        code="not_connected")
    if isinstance(exc, wa.InvalidNumber):
        return Unprocessable(exc.message, code="invalid_number")
    if isinstance(exc, wa.ReachOutLimited):
        return Locked(exc.message, details={"until": exc.until_text})
    if isinstance(exc, wa.WrongShard):
        return Conflict(f"WhatsApp shard {exc.requested} answered as shard {exc.shard_id}: {exc.message}",
                        code="wrong_shard", details={"shard": exc.requested, "answered_as": exc.shard_id})
    if isinstance(exc, wa.NoQr):
        return NotFound(exc.message, code="no_qr")
    if isinstance(exc, wa.GatewayUnavailable | wa.ShardNotConfigured):
        return Unavailable(exc.message, code="gateway_unavailable", details={"gateway_code": exc.code},
                           retry_after_seconds=GATEWAY_RETRY_AFTER_SECONDS)
    return BadGateway(exc.message, code=exc.code)


def _gateway(rt: Runtime) -> wa.Gateway:
    client = rt.extras.get("whatsapp_gateway")
    if not isinstance(client, wa.Gateway):
        client = rt.extras["whatsapp_gateway"] = wa.Gateway.from_settings(rt.settings)
    return client


async def _ask(business_id: int, call: Callable[..., T], *args: Any) -> T:
    """``call(None, business_id, *args, shard=…)`` on the business's current shard, in a thread.

    Raises:
        ApiError: the gateway's refusal (``gateway_error``); 404 for an unknown business.
    """
    rt = current_runtime()
    try:
        shard = await rt.db(wa.shard_of, business_id)
    except wa.BusinessNotFound as exc:
        raise NotFound(str(exc), code="business_not_found") from exc
    try:
        return await trio.to_thread.run_sync(functools.partial(call, None, business_id, *args, shard=shard))
    except wa.GatewayError as exc:
        raise gateway_error(exc) from exc


def _status_json(business_id: int, info: SessionInfo | None, stored: dict[str, Any] | None, shard: int,
                 detail: str | None) -> dict[str, Any]:
    if info is not None:
        return {
            "business_id": business_id, "shard_id": info.shard_id, "state": info.state, "reason": info.reason,
            "me": None if info.me is None else {"phone": info.me.phone, "lid": info.me.lid}, "qr": info.qr,
            "limited_until": (stored or {}).get("limited_until"), "updated_at": info.updated_at,
            "gateway_reachable": True, "source": "gateway",
        }
    base = stored or {"shard_id": shard, "state": "unknown", "reason": None, "me": None, "limited_until": None,
                      "updated_at": None}
    return {"business_id": business_id, **base, "qr": None, "gateway_reachable": False,
            "source": "stored" if stored else "none", "detail": detail}


@bp.get("/status")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the session (from the gateway, or the last stored state when it is down)", model=WhatsAppStatus)
@responds(409, "wrong_shard: the shard's URL answers as another shard")
async def whatsapp_status(caller: Caller, query_args: ScopeQuery) -> Response:
    """WhatsApp session state"""
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    stored = await rt.db(whatsapp.stored_session, business_id)
    try:
        info = await _ask(business_id, _gateway(rt).status)
    except Unavailable as exc:
        shard = await rt.db(wa.shard_of, business_id)
        return jsonify(_status_json(business_id, None, stored, shard, exc.message))
    return jsonify(_status_json(business_id, info, stored, info.shard_id, None))


@bp.post("/connect")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "the session; with the QR to scan when state is qr", model=WhatsAppStatus)
@responds(409, "wrong_shard")
@responds(502, "the gateway refused")
@responds(503, "the gateway is unavailable")
async def whatsapp_connect(caller: Caller, query_args: ScopeQuery) -> Response:
    """Start the WhatsApp session"""
    return await _session_action(caller.scope(query_args.business_id), "start")


@bp.get("/qr")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "the QR code to scan and when it expires", model=WhatsAppQr)
@responds(404, "no_qr: the session is not waiting for a scan")
@responds(409, "wrong_shard")
@responds(502, "the gateway refused")
@responds(503, "the gateway is unavailable")
async def whatsapp_qr(caller: Caller, query_args: ScopeQuery) -> Response:
    """The QR code to link WhatsApp"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await _ask(business_id, _gateway(current_runtime()).qr))


@bp.post("/logout")
@authenticated(Role.ADMIN)
@validate_querystring(ScopeQuery)
@responds(200, "logged out: the phone unlinks the device; a new QR scan is needed", model=WhatsAppStatus)
@responds(409, "wrong_shard")
@responds(502, "the gateway refused")
@responds(503, "the gateway is unavailable")
async def whatsapp_logout(caller: Caller, query_args: ScopeQuery) -> Response:
    """Log WhatsApp out"""
    return await _session_action(caller.scope(query_args.business_id), "logout")


async def _session_action(business_id: int, action: str) -> Response:
    """Ask the business's shard to ``start`` or ``logout`` its session; answer the new status."""
    rt = current_runtime()
    gateway = _gateway(rt)
    info = await _ask(business_id, gateway.start if action == "start" else gateway.logout)
    stored = await rt.db(whatsapp.stored_session, business_id)
    return jsonify(_status_json(business_id, info, stored, info.shard_id, None))


def _idempotency_key() -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return uuid.uuid4().hex
    if not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise Unprocessable(f"{IDEMPOTENCY_HEADER} must be 1-{MAX_KEY} printable ASCII characters",
                            code="invalid_idempotency_key")
    return key


@bp.post("/messages")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(SendBody)
@responds(201, "sent and stored (duplicate true: the Idempotency-Key was used before; nothing sent again)",
          model=WhatsAppMessage)
@responds(404, "no such lead in your business")
@responds(409, "not_connected, opted_out or wrong_shard")
@responds(423, "reach_out_limited: WhatsApp refuses new contacts until details.until")
@responds(502, "the gateway refused")
@responds(503, "the gateway is unavailable: retry with the same Idempotency-Key")
async def send_whatsapp_message(caller: Caller, query_args: ScopeQuery, data: SendBody) -> tuple[Response, int]:
    """Send a WhatsApp text message

    The ``Idempotency-Key`` header (1-100 characters) makes a retry safe: the gateway sends a
    key once and answers the same message id again. Without one a key is generated.
    """
    business_id = caller.scope(query_args.business_id)
    key = _idempotency_key()
    rt = current_runtime()
    to = await rt.db(whatsapp.recipient, business_id, data.lead_id, data.phone)
    result = await _ask(business_id, _gateway(rt).send_text, to, data.text, f"api-{business_id}-{key}")
    message, delivery_id = await rt.db(whatsapp.record_outbound, business_id, to, data.text, result.message_id)
    await enqueue_delivery(delivery_id)
    return jsonify({**message, "duplicate": result.duplicate}), 201


@bp.get("/conversations")
@authenticated()
@validate_querystring(MessagesQuery)
@responds(200, "leads with WhatsApp messages, latest first, with the last message and the unread count",
          model=ConversationPage)
async def list_whatsapp_conversations(caller: Caller, query_args: MessagesQuery) -> Response:
    """WhatsApp conversations"""
    query = query_args
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(whatsapp.conversations, business_id, query.page, query.per_page)
    return jsonify(page.to_json())


@bp.get(f"/conversations/{ID}/messages")
@authenticated()
@validate_querystring(MessagesQuery)
@responds(200, "the lead's WhatsApp messages, newest first", model=MessagePage)
async def list_whatsapp_messages(caller: Caller, query_args: MessagesQuery, lead_id: int) -> Response:
    """A conversation's messages"""
    query = query_args
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(whatsapp.lead_messages, business_id, lead_id, query.page, query.per_page)
    return jsonify(page.to_json())


@bp.post(f"/conversations/{ID}/read")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "marked read here; receipts says whether the sender's phone was told", model=ReadResult)
async def mark_whatsapp_read(caller: Caller, query_args: ScopeQuery, lead_id: int) -> Response:
    """Mark a conversation read"""
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    chat, message_ids = await rt.db(whatsapp.mark_read, business_id, lead_id)
    if not message_ids:
        return jsonify({"marked": 0, "receipts": "none"})
    try:
        await _ask(business_id, _gateway(rt).mark_read, chat, message_ids)
    except ApiError as exc:  # marked here all the same; the phone just keeps its grey ticks
        return jsonify({"marked": len(message_ids), "receipts": "failed", "detail": f"{exc.code}: {exc.message}"})
    return jsonify({"marked": len(message_ids), "receipts": "sent"})
