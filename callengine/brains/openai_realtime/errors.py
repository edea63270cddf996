"""Errors of the OpenAI Realtime brain.

Hierarchy::

    CallEngineError
    └── RealtimeError              base; ``category`` decides retry versus give up
        ├── RealtimeProtocolError  a vendor frame we cannot read (permanent)
        ├── VendorUnavailable      connecting failed: refused, timed out, handshake rejected
        └── VendorFailed           the session broke: socket closed, fatal error event, stall

Vendor and library exceptions (trio-websocket, OSError) are translated at the boundary by
``map_websocket_errors()``. Messages never contain the API key: the key only ever travels in
the handshake header, and nothing here formats headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from callengine.errors import CallEngineError

__all__ = [
    "ErrorCategory",
    "RealtimeError",
    "RealtimeProtocolError",
    "VendorFailed",
    "VendorUnavailable",
    "map_websocket_errors",
]


class ErrorCategory(StrEnum):
    """Why the vendor failed; the brain retries only transient failures."""

    NETWORK = "network"  # refused, reset, DNS: may work in a moment
    TIMEOUT = "timeout"  # no handshake, no session, no audio in time
    RATE_LIMITED = "rate_limited"  # HTTP 429
    SERVER = "server"  # HTTP 5xx, server_error events
    AUTH = "auth"  # HTTP 401/403, invalid_api_key: retrying cannot help
    PROTOCOL = "protocol"  # unreadable frames, a rejected session.update

    @property
    def is_permanent(self) -> bool:
        return self in (ErrorCategory.AUTH, ErrorCategory.PROTOCOL)


class RealtimeError(CallEngineError):
    """Base class: carries the ``category`` that decides whether a retry can help."""

    category = ErrorCategory.SERVER

    def __init__(self, message: str, category: ErrorCategory | None = None) -> None:
        super().__init__(message)
        if category is not None:
            self.category = category

    @property
    def retryable(self) -> bool:
        return not self.category.is_permanent


class RealtimeProtocolError(RealtimeError):
    category = ErrorCategory.PROTOCOL


class VendorUnavailable(RealtimeError):
    category = ErrorCategory.NETWORK


class VendorFailed(RealtimeError):
    category = ErrorCategory.SERVER


def category_for_status(status: int) -> ErrorCategory:
    if status in (401, 403):
        return ErrorCategory.AUTH
    if status == 429:
        return ErrorCategory.RATE_LIMITED
    if status >= 500:
        return ErrorCategory.SERVER
    return ErrorCategory.PROTOCOL


@contextmanager
def map_websocket_errors(*, connecting: bool) -> Iterator[None]:
    """Translate trio-websocket and socket errors into ``VendorUnavailable``/``VendorFailed``.

    Args:
        connecting: True while opening the connection (errors become ``VendorUnavailable``).
    """
    import trio
    from trio_websocket import ConnectionClosed, ConnectionRejected, HandshakeError

    cls: type[RealtimeError] = VendorUnavailable if connecting else VendorFailed
    try:
        yield
    except ConnectionRejected as exc:
        raise VendorUnavailable(
            f"vendor refused the connection: HTTP {exc.status_code}",
            category_for_status(exc.status_code),
        ) from exc
    except HandshakeError as exc:  # ConnectionTimeout, DisconnectionTimeout
        raise cls(f"vendor handshake failed: {type(exc).__name__}", ErrorCategory.TIMEOUT) from exc
    except ConnectionClosed as exc:
        reason = exc.reason
        detail = f"{reason.code} {reason.name}" if reason is not None else "no close frame"
        raise cls(f"vendor closed the connection ({detail})", ErrorCategory.NETWORK) from exc
    except (OSError, trio.BrokenResourceError) as exc:
        raise cls(f"vendor connection failed: {type(exc).__name__}", ErrorCategory.NETWORK) from exc
