"""Twilio webhooks (docs/ARCHITECTURE.md §2): ``/twilio/voice``, ``/twilio/stream-ended``, ``/twilio/status``.

Every request must carry a valid ``X-Twilio-Signature`` computed with twilio's
``RequestValidator`` over ``PUBLIC_BASE_URL`` + path (+ query) and the form parameters; an
invalid or missing one is answered 403 before anything is read or written.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import redis
from quart import Blueprint, Response, request
from twilio.request_validator import RequestValidator

from api import twiml
from api.admission import admit, publish_rejected
from api.call_setup import SETUP_TTL_SECONDS, build_setup
from api.db.models import CallStatus
from api.errors import BadRequest, Forbidden
from api.phones import normalize_e164
from api.runtime import current_runtime
from api.services import telephony
from contracts import keys as call_keys
from contracts.call_token import TOKEN_PARAMETER, mint_call_token

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
SIGNATURE_HEADER = "X-Twilio-Signature"
CALL_SID = re.compile(r"[A-Za-z0-9]{2,64}")
STARTED_SCAN_LIMIT = 5000  # calls:events entries read to find a call_started (bounded work)


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


async def _signed_form() -> dict[str, str]:
    """The form parameters, after checking Twilio's signature.

    Raises:
        Forbidden: no auth token configured, or a missing/invalid signature.
    """
    settings = current_runtime().settings
    token = settings.twilio_auth_token.reveal()
    if not token or not settings.public_base_url:
        raise Forbidden(
            "Twilio webhooks are disabled: TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL must be set",
            code="twilio_not_configured",
        )
    form = await request.form
    params = {key: form.get(key, "") for key in form}
    url = settings.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not RequestValidator(token).validate(url, params, signature):
        raise Forbidden("invalid X-Twilio-Signature", code="bad_signature")
    return params


def _call_sid(params: dict[str, str]) -> str:
    sid = params.get("CallSid", "")
    if not CALL_SID.fullmatch(sid):
        raise BadRequest("CallSid missing or malformed", code="bad_call_sid")
    return sid


@bp.post("/voice")
async def voice() -> Response:
    params = await _signed_form()
    rt = current_runtime()
    settings = rt.settings
    call_sid = _call_sid(params)
    direction = "outbound" if params.get("Direction", "").startswith("outbound") else "inbound"
    # Inbound: the business owns To and the lead is From; an outbound call we placed through
    # the REST API comes back here with the roles swapped (From is the business number).
    own_param, peer_param = ("To", "From") if direction == "inbound" else ("From", "To")
    own = normalize_e164(params.get(own_param, ""))
    peer = normalize_e164(params.get(peer_param, "")) or params.get(peer_param, "")[:32]
    if own is None:
        log.info("call %s refused: %s=%r is not an E.164 number", call_sid, own_param, params.get(own_param))
        return _xml(twiml.reject("rejected"))
    called, caller = (own, peer) if direction == "inbound" else (peer, own)

    twilio_status = params.get("CallStatus", "")
    status = twilio_status if twilio_status in (CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS) else CallStatus.RINGING

    def lookup_and_open(session: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """One DB round trip: the business, the caller's lead, and the call row."""
        business = telephony.business_for_number(session, own)
        if business is None:
            return None, None
        lead = telephony.lead_for_caller(session, business["id"], peer)
        telephony.open_call(
            session, call_sid=call_sid, business_id=business["id"], direction=direction, caller=caller,
            called=called, status=status, lead_id=lead["id"] if lead else None,
        )
        return business, lead

    business, lead = await rt.db(lookup_and_open)
    if business is None:
        # Never a default business (older-system-inventory.md §8.12).
        log.info("call %s refused: no active business has number %s", call_sid, own)
        await _best_effort(rt.redis_call(publish_rejected, {"call_sid": call_sid, "reason": "unknown_number", "to": own}))
        return _xml(twiml.reject("rejected"))

    setup = build_setup(
        call_sid=call_sid, business=business, direction=direction, caller=caller, called=called,
        lead=lead, created_at_ms=int(time.time() * 1000),
    )
    payload = setup.to_json().decode()
    refusal: str | None = None
    try:
        refusal = await rt.redis_call(
            lambda c: admit(c, call_sid=call_sid, business_id=business["id"], limit=business["max_concurrent_calls"],
                            setup_json=payload, ttl_seconds=SETUP_TTL_SECONDS)
        )
    except Exception as exc:  # Redis down: the engine's own limiter still guards admission
        log.warning("call %s: capacity unknown (%s); connecting, the calls service admits or refuses", call_sid, exc)
    if refusal is not None:
        await rt.db(telephony.mark_rejected, call_sid, refusal)
        log.info("call %s for business %s refused busy: %s", call_sid, business["id"], refusal)
        return _xml(twiml.reject("busy"))

    parameters = {
        "business_id": str(business["id"]),
        TOKEN_PARAMETER: mint_call_token(settings.internal_secret.reveal(), call_sid),
        "direction": direction,
        "from": caller,
        "to": called,
    }
    return _xml(
        twiml.connect_stream(
            action_url=settings.public_base_url + "/twilio/stream-ended",
            stream_url=settings.stream_url,
            parameters=parameters,
        )
    )


async def _best_effort(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as exc:  # noqa: BLE001 - Redis side effects must not fail the webhook
        log.warning("Redis side effect skipped: %s", exc)


def _stream_started(client: redis.Redis, call_sid: str) -> bool:
    """Did the calls service ever run this call? (live state, or a call_started event since
    the webhook stored the setup)."""
    if client.exists(call_keys.call_state(call_sid)):
        return True
    raw = client.get(call_keys.call_setup(call_sid))
    since = "-"
    if raw:
        try:
            since = f"{int(json.loads(raw)['created_at_ms'])}-0"
        except (ValueError, KeyError, TypeError):
            since = "-"
    entries = cast("list[tuple[str, dict[str, str]]]", client.xrange(call_keys.EVENTS, min=since, max="+", count=STARTED_SCAN_LIMIT))
    for _id, event in entries:
        if event.get("type") == "call_started" and event.get("call_sid") == call_sid:
            return True
    return False


@bp.post("/stream-ended")
async def stream_ended() -> Response:
    """The ``<Connect action>``: hang up, or say "all lines busy" when the stream never started
    (the calls service refused it with 503 before the upgrade)."""
    params = await _signed_form()
    call_sid = _call_sid(params)
    rt = current_runtime()
    try:
        started = await rt.redis_call(_stream_started, call_sid)
    except Exception as exc:
        log.warning("call %s: cannot tell whether the stream started (%s); hanging up", call_sid, exc)
        started = True
    if started:
        return _xml(twiml.hangup())
    log.info("call %s: stream never started (calls service refused it); playing busy message", call_sid)
    return _xml(twiml.say_busy_and_hang_up())


@bp.post("/status")
async def status() -> tuple[str, int]:
    """Status callback: reconcile the call's final status and duration (idempotent)."""
    params = await _signed_form()
    call_sid = _call_sid(params)
    raw_status = params.get("CallStatus", "")
    try:
        call_status = CallStatus(raw_status)
    except ValueError:
        raise BadRequest(f"unknown CallStatus {raw_status!r}", code="bad_call_status") from None
    duration = _int_or_none(params.get("CallDuration"), "CallDuration")
    sequence = _int_or_none(params.get("SequenceNumber"), "SequenceNumber")
    at: datetime | None = None
    if params.get("Timestamp"):
        try:
            at = parsedate_to_datetime(params["Timestamp"]).astimezone(UTC)
        except (TypeError, ValueError):
            raise BadRequest("Timestamp is not an RFC 2822 date", code="bad_timestamp") from None
    outcome = await current_runtime().db(
        lambda s: telephony.apply_status(s, call_sid=call_sid, status=call_status, duration=duration, sequence=sequence, at=at)
    )
    log.info("status callback call_sid=%s status=%s → %s", call_sid, call_status.value, outcome)
    return "", 204


def _int_or_none(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BadRequest(f"{name} must be a non-negative integer", code="bad_parameter")
    return int(raw)
