"""The actor's transport seam: the few things a call does with its WebSocket.

In production the transport is trio-websocket's ``WebSocketConnection`` (the server wraps the
accepted TCP stream); tests wrap the two ends of ``trio.testing.memory_stream_pair`` with
``trio_websocket.wrap_server_stream`` / ``wrap_client_stream``, so the real protocol runs with
no socket and under ``autojump_clock``.

A closed transport is reported the way trio-websocket reports it: ``get_message`` and
``send_message`` raise ``trio_websocket.ConnectionClosed``, whose ``reason.code`` is the close
code of whichever side closed first. ``peer_closed`` turns that into how the call ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

from callengine.events import CloseCode, EndReason

if TYPE_CHECKING:
    from trio_websocket import ConnectionClosed

__all__ = ["MAX_REASON_BYTES", "CallTransport", "Ending", "close_reason", "peer_closed"]

MAX_REASON_BYTES = 120  # RFC 6455: a close reason fits in 123 bytes


class CallTransport(Protocol):
    """One call's message stream (text frames from and to Twilio)."""

    async def get_message(self) -> str | bytes:
        """The next message; ``bytes`` for a binary frame.

        Raises:
            trio_websocket.ConnectionClosed: the connection is closed or closing.
        """
        ...

    async def send_message(self, message: str | bytes) -> None:
        """Send one message.

        Raises:
            trio_websocket.ConnectionClosed: the connection is closed or closing.
        """
        ...

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close with ``code`` and ``reason``; a no-op when already closed. Never raises."""
        ...


class Ending(NamedTuple):
    """How a call ends: its end reason, and the close code and reason the socket gets."""

    reason: EndReason
    code: CloseCode
    text: str


def peer_closed(exc: ConnectionClosed) -> Ending:
    """The ending of a call whose transport was closed under it (by the peer, or too big)."""
    code = exc.reason.code if exc.reason is not None else None
    if code == CloseCode.MESSAGE_TOO_BIG:
        return Ending(EndReason.MESSAGE_TOO_BIG, CloseCode.MESSAGE_TOO_BIG, "message too big")
    return Ending(EndReason.REMOTE_CLOSED, CloseCode.NORMAL, "closed by peer")


def close_reason(text: str) -> str:
    """``text`` cut to ``MAX_REASON_BYTES`` of UTF-8 (never splitting a character)."""
    return text.encode()[:MAX_REASON_BYTES].decode("utf-8", "ignore")
