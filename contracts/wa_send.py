"""Sending one WhatsApp message through the gateway: the result and the errors, as plain data.

The gateway's ``POST /sessions/{business_id}/messages`` (docs/ARCHITECTURE.md §7) answers with
a message id or an error code; the API's gateway client raises these exceptions for them and
the broadcast job (``jobs.broadcasts.run``) decides from the class alone whether to retry:

==========================  =========================  ==========================================
gateway answer              exception                  the broadcast job does
==========================  =========================  ==========================================
200 (duplicate or not)      ``SendResult``             recipient ``sent``
409 ``not_connected``       ``NotConnected``           temporary: recipient back, run waits
503 ``send_failed``/network ``GatewayUnavailable``     temporary: recipient back with backoff
421 ``wrong_shard``         ``WrongShard``             temporary (a business being moved)
422 ``invalid_number``      ``InvalidNumber``          permanent: recipient ``failed``
423 ``reach_out_limited``   ``ReachOutLimited(until)`` permanent for this recipient: ``failed``
==========================  =========================  ==========================================

Pure: no HTTP here, so the API, the jobs and their fakes share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = [
    "GatewayUnavailable",
    "InvalidNumber",
    "NotConnected",
    "ReachOutLimited",
    "SendError",
    "SendResult",
    "Sender",
    "TemporarySendError",
    "PermanentSendError",
    "WrongShard",
]


@dataclass(frozen=True, slots=True)
class SendResult:
    """The gateway's answer to a send: its message id, and whether it had seen the key before."""

    message_id: str
    duplicate: bool = False


class SendError(Exception):
    """A send the gateway did not perform. ``code`` is the gateway's error code."""

    code = "send_error"


class TemporarySendError(SendError):
    """Retrying later may succeed."""


class PermanentSendError(SendError):
    """Retrying cannot help this recipient."""


class NotConnected(TemporarySendError):
    """The business's WhatsApp session is not connected (409 ``not_connected``)."""

    code = "not_connected"


class GatewayUnavailable(TemporarySendError):
    """The gateway is unreachable, timed out or answered 5xx (503 ``send_failed``)."""

    code = "gateway_unavailable"


class WrongShard(TemporarySendError):
    """The shard refused the business (421 ``wrong_shard``): the API's shard map is stale."""

    code = "wrong_shard"


class InvalidNumber(PermanentSendError):
    """The number is not on WhatsApp or not a valid number (422 ``invalid_number``)."""

    code = "invalid_number"


class ReachOutLimited(PermanentSendError):
    """WhatsApp's reach-out time lock (463) is on for new contacts until ``until`` (423)."""

    code = "reach_out_limited"

    def __init__(self, message: str, until: datetime | None = None) -> None:
        super().__init__(message)
        self.until = until


class Sender(Protocol):
    """What the broadcast job needs from a gateway client (the API's ``whatsapp_gateway``)."""

    def send(
        self, business_id: int, to: str, text: str, media: dict[str, object] | None, idempotency_key: str
    ) -> SendResult | str:
        """Send one message; the same ``idempotency_key`` again returns the first message id
        without sending. Returns the gateway's message id (or a ``SendResult``). Raises a
        ``SendError`` subclass."""
        ...
