"""Overload benchmark: the signed ``/twilio/voice`` webhook at 1×, 2×, 3× one process's capacity,
sent OPEN-LOOP (a fixed arrival rate that does not slow down with the server).

    python -m bench.overload_bench [--capacity 200] [--multiples 1,2,3] [--seconds 15] [--pin]

Starts a real ``python -m api`` (one Hypercorn trio worker) on a free port with a throw-away
SQLite database (or ``--database-url``) and the Redis database of ``--redis-url`` (flushed
before and after: give it a database of its own). Request ``i`` of a level is due at
``start + i / rate``; a task is started for it at that time whatever the earlier ones are
doing, takes an idle keep-alive connection or opens one, and its latency is measured from the
due time to the whole answer (no coordinated omission). Requests are signed in advance so
the generator stays cheap. Each answer is counted as accepted (200 with ``<Connect>``), shed
(503, which sends Twilio to the fallback URL) or an error (anything else, a connection error, or
no answer within ``--timeout``). ``/readyz`` is probed twice a second during each level.
``--pin`` puts the server on CPU 0 and the generator on CPU 1 (``taskset``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
import trio
from twilio.request_validator import RequestValidator

from bench.api_bench import PHONE, TOKEN, percentile
from bench.procs import free_port, start_seeded_api, wait_http

HOST = "127.0.0.1"


async def read_response(sock: trio.SocketStream) -> tuple[int, bool, bytes]:
    """(status, connection closes, body) of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await sock.receive_some(65536)
        if not chunk:
            raise ConnectionResetError("closed before the response")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
    length = int(headers.get(b"content-length", b"0"))
    while len(body) < length:
        chunk = await sock.receive_some(65536)
        if not chunk:
            raise ConnectionResetError("closed inside the body")
        body += chunk
    return int(lines[0].split(b" ", 2)[1]), headers.get(b"connection", b"").lower() == b"close", body


def signed_requests(public: str, count: int, prefix: int) -> list[bytes]:
    validator = RequestValidator(TOKEN)
    requests = []
    for i in range(count):
        form = {"CallSid": f"CA{prefix:04d}{i:028x}", "AccountSid": "AC" + "0" * 32, "From": f"+1444{i % 1000:07d}",
                "To": PHONE, "CallStatus": "ringing", "Direction": "inbound"}
        body = urlencode(form).encode()
        signature = validator.compute_signature(public + "/twilio/voice", form)
        requests.append(
            f"POST /twilio/voice HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    return requests


async def one_level(port: int, requests: list[bytes], rate: float, timeout: float) -> dict[str, Any]:
    idle: list[trio.SocketStream] = []
    accepted: list[float] = []
    shed: list[float] = []
    errors: dict[str, int] = {}
    probes: list[tuple[int, float]] = []
    done = trio.Event()

    async def send(i: int, due: float) -> None:
        sock = idle.pop() if idle else None
        try:
            with trio.fail_after(timeout):
                if sock is None:
                    sock = await trio.open_tcp_stream(HOST, port)
                await sock.send_all(requests[i])
                status, closes, body = await read_response(sock)
        except (OSError, trio.BrokenResourceError, trio.TooSlowError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            if sock is not None:
                await trio.aclose_forcefully(sock)
            return
        elapsed = (trio.current_time() - due) * 1000
        if status == 200 and b"<Connect" in body:
            accepted.append(elapsed)
        elif status == 503:
            shed.append(elapsed)
        else:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
        if closes:
            await trio.aclose_forcefully(sock)
        else:
            idle.append(sock)

    async def probe_readyz() -> None:
        while not done.is_set():
            began = trio.current_time()
            status = 0
            with trio.move_on_after(timeout):
                async with await trio.open_tcp_stream(HOST, port) as sock:
                    await sock.send_all(f"GET /readyz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                    status, _, _ = await read_response(sock)
            probes.append((status, (trio.current_time() - began) * 1000))
            with trio.move_on_after(0.5):
                await done.wait()

    start = trio.current_time() + 0.5
    async with trio.open_nursery() as nursery:
        nursery.start_soon(probe_readyz)
        async with trio.open_nursery() as senders:
            for i in range(len(requests)):
                due = start + i / rate
                await trio.sleep_until(due)
                senders.start_soon(send, i, due)
        done.set()
    for sock in idle:
        await trio.aclose_forcefully(sock)

    def summary(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"p50_ms": None, "p99_ms": None, "max_ms": None}
        return {"p50_ms": round(percentile(values, 0.5), 1), "p99_ms": round(percentile(values, 0.99), 1),
                "max_ms": round(max(values), 1)}

    ready_ok = sum(1 for status, _ in probes if status == 200)
    return {"sent": len(requests), "accepted": len(accepted), "shed": len(shed), "errors": sum(errors.values()),
            "error_kinds": errors, "accepted_latency": summary(accepted), "shed_latency": summary(shed),
            "readyz": {"probes": len(probes), "ok": ready_ok, **summary([ms for _, ms in probes])}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overload_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Reads no environment variables of its own: the API it starts gets "
                                     "DATABASE_URL, REDIS_URL, API_PORT, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN and "
                                     "API_MAX_IN_FLIGHT (with --max-in-flight) from these options and its own choices "
                                     "(the rest of the environment is passed through).")
    parser.add_argument("--capacity", type=float, default=200.0, help="requests/s one process sustains (1×)")
    parser.add_argument("--multiples", default="1,2,3")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=15.0, help="Twilio waits 15 s for a webhook")
    parser.add_argument("--max-in-flight", type=int)
    parser.add_argument("--pin", action="store_true")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    multiples = [float(x) for x in args.multiples.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="overload-bench-"))
    port = free_port()
    public = f"http://{HOST}:{port}"
    env = {**os.environ, "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
           "REDIS_URL": args.redis_url, "API_HOST": HOST, "API_PORT": str(port), "PUBLIC_BASE_URL": public,
           "TWILIO_AUTH_TOKEN": TOKEN, "INTERNAL_SECRET": "bench", "SEED_OWNER_PASSWORD": "bench owner password",
           "LOG_LEVEL": "ERROR"}
    if args.max_in_flight:
        env["API_MAX_IN_FLIGHT"] = str(args.max_in_flight)
    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()
    client.set("calls:capacity", 1_000_000)
    client.set("calls:active_count", 0)
    server = start_seeded_api(env, workdir / "api.log", pin=args.pin)
    levels = []
    try:
        try:
            wait_http(f"{public}/api/health")
        except RuntimeError:
            raise SystemExit("api did not start: " + (workdir / "api.log").read_text()) from None
        for n, multiple in enumerate(multiples, start=1):
            rate = args.capacity * multiple
            requests = signed_requests(public, int(rate * args.seconds), n)
            level = {"multiple": multiple, "rate_per_s": rate, **trio.run(one_level, port, requests, rate, args.timeout)}
            levels.append(level)
            print(json.dumps(level), flush=True)
            client.delete(*client.keys("calls:setup:*") or ["-"])
    finally:
        server.terminate()
        server.wait(timeout=30)
        client.flushdb()
    result = {"capacity_per_s": args.capacity, "max_in_flight": env.get("API_MAX_IN_FLIGHT", "default"),
              "levels": levels, "database": env["DATABASE_URL"].split(":")[0], "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
