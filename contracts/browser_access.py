"""Short-lived access tokens that let a browser open one test call's media stream.

A browser cannot set the ``X-Twilio-Signature`` header on a WebSocket, so the calls service's
``/ws/browser`` path (docs/ARCHITECTURE.md §11) is authorised by a token in the query string
instead: ``POST /api/test-calls`` mints it for the call it admitted, and the calls service
verifies it **before** the upgrade. Version 1 of the token is five dot-separated fields::

    v1.<call_sid>.<business_id>.<expires_at unix seconds>.<hex HMAC-SHA256>

The MAC is computed with ``INTERNAL_SECRET`` over ``"prosaas-browser-access|" + the first four
fields joined by "|"`` — the prefix keeps it apart from the per-call stream token
(``contracts.call_token``, an HMAC of the bare CallSid), so neither can stand in for the other.
Every field is URL-safe (``CA`` + hex, digits), so the token goes into a query string as is.

Verification is pure and constant-time over the MAC: a token that is malformed, non-ASCII,
of another version, tampered with, expired, or for another call is refused with the reason.
The token proves only "the API admitted this call for this business until then"; the call's
own stream token (``customParameters.token``) is still checked at ``start`` as for any call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from contracts.keys import ADMIT_PENDING_MS

__all__ = [
    "ACCESS_PARAMETER",
    "ACCESS_TTL_SECONDS",
    "ACCESS_VERSION",
    "AccessGrant",
    "AccessRefusal",
    "mint_access_token",
    "verify_access_token",
]

ACCESS_VERSION: Final = "v1"
ACCESS_PARAMETER: Final = "access"  # the query parameter of /ws/browser
# Time to open the socket, not the call's length: the admission's pending window, so only a call
# the API still counts against its business's limit can open its stream.
ACCESS_TTL_SECONDS: Final = ADMIT_PENDING_MS // 1000
MAX_TOKEN_CHARS: Final = 256
_DOMAIN: Final = "prosaas-browser-access"
_CALL_SID = re.compile(r"CA[0-9a-f]{32}")
_BUSINESS_ID = re.compile(r"[0-9]{1,18}")
_EXPIRES = re.compile(r"[0-9]{1,12}")
_MAC = re.compile(r"[0-9a-f]{64}")


class AccessRefusal(StrEnum):
    """Why a token was refused (the calls service names it in its 401/403 body)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    VERSION = "unknown_version"
    SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    WRONG_CALL = "wrong_call"


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What a valid token grants: opening ``call_sid``'s stream for ``business_id``."""

    call_sid: str
    business_id: str
    expires_at: int  # unix seconds


def _mac(secret: str, call_sid: str, business_id: str, expires_at: int) -> str:
    message = "|".join((_DOMAIN, ACCESS_VERSION, call_sid, business_id, str(expires_at)))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def mint_access_token(secret: str, call_sid: str, business_id: str, expires_at: int) -> str:
    """The token for ``call_sid`` of ``business_id``, valid until ``expires_at`` (unix s).

    Raises:
        ValueError: an empty secret (the token would be forgeable) or a field outside its
            alphabet (``CA`` + 32 hex, digits).
    """
    if not secret:
        raise ValueError("an access token needs INTERNAL_SECRET")
    if not _CALL_SID.fullmatch(call_sid) or not _BUSINESS_ID.fullmatch(business_id):
        raise ValueError(f"cannot mint an access token for call {call_sid!r} of business {business_id!r}")
    if not 0 < expires_at < 10**12:
        raise ValueError(f"expires_at {expires_at!r} is not a unix time")
    mac = _mac(secret, call_sid, business_id, expires_at)
    return f"{ACCESS_VERSION}.{call_sid}.{business_id}.{expires_at}.{mac}"


def verify_access_token(
    secret: str, token: str | None, *, now: float, call_sid: str | None = None
) -> AccessGrant | AccessRefusal:
    """Check ``token`` (pure; never raises).

    Args:
        secret: ``INTERNAL_SECRET``; an empty one refuses everything (``SIGNATURE``).
        token: the query parameter as received (``None`` when absent).
        now: the current unix time.
        call_sid: when given, the token must be for this call.

    Returns:
        The grant, or the reason it is refused (checked in this order: missing, malformed,
        version, signature, expiry, call) so a forged token learns nothing about expiry.
    """
    if not token:
        return AccessRefusal.MISSING
    if len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return AccessRefusal.MALFORMED
    parts = token.split(".")
    if len(parts) != 5:
        return AccessRefusal.MALFORMED
    version, sid, business_id, expires, mac = parts
    if version != ACCESS_VERSION:
        return AccessRefusal.VERSION
    if not (
        _CALL_SID.fullmatch(sid)
        and _BUSINESS_ID.fullmatch(business_id)
        and _EXPIRES.fullmatch(expires)
        and _MAC.fullmatch(mac)
    ):
        return AccessRefusal.MALFORMED
    expires_at = int(expires)
    if not secret or not hmac.compare_digest(_mac(secret, sid, business_id, expires_at), mac):
        return AccessRefusal.SIGNATURE
    if now >= expires_at:
        return AccessRefusal.EXPIRED
    if call_sid is not None and sid != call_sid:
        return AccessRefusal.WRONG_CALL
    return AccessGrant(sid, business_id, expires_at)
