"""Per-call tokens that bind a Twilio media stream to the webhook that created it.

The API mints ``token = HMAC-SHA256(INTERNAL_SECRET, call_sid)`` when it answers the voice
webhook and passes it as a ``<Parameter name="token">``; Twilio hands it back verbatim in
``start.customParameters``. The calls service recomputes it from ``start.callSid`` so a stream
can neither be opened without a webhook nor be replayed under another call's SID.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["TOKEN_PARAMETER", "mint_call_token", "verify_call_token"]

# The <Parameter> name carrying the token (docs/ARCHITECTURE.md).
TOKEN_PARAMETER = "token"


def mint_call_token(secret: str, call_sid: str) -> str:
    """Return the hex token for ``call_sid`` under ``secret``."""
    return hmac.new(secret.encode(), call_sid.encode(), hashlib.sha256).hexdigest()


def verify_call_token(secret: str, call_sid: str, token: str | None) -> bool:
    """Check ``token`` against ``call_sid`` in constant time; a missing token fails.

    So does a token with a non-ASCII character (it comes from the far side of a media stream,
    and ``hmac.compare_digest`` raises ``TypeError`` for such a ``str``): a minted token is hex.
    """
    if not token or not token.isascii():
        return False
    return hmac.compare_digest(mint_call_token(secret, call_sid), token)
