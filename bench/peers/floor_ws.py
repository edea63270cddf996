#!/usr/bin/env python3
"""The stack's floor: the least a Twilio Media Streams server on trio-websocket must do.

A benchmark reference, not a product. It serves ``/ws/twilio`` and ``/health`` on one port
with the same public API the engine uses (``trio_websocket.serve_websocket``), and per call:

- ``--mode receive``: reads every message and parses it with orjson (no audio work, no replies);
- ``--mode echo``: also base64-decodes each media payload and sends the caller's audio back
  in 100 ms messages from the call's own task, right after an inbound frame (the lean design
  of docs/ARCHITECTURE.md §13), with the garbage collector frozen as the engine does.

The engine's cost divided by this one's, measured in the same run by the same harness, is the
engine's overhead over the library it stands on: a ratio that survives a noisy machine where
absolute µs per call-second do not. No admission, no Redis, no VAD, no barge-in, no marks.

    python bench/peers/floor_ws.py --port 8766 --health-port 8767 --mode echo
"""

from __future__ import annotations

import argparse
import binascii
import gc
import sys

import orjson
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

CHUNK = 800  # 100 ms of 8 kHz μ-law


async def handle(request: WebSocketRequest, *, echo: bool) -> None:
    if request.path != "/ws/twilio":
        await request.reject(404)
        return
    ws = await request.accept(subprotocol="audio.twilio.com" if request.proposed_subprotocols else None)
    stream_sid = ""
    pending = bytearray()
    prefix = b""
    try:
        while True:
            msg = orjson.loads(await ws.get_message())
            event = msg.get("event")
            if event == "media" and echo:
                pending += binascii.a2b_base64(msg["media"]["payload"])
                if len(pending) >= CHUNK:
                    payload = binascii.b2a_base64(pending[:CHUNK], newline=False)
                    del pending[:CHUNK]
                    await ws.send_message((prefix + payload + b'"}}').decode())
            elif event == "start":
                stream_sid = msg["start"]["streamSid"]
                prefix = orjson.dumps({"event": "media", "streamSid": stream_sid})[:-1]
                prefix += b',"media":{"payload":"'
            elif event == "stop":
                return
    except ConnectionClosed:
        return


async def serve(port: int, health_port: int, echo: bool) -> None:
    # trio-websocket answers a plain GET with 400 (the engine solves that with a front that
    # replays bytes); the floor keeps the library bare and answers /health on its own port.
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_health, health_port)
        await serve_websocket(
            lambda req: handle(req, echo=echo), "127.0.0.1", port, ssl_context=None,
            handler_nursery=None, message_queue_size=4,
        )


async def _health(port: int) -> None:
    async def answer(stream: trio.SocketStream) -> None:
        await stream.receive_some(4096)
        await stream.send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await stream.aclose()

    await trio.serve_tcp(answer, port, host="127.0.0.1")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True, help="WebSocket port")
    p.add_argument("--health-port", type=int, required=True, help="plain HTTP 200 for readiness")
    p.add_argument("--mode", choices=("receive", "echo"), default="echo")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # as callengine.__main__
    try:
        trio.run(serve, args.port, args.health_port, args.mode == "echo")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
