"""API benchmark: p99 latency of the signed ``/twilio/voice`` webhook at a fixed request rate,
and the throughput of ``GET /api/calls``, against a real ``python -m api`` (Hypercorn, trio).

    python -m bench.api_bench [--rate 50] [--seconds 20] [--list-seconds 10] [--clients 4]

Starts the API on a free port with a throw-away SQLite database (or ``--database-url``),
migrates and seeds it, and uses the Redis database of ``--redis-url`` (flushed before and
after: give it a database of its own). Voice requests follow an open-loop schedule and each
latency is measured from its *scheduled* send time, so a stall shows up instead of slowing
the sender (no coordinated omission). Each webhook runs the full path: signature check,
business lookup, capacity read, setup write to Redis and the call row insert.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import redis
from twilio.request_validator import RequestValidator

from bench.procs import ROOT, free_port, wait_http

TOKEN = "bench-twilio-token"
PHONE = "+15550100000"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def voice_load(port: int, public: str, rate: float, seconds: float) -> dict[str, float]:
    validator = RequestValidator(TOKEN)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    jobs: queue.Queue[int | None] = queue.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while (i := jobs.get()) is not None:
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            form = {"CallSid": f"CA{i:032x}", "AccountSid": "AC" + "0" * 32, "From": f"+1444{i % 1000:07d}",
                    "To": PHONE, "CallStatus": "ringing", "Direction": "inbound"}
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": validator.compute_signature(public + "/twilio/voice", form)}
            try:
                conn.request("POST", "/twilio/voice", body=urlencode(form), headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200 and b"<Connect" in body
            except OSError as exc:
                ok, body = False, str(exc).encode()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(body[:200].decode(errors="replace"))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for i in range(total):
        jobs.put(i)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    return {
        "requests": total, "errors": len(errors), "rate_per_s": rate,
        "p50_ms": round(percentile(latencies, 0.50), 2), "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2), "mean_ms": round(statistics.fmean(latencies), 2),
        "first_error": errors[0] if errors else None,
    }


def list_load(port: int, cookie: str, clients: int, seconds: float) -> dict[str, float]:
    counts = [0] * clients
    bad = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.perf_counter() < stop:
            conn.request("GET", "/api/calls?per_page=25", headers={"Cookie": cookie})
            resp = conn.getresponse()
            resp.read()
            counts[n] += 1
            bad[n] += resp.status != 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"clients": clients, "requests": sum(counts), "non_200": sum(bad), "seconds": round(elapsed, 2),
            "requests_per_s": round(sum(counts) / elapsed, 1)}


def login(port: int, password: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/auth/login", body=json.dumps({"email": "owner@demo.prosaas.local", "password": password}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200, resp.status
    return resp.headers["Set-Cookie"].split(";", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Reads no environment variables of its own: the API it starts gets DATABASE_URL, REDIS_URL, "
        "API_PORT, PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN and the seed passwords from these options and its "
        "own choices (the rest of the environment is passed through).",
    )
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--list-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="api-bench-"))
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
           "REDIS_URL": args.redis_url, "API_HOST": "127.0.0.1", "API_PORT": str(port), "PUBLIC_BASE_URL": public,
           "TWILIO_AUTH_TOKEN": TOKEN, "INTERNAL_SECRET": "bench", "SEED_OWNER_PASSWORD": "bench owner password",
           "LOG_LEVEL": "WARNING"}
    client = redis.Redis.from_url(args.redis_url)
    client.flushdb()
    client.set("calls:capacity", 1_000_000)
    client.set("calls:active_count", 0)
    for module in ("api.migrate", "api.seed"):
        subprocess.run([sys.executable, "-m", module], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "api"], env=env, cwd=ROOT,
                              stdout=(workdir / "api.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        try:
            wait_http(f"{public}/api/health")
        except RuntimeError:
            raise SystemExit("api did not start: " + (workdir / "api.log").read_text()) from None
        voice = voice_load(port, public, args.rate, args.seconds)
        listing = list_load(port, login(port, "bench owner password"), args.clients, args.list_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        client.flushdb()
    result = {"voice_webhook": voice, "get_api_calls": listing, "database": env["DATABASE_URL"].split(":")[0],
              "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
