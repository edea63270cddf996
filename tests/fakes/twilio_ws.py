"""A functional fake of Twilio's side of a media stream, on trio-websocket (for tests).

The load harness (``callengine.loadtest``) is the fast, faithful one; this one is small and
readable so tests can script a call message by message.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket

from callengine.audio.mulaw import pcm_to_ulaw

SPEECH_FRAME = pcm_to_ulaw(
    b"".join(
        int(8000 * (1 if (i // 10) % 2 else -1)).to_bytes(2, "little", signed=True)
        for i in range(160)
    )
)
SILENCE_FRAME = b"\xff" * 160


class FakeTwilio:
    def __init__(self, ws: WebSocketConnection, call_sid: str, stream_sid: str) -> None:
        self.ws = ws
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self.seq = 0
        self.chunk = 0

    async def send(self, msg: dict[str, Any]) -> None:
        if msg["event"] != "connected":
            self.seq += 1
            msg = {**msg, "sequenceNumber": str(self.seq), "streamSid": self.stream_sid}
        await self.ws.send_message(json.dumps(msg))

    async def connected(self) -> None:
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})

    async def start(self, params: dict[str, str] | None = None) -> None:
        await self.send(
            {
                "event": "start",
                "start": {
                    "streamSid": self.stream_sid,
                    "accountSid": "AC" + "0" * 32,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "customParameters": params or {},
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }
        )

    async def media(self, ulaw: bytes) -> None:
        self.chunk += 1
        await self.send(
            {
                "event": "media",
                "media": {
                    "track": "inbound",
                    "chunk": str(self.chunk),
                    "timestamp": str((self.chunk - 1) * 20),
                    "payload": base64.b64encode(ulaw).decode(),
                },
            }
        )

    async def frames(self, ulaw: bytes, count: int, *, paced: bool = True) -> None:
        """``count`` media frames, paced as ``stream`` does, or back to back when not ``paced``."""
        if paced:
            await self.stream([ulaw] * count)
            return
        for _ in range(count):
            await self.media(ulaw)

    async def stream(self, frames: Iterable[bytes], *, until: Callable[[], bool] | None = None) -> None:
        """Media frames on a 20 ms clock with absolute deadlines, as Twilio's (a late wake-up
        does not push every later frame back); stops early once ``until()`` is true."""
        start = trio.current_time()
        for k, ulaw in enumerate(frames, 1):
            await self.media(ulaw)
            await trio.sleep_until(start + 0.02 * k)
            if until is not None and until():
                return

    async def frames_until_closed(self, ulaw: bytes, count: int) -> None:
        """Paced frames that stop, as Twilio's do, once the server has closed the socket."""
        try:
            await self.frames(ulaw, count)
        except ConnectionClosed:
            pass

    async def dtmf(self, digit: str) -> None:
        await self.send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})

    async def mark(self, name: str) -> None:
        await self.send({"event": "mark", "mark": {"name": name}})

    async def stop(self) -> None:
        await self.send(
            {"event": "stop", "stop": {"accountSid": "AC" + "0" * 32, "callSid": self.call_sid}}
        )

    async def receive(self) -> dict[str, Any]:
        return json.loads(await self.ws.get_message())

    async def receive_until(self, event: str, *, timeout: float = 5) -> list[dict[str, Any]]:
        """Messages up to and including the first ``event`` one."""
        seen = []
        with trio.fail_after(timeout):
            while True:
                msg = await self.receive()
                seen.append(msg)
                if msg["event"] == event:
                    return seen


@asynccontextmanager
async def open_call(
    port: int,
    *,
    call_sid: str = "CA" + "1" * 32,
    stream_sid: str = "MZ" + "1" * 32,
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
    path: str = "/ws/twilio",
) -> AsyncIterator[FakeTwilio]:
    """``path``: ``/ws/browser?access=…`` plays a browser test call (the same protocol)."""
    async with open_websocket(
        "127.0.0.1",
        port,
        path,
        use_ssl=False,
        extra_headers=headers,
        subprotocols=subprotocols,
        # A test may leave audio unread; trio-websocket's reader stops (and never sees the
        # server's close) once its queue is full, so give it room.
        message_queue_size=10_000,
    ) as ws:
        try:
            yield FakeTwilio(ws, call_sid, stream_sid)
        finally:
            # trio-websocket 0.12's client never closes its TCP stream when the *server*
            # closes first (its reader just stops on EOF); close it so nothing leaks.
            await trio.aclose_forcefully(ws._stream)
