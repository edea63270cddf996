"""``/api/calls``: list, detail, recording download (HTTP Range), outbound call to a lead."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import trio
from quart import Blueprint, Response, current_app, jsonify, request
from quart_schema import tag_blueprint, validate_querystring, validate_request
from quart_trio.wrappers.response import TrioFileBody
from requests import RequestException
from twilio.base.exceptions import TwilioRestException

from api.auth import authenticated
from api.errors import ApiError, Unavailable
from api.openapi import responds
from api.ranges import UNSATISFIABLE, ByteRange, select_range
from api.responses import Call, CallDetail, CallPage
from api.runtime import current_runtime
from api.schemas import CallsQuery, OutboundCall, ScopeQuery, path_id
from api.security import Caller
from api.services import calls
from api.twilio_rest import make_twilio_client

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("calls", __name__, url_prefix="/api/calls")
tag_blueprint(bp, ["calls"])
ID = path_id("call_id")


class TwilioFailed(ApiError):
    status = 502
    default_code = "twilio_error"


class RangeNotSatisfiable(ApiError):
    status = 416
    default_code = "range_not_satisfiable"


@bp.get("")
@authenticated()
@validate_querystring(CallsQuery)
@responds(200, "a page of calls", model=CallPage)
async def list_calls(caller: Caller, query_args: CallsQuery) -> Response:
    """List calls"""
    query = query_args
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(
        lambda s: calls.list_calls(
            s, business_id, status=query.status, direction=query.direction, lead_id=query.lead_id,
            page=query.page, per_page=query.per_page, created_from=query.from_, created_to=query.to, number=query.q,
        )
    )
    return jsonify(page.to_json())


@bp.get(f"/{ID}")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the call with its transcript and events", model=CallDetail)
async def get_call(caller: Caller, query_args: ScopeQuery, call_id: int) -> Response:
    """Call detail with transcript and events"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await current_runtime().db(calls.get_call, business_id, call_id))


@bp.get(f"/{ID}/recording")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the recording (also when Range names several ranges or If-Range no longer matches)",
          content="audio/wav")
@responds(206, "the requested byte range of the recording (Range header, RFC 9110)", content="audio/wav")
@responds(416, "the Range starts beyond the recording (Content-Range: bytes */size)")
async def recording(caller: Caller, query_args: ScopeQuery, call_id: int) -> Response | tuple[Response, int, dict[str, str]]:
    """Download the recording (HTTP Range)"""
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    path = await rt.db(calls.recording_file, business_id, call_id, rt.settings.recordings_dir)
    stat = await trio.to_thread.run_sync(path.stat)
    size = stat.st_size
    modified = datetime.fromtimestamp(int(stat.st_mtime), UTC)
    headers = {
        "Accept-Ranges": "bytes",
        # Call audio is personal data: no shared cache may keep it, and no cache at all need to.
        "Cache-Control": "private, no-store",
        "ETag": f'"{stat.st_mtime_ns:x}-{size:x}"',
        "Last-Modified": format_datetime(modified, usegmt=True),
    }
    chosen = select_range(request.headers.get("Range"), request.headers.get("If-Range"), size,
                          etag=headers["ETag"], last_modified=modified)
    if chosen is UNSATISFIABLE:
        error = RangeNotSatisfiable(f"the Range starts beyond the recording's {size} bytes", details={"size": size})
        return jsonify(error.to_json()), error.status, {**headers, "Content-Range": f"bytes */{size}"}
    body = TrioFileBody(path)
    status = 200
    if isinstance(chosen, ByteRange):
        body.begin, body.end = chosen.start, chosen.stop
        status = 206
        headers["Content-Range"] = chosen.content_range(size)
    headers["Content-Length"] = str(body.end - body.begin)
    headers["Content-Disposition"] = f"attachment; filename=call-{call_id}.wav"
    return current_app.response_class(body, status=status, headers=headers, mimetype="audio/wav")


@bp.post("/outbound")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(OutboundCall)
@responds(201, "dialling", model=Call)
@responds(404, "no such lead")
@responds(502, "Twilio refused the call or is unreachable")
@responds(503, "Twilio is not configured")
async def outbound(caller: Caller, query_args: ScopeQuery, data: OutboundCall) -> tuple[Response, int]:
    """Call a lead through Twilio

    Dials the lead from the business number; Twilio then fetches /twilio/voice on answer.
    """
    business_id = caller.scope(query_args.business_id)
    body = data
    rt = current_runtime()
    settings = rt.settings
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.public_base_url):
        raise Unavailable(
            "outbound calls need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL", code="twilio_not_configured"
        )
    lead, business_phone = await rt.db(calls.outbound_target, business_id, body.lead_id)
    client = rt.extras.get("twilio")
    if client is None:
        client = rt.extras["twilio"] = make_twilio_client(
            settings.twilio_account_sid, settings.twilio_auth_token.reveal(), base_url=settings.twilio_api_base_url
        )

    def dial() -> Any:
        return client.calls.create(
            to=lead["phone_e164"],
            from_=business_phone,
            url=settings.public_base_url + "/twilio/voice",
            method="POST",
            status_callback=settings.public_base_url + "/twilio/status",
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )

    try:
        created = await trio.to_thread.run_sync(dial)
    except TwilioRestException as exc:
        log.warning("outbound call to lead %s failed: %s", body.lead_id, exc.msg)
        raise TwilioFailed(f"Twilio refused the call: {exc.msg}", details={"twilio_code": exc.code, "status": exc.status}) from exc
    except RequestException as exc:
        log.warning("outbound call to lead %s: Twilio unreachable: %s", body.lead_id, exc)
        raise TwilioFailed("Twilio is unreachable", code="twilio_unreachable", details=str(exc)) from exc
    row = await rt.db(
        calls.record_outbound, business_id, body.lead_id, created.sid, business_phone, lead["phone_e164"], str(created.status or "queued")
    )
    return jsonify(row), 201
