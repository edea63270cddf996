"""Phase 1 of a call: from ``connected`` to a ``start`` the actor may accept.

``await_start`` reads until Twilio's ``start`` (anything else first ends the stream), under
the start deadline; ``check_start`` decides whether that ``start`` is acceptable (the per-call
token, the business id). Both return an ``Ending`` instead of acting on it: the actor alone
ends calls, counts refusals and reports.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

import trio
from trio_websocket import ConnectionClosed

from callengine.actor.transport import Ending, peer_closed
from callengine.errors import ProtocolError
from callengine.events import (
    CloseCode,
    DtmfReceived,
    EndReason,
    InboundEvent,
    MarkReached,
    MediaReceived,
    RefusalReason,
    StreamStarted,
    StreamStopped,
)
from callengine.protocol.twilio_media import decode
from contracts.browser_access import AccessGrant
from contracts.call_token import TOKEN_PARAMETER, verify_call_token

if TYPE_CHECKING:
    from callengine.actor.transport import CallTransport

__all__ = ["MAX_EARLY_MESSAGES", "StartCheck", "await_start", "check_start"]

MAX_EARLY_MESSAGES = 8  # kept for the capture; a client cannot grow it before `start`
_BUSINESS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def await_start(
    ws: CallTransport, *, timeout: float, opened_at: float, early: list[tuple[float, str]]
) -> StreamStarted | Ending:
    """Read up to the ``start`` event; the ending instead if the stream ends or misbehaves.

    Each raw message (up to ``MAX_EARLY_MESSAGES``) is appended to ``early`` with its time in
    ms since ``opened_at``, for the capture. Cancellation: propagates (nothing to clean up).
    """
    with trio.move_on_after(timeout):
        while True:
            event = await _next_event(ws, opened_at, early)
            if isinstance(event, Ending):
                return event
            if type(event) is StreamStarted:
                return event
            if type(event) is StreamStopped:
                return Ending(EndReason.STOPPED, CloseCode.NORMAL, "stream stopped")
            if type(event) in (MediaReceived, DtmfReceived, MarkReached):
                return Ending(
                    EndReason.UNEXPECTED_EVENT,
                    CloseCode.UNEXPECTED_EVENT,
                    f"{_event_name(event)} event before start",
                )
    return Ending(
        EndReason.START_TIMEOUT, CloseCode.START_TIMEOUT, f"no start event within {timeout:g} s"
    )


async def _next_event(
    ws: CallTransport, opened_at: float, early: list[tuple[float, str]]
) -> InboundEvent | Ending:
    """Read and decode one message before ``start``."""
    try:
        raw = await ws.get_message()
    except ConnectionClosed as exc:
        return peer_closed(exc)
    if not isinstance(raw, str):
        return Ending(EndReason.BINARY_FRAME, CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted")
    if len(early) < MAX_EARLY_MESSAGES:
        early.append(((trio.current_time() - opened_at) * 1000, raw))
    try:
        return decode(raw)
    except ProtocolError as exc:
        return Ending(EndReason.PROTOCOL_ERROR, CloseCode(exc.code), exc.reason)


class StartCheck(NamedTuple):
    """What ``check_start`` found: the business id, and why the start is refused (if it is).

    ``refusal`` is set when the refusal is counted under ``rejected`` in /health.
    """

    business_id: str
    ending: Ending | None = None
    refusal: RefusalReason | None = None


def check_start(
    start: StreamStarted, secret: str | None, grant: AccessGrant | None = None
) -> StartCheck:
    """Check the ``start`` event's token (when ``secret`` is set) and business id.

    ``grant``: a browser stream's verified access token (``/ws/browser``); its ``start`` must
    be for the granted call and business, so one test call's token opens no other call.
    A refused start's ``business_id`` is ``"invalid"`` when it is not a valid id.
    """
    params = start.custom_parameters
    business_id = params.get("business_id") or "unknown"
    valid_business = _BUSINESS_ID.fullmatch(business_id) is not None
    if secret and not verify_call_token(secret, start.call_sid, params.get(TOKEN_PARAMETER)):
        return StartCheck(
            business_id if valid_business else "invalid",
            Ending(EndReason.INVALID_TOKEN, CloseCode.POLICY_VIOLATION, "invalid call token"),
            RefusalReason.TOKEN,
        )
    if grant is not None and (start.call_sid != grant.call_sid or business_id != grant.business_id):
        return StartCheck(
            business_id if valid_business else "invalid",
            Ending(
                EndReason.INVALID_TOKEN,
                CloseCode.POLICY_VIOLATION,
                "the access token is for another call",
            ),
            RefusalReason.TOKEN,
        )
    if not valid_business:
        return StartCheck(
            "invalid",
            Ending(
                EndReason.PROTOCOL_ERROR,
                CloseCode.PROTOCOL_ERROR,
                "customParameters.business_id must be 1-64 letters, digits, '-' or '_'",
            ),
        )
    return StartCheck(business_id)


def _event_name(event: InboundEvent) -> str:
    return {MediaReceived: "media", DtmfReceived: "dtmf", MarkReached: "mark"}.get(
        type(event), type(event).__name__
    )
