"""Live-events benchmark: ``/readyz`` latency while N ``/api/events`` streams are open.

    python -m bench.events_bench [--levels 0,100,1000] [--probes 200] [--event-rate 20]

Starts a real ``python -m api`` (Hypercorn, trio) on a free port with a throw-away SQLite
database (or ``--database-url``) and the Redis database of ``--redis-url`` (flushed before and
after: give it a database of its own), logs in as the seeded owner and opens streams, raw trio
sockets, one at a time up to each level. At each level it times ``--probes`` sequential
``GET /readyz`` from a separate process (each on a fresh connection, from connect to the whole
answer) while events of
the streams' business are published to ``calls:events`` at ``--event-rate`` per second (each
reaches every stream: at 1,000 streams, 2/s is 2,000 deliveries a second), and checks that the
streams still receive them. ``--pin`` puts the server on CPU 0 and the generator on CPU 1. The per-user and per-business caps are raised for the run (one login opens every
stream); the process-wide cap stays above the highest level.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import trio

from bench.api_bench import login, percentile
from bench.procs import ROOT, free_port, start_seeded_api, wait_http

HOST = "127.0.0.1"


class Streams:
    """Open SSE connections and what each has received."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.events = [0]  # per stream; index 0 unused
        self.refused = 0
        self.ended = 0

    async def open_one(self, nursery: trio.Nursery) -> None:
        sock = await trio.open_tcp_stream(HOST, self.port)
        request = (f"GET /api/events HTTP/1.1\r\nHost: {HOST}\r\nCookie: {self.cookie}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()
        await sock.send_all(request)
        data = b""
        with trio.fail_after(30):
            while b": connected" not in data:
                chunk = await sock.receive_some(65536)
                if not chunk:
                    self.refused += 1
                    await sock.aclose()
                    return
                data += chunk
        self.events.append(0)
        nursery.start_soon(self._drain, sock, len(self.events) - 1)

    async def _drain(self, sock: trio.SocketStream, n: int) -> None:
        async with sock:
            while chunk := await sock.receive_some(65536):
                self.events[n] += chunk.count(b"event: call_started")
        self.ended += 1


async def read_response(sock: trio.SocketStream) -> bytes:
    """One HTTP/1.1 response with a Content-Length (what the API sends for JSON)."""
    data = b""
    with trio.fail_after(30):
        while b"\r\n\r\n" not in data:
            chunk = await sock.receive_some(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = await sock.receive_some(65536)
            if not chunk:
                break
            body += chunk
    return head + b"\r\n\r\n" + body


async def probe_readyz(port: int, probes: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for _ in range(probes):
        began = time.perf_counter()
        async with await trio.open_tcp_stream(HOST, port) as sock:
            await sock.send_all(f"GET /readyz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            data = await read_response(sock)
        latencies.append((time.perf_counter() - began) * 1000)
        status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "no answer"
        statuses[status] = statuses.get(status, 0) + 1
        await trio.sleep(0.01)
    return {"probes": probes, "statuses": statuses, "p50_ms": round(percentile(latencies, 0.5), 1),
            "p90_ms": round(percentile(latencies, 0.9), 1), "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1)}


async def publish(client: redis.Redis, rate: float, business_id: str, stop: trio.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        fields = {"type": "call_started", "call_sid": f"CA{n:032x}", "business_id": business_id}
        await trio.to_thread.run_sync(client.xadd, "calls:events", fields)
        with trio.move_on_after(1 / rate):
            await stop.wait()


async def run(port: int, cookie: str, levels: list[int], probes: int, rate: float, client: redis.Redis,
              business_id: str) -> list[dict[str, Any]]:
    streams = Streams(port, cookie)
    results = []
    async with trio.open_nursery() as nursery:
        for level in levels:
            began = time.perf_counter()
            while len(streams.events) - 1 < level:
                await streams.open_one(nursery)
            opened = time.perf_counter() - began
            before = sum(streams.events)
            stop = trio.Event()
            nursery.start_soon(publish, client, rate, business_id, stop)
            # From a process of its own: this one is busy reading the streams.
            prober = await trio.to_thread.run_sync(functools.partial(
                subprocess.run, [sys.executable, "-m", "bench.events_bench", "--probe-port", str(port),
                                 "--probes", str(probes)], cwd=ROOT, capture_output=True, check=True))
            readyz = json.loads(prober.stdout)
            stop.set()
            await trio.sleep(1)
            live = sum(1 for count in streams.events[1:] if count > 0)
            results.append({"streams": len(streams.events) - 1, "open_seconds": round(opened, 2),
                            "readyz": readyz, "events_delivered": sum(streams.events) - before,
                            "streams_with_events": live, "refused": streams.refused, "ended": streams.ended})
            print(json.dumps(results[-1]), flush=True)
        nursery.cancel_scope.cancel()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.events_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Reads no environment variables of its own: the API it starts gets "
                                     "DATABASE_URL, REDIS_URL, API_PORT, PUBLIC_BASE_URL and the EVENTS_MAX_STREAMS* caps "
                                     "from these options and its own choices (the rest of the environment is passed "
                                     "through).")
    parser.add_argument("--levels", default="0,100,1000")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--event-rate", type=float, default=2.0)
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, this generator on CPU 1 (taskset)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--probe-port", type=int, help=argparse.SUPPRESS)  # internal: the prober process
    args = parser.parse_args(argv)
    if args.probe_port:
        print(json.dumps(trio.run(probe_readyz, args.probe_port, args.probes)))
        return 0
    levels = sorted(int(x) for x in args.levels.split(","))

    workdir = Path(tempfile.mkdtemp(prefix="events-bench-"))
    port = free_port()
    public = f"http://{HOST}:{port}"
    most = max(levels) + 10
    env = {**os.environ, "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
           "REDIS_URL": args.redis_url, "API_HOST": HOST, "API_PORT": str(port), "PUBLIC_BASE_URL": public,
           "INTERNAL_SECRET": "bench", "SEED_OWNER_PASSWORD": "bench owner password", "LOG_LEVEL": "WARNING",
           "EVENTS_MAX_STREAMS": str(most + 1), "EVENTS_MAX_STREAMS_PER_USER": str(most),
           "EVENTS_MAX_STREAMS_PER_BUSINESS": str(most)}
    client = redis.Redis.from_url(args.redis_url, decode_responses=True)
    client.flushdb()
    server = start_seeded_api(env, workdir / "api.log", pin=args.pin)
    try:
        try:
            wait_http(f"{public}/api/health")
        except RuntimeError:
            raise SystemExit("api did not start: " + (workdir / "api.log").read_text()) from None
        cookie = login(port, "bench owner password")
        business_id = "1"
        results = trio.run(run, port, cookie, levels, args.probes, args.event_rate, client, business_id)
    finally:
        server.terminate()
        server.wait(timeout=30)
        client.flushdb()
    result = {"levels": results, "database": env["DATABASE_URL"].split(":")[0], "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
