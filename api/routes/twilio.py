"""Twilio webhooks (docs/ARCHITECTURE.md §2): ``/twilio/voice``, ``/twilio/stream-ended``, ``/twilio/status``.

Every request must carry a valid ``X-Twilio-Signature`` computed with twilio's
``RequestValidator`` over ``PUBLIC_BASE_URL`` + path (+ query) and the form parameters; an
invalid or missing one is answered 403 before anything is read or written (``@signed`` sits
above quart-schema's form validation). A signed form that its model refuses (``CallSid``
missing, unknown ``CallStatus``, …) is 422 with the fields named, like any other body.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import redis
from quart import Blueprint, Response, request
from quart_schema import DataSource, security_scheme, tag_blueprint, validate_request
from twilio.request_validator import RequestValidator

from api import twiml
from api.admission import admit, publish_rejected
from api.call_setup import SETUP_TTL_SECONDS, build_setup
from api.db.models import CallStatus
from api.errors import Forbidden, Unavailable
from api.openapi import TWILIO, responds
from api.phones import normalize_e164
from api.runtime import current_runtime
from api.schemas import TwilioCallback, TwilioStatusCallback, TwilioVoice
from api.services import telephony
from contracts import keys as call_keys
from contracts.call_token import TOKEN_PARAMETER, mint_call_token

__all__ = ["bp"]

log = logging.getLogger(__name__)
R = TypeVar("R")
bp = Blueprint("twilio", __name__, url_prefix="/twilio")
tag_blueprint(bp, ["twilio"])
SIGNATURE_HEADER = "X-Twilio-Signature"
STARTED_SCAN_LIMIT = 5000  # calls:events entries read to find a call_started (bounded work)


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


async def _check_signature() -> None:
    """Check Twilio's signature over the URL and the form.

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


def signed(func: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Route decorator: 403 unless Twilio signed the request; documents the signature scheme.

    Put it directly under the route decorator, above ``@validate_request(…, source=FORM)``, so
    nothing of an unsigned form is read into a model.
    """

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> R:
        await _check_signature()
        return await func(*args, **kwargs)

    return security_scheme([{TWILIO: []}])(wrapper)


@bp.post("/voice")
@signed
@validate_request(TwilioVoice, source=DataSource.FORM)
@responds(200, "TwiML: Connect Stream, or Reject (call already ended, unknown number, busy)", content="text/xml")
async def voice(data: TwilioVoice) -> Response:
    """Inbound or answered call: Connect Stream or Reject"""
    rt = current_runtime()
    settings = rt.settings
    call_sid = data.CallSid
    direction = "outbound" if data.Direction.startswith("outbound") else "inbound"
    # Inbound: the business owns To and the lead is From; an outbound call we placed through
    # the REST API comes back here with the roles swapped (From is the business number).
    own_raw, peer_raw = (data.To, data.From) if direction == "inbound" else (data.From, data.To)
    own = normalize_e164(own_raw)
    peer = normalize_e164(peer_raw) or peer_raw[:32]
    if own is None:
        log.info("call %s refused: %s=%r is not an E.164 number", call_sid, "To" if direction == "inbound" else "From", own_raw)
        return _xml(twiml.reject("rejected"))
    called, caller = (own, peer) if direction == "inbound" else (peer, own)

    twilio_status = data.CallStatus
    status = twilio_status if twilio_status in (CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS) else CallStatus.RINGING

    def lookup_and_open(session: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None, bool]:
        """One DB round trip: whether the call already ended, else the business, the
        caller's lead, and the call row."""
        if telephony.call_has_ended(session, call_sid):
            return None, None, True
        business = telephony.business_for_number(session, own)
        if business is None:
            return None, None, False
        lead = telephony.lead_for_caller(session, business["id"], peer)
        telephony.open_call(
            session, call_sid=call_sid, business_id=business["id"], direction=direction, caller=caller,
            called=called, status=status, lead_id=lead["id"] if lead else None,
        )
        return business, lead, False

    try:
        business, lead, ended = await rt.db(lookup_and_open)
    except Unavailable as exc:
        # 503 + Retry-After sends Twilio to the number's fallback URL; the body rejects the
        # call for a client that reads it anyway, so a dead call is never connected and billed.
        log.warning("call %s refused: %s", call_sid, exc.message)
        headers = {"Retry-After": str(exc.retry_after_seconds or 5)}
        return Response(twiml.reject("rejected"), status=503, mimetype="text/xml", headers=headers)
    if ended:  # a replayed webhook: never a fresh <Connect> (and token) for a call that is over
        log.info("call %s refused: the call already ended", call_sid)
        return _xml(twiml.reject("rejected"))
    if business is None:
        # Never a default business: an unknown number is refused, not routed to a guess.
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
@signed
@validate_request(TwilioCallback, source=DataSource.FORM)
@responds(200, "TwiML: Hangup, or Say busy then Hangup", content="text/xml")
async def stream_ended(data: TwilioCallback) -> Response:
    """Connect action: hang up (or say busy)

    Says "all lines busy" when the stream never started (the calls service refused it with 503
    before the upgrade).
    """
    call_sid = data.CallSid
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
@signed
@validate_request(TwilioStatusCallback, source=DataSource.FORM)
@responds(204, "reconciled (or already newer)", content=None)
async def status(data: TwilioStatusCallback) -> tuple[str, int]:
    """Status callback: reconcile the call's final status and duration (idempotent)"""
    call_sid, call_status = data.CallSid, data.CallStatus
    outcome = await current_runtime().db(
        lambda s: telephony.apply_status(
            s, call_sid=call_sid, status=call_status, duration=data.CallDuration, sequence=data.SequenceNumber,
            at=data.Timestamp,
        )
    )
    log.info("status callback call_sid=%s status=%s → %s", call_sid, call_status.value, outcome)
    return "", 204
