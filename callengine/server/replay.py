"""A stream that first replays bytes already read from it (for the HTTP/WebSocket split)."""

from __future__ import annotations

from typing import final

import trio

__all__ = ["ReplayStream"]


@final
class ReplayStream(trio.abc.Stream):
    """Wraps ``stream`` so its next reads return ``prefix`` first.

    The server reads a request head to route it; when it is a WebSocket upgrade, trio-websocket
    must see that head again to run the handshake.
    """

    def __init__(self, stream: trio.abc.Stream, prefix: bytes) -> None:
        self._stream = stream
        self._prefix = prefix

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        if not self._prefix:
            return await self._stream.receive_some(max_bytes)
        await trio.lowlevel.checkpoint()
        size = len(self._prefix) if max_bytes is None else max_bytes
        data, self._prefix = self._prefix[:size], self._prefix[size:]
        if not self._prefix:
            # From now on reads go straight to the socket: one coroutine layer less on the
            # per-frame path (50 reads per second per call).
            self.receive_some = self._stream.receive_some  # type: ignore[method-assign]
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self._stream.aclose()
