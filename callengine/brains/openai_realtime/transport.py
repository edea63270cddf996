"""The vendor WebSocket (I/O shell): a client connection that always closes its socket.

trio-websocket 0.12's ``open_websocket_url`` leaves the client's TCP socket open when the
server rejects the handshake (HTTP 401/429/503) or drops the connection first: one leaked
file descriptor per vendor failure, in a process that must run for weeks. So this module
opens the TCP (or TLS) stream itself, hands it to ``wrap_client_stream`` and closes it on
every way out.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import trio
from trio_websocket import WebSocketConnection, wrap_client_stream

from callengine.brains.openai_realtime.errors import (
    ErrorCategory,
    VendorUnavailable,
    map_websocket_errors,
)

__all__ = ["open_vendor_websocket"]

CLOSE_TIMEOUT_SECONDS = 1.0


def _split(url: str) -> tuple[str, int, str, bool]:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError("expected a ws:// or wss:// URL")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, resource, secure


@asynccontextmanager
async def open_vendor_websocket(
    url: str,
    headers: list[tuple[bytes, bytes]],
    *,
    timeout: float,
    message_queue_size: int,
    max_message_size: int,
    ssl_context: ssl.SSLContext | None = None,
) -> AsyncIterator[WebSocketConnection]:
    """Connect (TCP, TLS, WebSocket handshake) within ``timeout``; close on exit.

    ``ssl_context`` (for ``wss://``) defaults to the system's trust store.

    Raises:
        VendorUnavailable: refused, rejected (category from the HTTP status) or too slow.
        VendorFailed: the connection broke while the body used it (from the body's own
            ``map_websocket_errors``), or any error of the body, unwrapped from the nursery.
    """
    host, port, resource, secure = _split(url)
    host_header = host if port in (80, 443) else f"{host}:{port}"
    stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] | None = None
    try:
        with map_websocket_errors(connecting=True):
            with trio.move_on_after(timeout) as connect_scope:
                if secure:
                    tls = await trio.open_ssl_over_tcp_stream(
                        host,
                        port,
                        ssl_context=ssl_context or ssl.create_default_context(),
                        https_compatible=True,
                    )
                    stream = tls
                    # Handshake now: a bad certificate is a clear error, not a silent
                    # WebSocket handshake that times out.
                    try:
                        await tls.do_handshake()
                    except trio.BrokenResourceError as exc:
                        cause = exc.__cause__
                        raise VendorUnavailable(
                            f"TLS handshake with the vendor failed: {type(cause or exc).__name__}",
                            ErrorCategory.NETWORK,
                        ) from exc
                else:
                    stream = await trio.open_tcp_stream(host, port)
        if connect_scope.cancelled_caught or stream is None:
            raise VendorUnavailable(f"no connection to the vendor within {timeout:g} s", ErrorCategory.TIMEOUT)
        try:
            async with trio.open_nursery() as nursery:  # trio-websocket's reader task
                ws: WebSocketConnection | None = None
                with trio.move_on_after(timeout):
                    ws = await wrap_client_stream(
                        nursery,
                        stream,
                        host_header,
                        resource,
                        extra_headers=headers,
                        message_queue_size=message_queue_size,
                        max_message_size=max_message_size,
                    )
                if ws is None:
                    raise VendorUnavailable(
                        f"no WebSocket handshake within {timeout:g} s", ErrorCategory.TIMEOUT
                    )
                try:
                    yield ws
                finally:
                    with trio.move_on_after(CLOSE_TIMEOUT_SECONDS, shield=True):
                        await ws.aclose()
                    nursery.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # One real error (a rejected handshake from the reader task, or the body's own)
            # is re-raised as itself, as trio-websocket's open_websocket does.
            errors = [e for e in group.exceptions if not isinstance(e, trio.Cancelled)]
            if len(errors) != 1:
                raise
            with map_websocket_errors(connecting=True):
                raise errors[0] from None
    finally:
        if stream is not None:
            await trio.aclose_forcefully(stream)
