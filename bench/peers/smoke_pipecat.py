#!/usr/bin/env python3
"""One-call smoke test for a Twilio Media Streams echo peer (e.g. pipecat_echo.py).

    bench/.venv-pipecat/bin/python bench/peers/smoke_pipecat.py --port 8765 [--pid SERVER_PID] [--secs 5]

Sends connected, start, SECS of paced 20 ms mu-law frames (1 kHz tone), stop;
checks that media comes back carrying our streamSid. With --pid it prints the
server process's CPU time (utime+stime from /proc/PID/stat) used during the call.
Exit 0 = OK. Uses only `websockets` (present in bench/.venv-pipecat).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import sys
import time

import websockets


def lin2ulaw(s: int) -> int:
    """G.711 mu-law encode one 16-bit sample."""
    BIAS, CLIP = 0x84, 32635
    sign = 0x80 if s < 0 else 0
    s = min(abs(s), CLIP) + BIAS
    exp = 7
    mask = 0x4000
    while exp > 0 and not (s & mask):
        exp -= 1
        mask >>= 1
    mant = (s >> (exp + 3)) & 0x0F
    return ~(sign | (exp << 4) | mant) & 0xFF


def tone_frames(n: int, hz: float = 1000.0, rate: int = 8000) -> list[bytes]:
    out = []
    for f in range(n):
        out.append(
            bytes(
                lin2ulaw(int(8000 * math.sin(2 * math.pi * hz * (f * 160 + i) / rate)))
                for i in range(160)
            )
        )
    return out


def cpu_secs(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(args) -> int:
    stream_sid = "MZ" + os.urandom(16).hex()
    call_sid = "CA" + os.urandom(16).hex()
    n = int(args.secs * 50)
    frames = tone_frames(n)
    got = {"media": 0, "bytes": 0, "nonsilent": 0, "wrong_sid": 0, "other": {}}
    first_rx = None
    cpu0 = cpu_secs(args.pid) if args.pid else None
    t0 = time.monotonic()

    async with websockets.connect(f"ws://127.0.0.1:{args.port}{args.path}") as ws:

        async def reader():
            nonlocal first_rx
            try:
                async for raw in ws:
                    m = json.loads(raw)
                    ev = m.get("event")
                    if ev == "media":
                        if first_rx is None:
                            first_rx = time.monotonic()
                        got["media"] += 1
                        if m.get("streamSid") != stream_sid:
                            got["wrong_sid"] += 1
                        p = base64.b64decode(m["media"]["payload"])
                        got["bytes"] += len(p)
                        if any(b not in (0xFF, 0x7F) for b in p):
                            got["nonsilent"] += 1
                    else:
                        got["other"][ev] = got["other"].get(ev, 0) + 1
            except websockets.ConnectionClosed:
                pass

        rtask = asyncio.create_task(reader())
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "sequenceNumber": "1",
                    "start": {
                        "accountSid": "AC" + "0" * 32,
                        "streamSid": stream_sid,
                        "callSid": call_sid,
                        "tracks": ["inbound"],
                        "customParameters": {},
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    },
                    "streamSid": stream_sid,
                }
            )
        )
        t_start = time.monotonic()
        for i, fr in enumerate(frames):
            await ws.send(
                json.dumps(
                    {
                        "event": "media",
                        "sequenceNumber": str(i + 2),
                        "media": {
                            "track": "inbound",
                            "chunk": str(i + 1),
                            "timestamp": str(i * 20),
                            "payload": base64.b64encode(fr).decode(),
                        },
                        "streamSid": stream_sid,
                    }
                )
            )
            delay = t_start + (i + 1) * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.sleep(args.tail)  # let the echo drain
        await ws.send(
            json.dumps(
                {"event": "stop", "sequenceNumber": str(n + 2), "stop": {"accountSid": "AC" + "0" * 32, "callSid": call_sid}, "streamSid": stream_sid}
            )
        )
        await ws.close()
        await asyncio.wait_for(rtask, 5)

    await asyncio.sleep(0.5)  # let the server tear the call down before reading its CPU
    wall = time.monotonic() - t0
    sent_bytes = n * 160
    print(f"streamSid={stream_sid}")
    print(f"sent {n} frames ({sent_bytes} B); received {got['media']} media msgs, {got['bytes']} B, "
          f"{got['nonsilent']} non-silent, wrong streamSid={got['wrong_sid']}, other events={got['other']}")
    if first_rx is not None:
        print(f"first echo after {1000 * (first_rx - t_start):.1f} ms from first frame sent")
    if cpu0 is not None:
        print(f"server CPU during call: {cpu_secs(args.pid) - cpu0:.2f} s over {wall:.1f} s wall")
    ok = got["media"] > 0 and got["wrong_sid"] == 0 and got["nonsilent"] > 0
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--path", default="/ws/twilio")
    p.add_argument("--secs", type=float, default=5.0)
    p.add_argument("--tail", type=float, default=1.0, help="seconds to keep listening before stop")
    p.add_argument("--pid", type=int, help="server PID, to report its CPU use")
    sys.exit(asyncio.run(run(p.parse_args())))


if __name__ == "__main__":
    main()
