"""WhatsApp benchmarks on the real Node gateway (``node baileys/src/server.js``, ``WA_DRIVER=fake``).

    python -m bench.whatsapp_bench [--messages 200] [--rate 5] [--levels 1,100,1000]
                                   [--recipients 500] [--quick] [--json PATH]

1. Event latency: an inbound message injected with ``POST /fake/{id}/inbound`` on a gateway
   connected (``/fake/{id}/scan``) for the seeded business, to the sender's lead listed by
   ``GET /api/leads`` of a seeded ``python -m api`` on SQLite (logged in as the owner, polled every
   20 ms): distinct phones at a steady rate, p50 / p99 / max. The path measured is the gateway's
   durable outbox (fsync'd file), the signed POST to ``/internal/whatsapp/events``, the API's
   transaction, and the poll.
2. Gateway memory per connected session: one gateway process, sessions started and connected
   (start + scan each, ``--batch`` at a time) up to each level; after the outbox is empty and a
   settle, a forced GC (``node --expose-gc`` and the preload ``bench/wa_gc_hook.mjs``, signalled
   with SIGUSR2), then VmRSS from ``/proc/<pid>/status`` (the smallest of readings a second apart,
   taken until it stops dropping: V8 and malloc give memory back in steps while idle);
   per session = (RSS(n) − RSS(0)) / n, RSS(0) taken after one warm-up session was connected and
   logged out (so one-time costs are not charged to the sessions). V8's heap used is shown too.
3. Broadcast throughput with pacing off through the real gateway (``run_broadcast``'s chunks, as
   in ``bench.broadcast_bench``, but sending to the Node process, whose idempotency keys and
   contacts are fsync'd on its volume), next to the same run against the Python fake gateway.

``--quick`` makes every part tiny (a smoke test that it runs and prints its figures).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import broadcast_bench
from bench.procs import ROOT, free_port, private_redis, start_seeded_api, wait_http, watch_list

__all__ = ["main"]

SECRET = "whatsapp-bench-internal-secret"  # noqa: S105 - a throw-away local process
OWNER_PASSWORD = "bench owner password"  # noqa: S105 - a throw-away seeded database
POLL_SECONDS = 0.02
GC_HOOK = ROOT / "bench" / "wa_gc_hook.mjs"
STEADY_READINGS, STEADY_READINGS_MAX = 5, 30
WARM_UP = "99999"  # the memory part's warm-up business


# -- the gateway process ------------------------------------------------------------------------


@dataclass
class Gateway:
    pid: int
    url: str
    gc_report: Path

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-Internal-Secret": SECRET, "X-WhatsApp-Shard": "1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        return resp.status, json.loads(raw) if raw else None

    def connect(self, business_id: str) -> None:
        """Start the session and scan its QR (the fake phone links); returns once both are accepted."""
        for path, body in ((f"/sessions/{business_id}/start", None), (f"/fake/{business_id}/scan", {})):
            status, answer = self.call("POST", path, body)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status} {answer}")

    def health(self) -> dict[str, Any]:
        return dict(self.call("GET", "/health")[1])

    def memory(self, count: int) -> dict[str, int]:
        """Force a GC in the gateway (SIGUSR2 to the preload) and read its resident size."""
        os.kill(self.pid, signal.SIGUSR2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                report = json.loads(self.gc_report.read_text())
                if report["count"] == count:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("the gateway did not answer the GC signal")
        status = Path(f"/proc/{self.pid}/status").read_text()
        rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return {"rss_kb": rss_kb, "heap_used_kb": report["heapUsed"] // 1024, "gc": bool(report["gc"])}


@contextmanager
def node_gateway(work: Path, api_url: str) -> Iterator[Gateway]:
    """``node --expose-gc --import bench/wa_gc_hook.mjs baileys/src/server.js`` on the fake driver."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""), "NODE_ENV": "test", "WA_DRIVER": "fake", "INTERNAL_SECRET": SECRET,
        "BAILEYS_PORT": str(port), "BAILEYS_DATA_DIR": str(work / "shard-1"), "LOG_LEVEL": "warn",
        "API_URL": api_url, "WA_DRAIN_SECONDS": "2", "BENCH_GC_REPORT": str(work / "gc.json"),
    }
    with (work / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(["node", "--expose-gc", "--import", GC_HOOK.as_uri(),
                                 str(ROOT / "baileys" / "src" / "server.js")],
                                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=30)
        yield Gateway(proc.pid, f"http://127.0.0.1:{port}", work / "gc.json")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class _Sink(BaseHTTPRequestHandler):
    """Stands in for the API where only the gateway is measured: every event is stored."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        payload = b'{"stored":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - silence
        return


@contextmanager
def event_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _wait(check: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


# -- 1. event latency ---------------------------------------------------------------------------


def _login(port: int) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"email": "owner@demo.prosaas.local", "password": OWNER_PASSWORD})
    try:
        conn.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        answer = json.loads(resp.read())
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"login refused: {resp.status}")
    user = answer.get("user", answer)
    return resp.headers["Set-Cookie"].split(";", 1)[0], str(user["business_id"])


def latency(work: Path, redis_url: str, messages: int, rate: float) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'latency.db'}", "REDIS_URL": redis_url,
           "API_HOST": "127.0.0.1", "API_PORT": str(port), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "INTERNAL_SECRET": SECRET, "SEED_OWNER_PASSWORD": OWNER_PASSWORD, "LOG_LEVEL": "WARNING"}
    api = start_seeded_api(env, work / "api.log", pin=False)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health", timeout=60)
        cookie, business_id = _login(port)
        with (node_gateway(work / "latency", f"http://127.0.0.1:{port}") as gateway,
              watch_list(port, "/api/leads?source=whatsapp&per_page=50", cookie, lambda item: item["phone_e164"],
                         poll_seconds=POLL_SECONDS) as watch):
            gateway.connect(business_id)
            _wait(lambda: gateway.call("GET", f"/sessions/{business_id}")[1]["state"] == "connected",
                  "the session to connect", 30)
            start = time.perf_counter() + 0.5
            for i in range(messages):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                phone = f"+1444{os.getpid() % 1000:03d}{i:05d}"
                watch.expect(phone)
                status, answer = gateway.call("POST", f"/fake/{business_id}/inbound",
                                              {"from_phone": phone, "text": f"hello {i}", "push_name": "Bench"})
                if status != 200:
                    raise RuntimeError(f"inbound {i}: HTTP {status} {answer}")
            _wait(lambda: watch.count_seen() >= messages, "every lead", 60)
    finally:
        api.send_signal(signal.SIGTERM)
        try:
            api.wait(timeout=30)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
    ms = watch.latencies_ms()
    return {"messages": len(watch.sent), "visible": len(ms), "rate_per_s": rate, "p50_ms": pct(ms, 0.50),
            "p99_ms": pct(ms, 0.99), "max_ms": round(max(ms), 1), "poll_ms": POLL_SECONDS * 1000}


# -- 2. memory per connected session ------------------------------------------------------------


def memory(work: Path, levels: list[int], batch: int, settle: float) -> dict[str, Any]:
    rows = []
    with event_sink() as sink, node_gateway(work / "memory", sink) as gateway:
        measured = 0

        def settled(connected: int) -> dict[str, int]:
            """Once the outbox is empty and the process idle for ``settle`` s: readings (each after a
            forced GC) a second apart until the smallest RSS has not dropped for 5 of them (V8 and
            malloc give memory back in steps while idle); the smallest."""
            nonlocal measured
            _wait(lambda: gateway.health()["events_pending"] == 0, "an empty outbox", 600)
            time.sleep(settle)
            best: dict[str, int] | None = None
            unchanged = 0
            for _ in range(STEADY_READINGS_MAX):
                measured += 1
                reading = gateway.memory(measured)
                if best is None or reading["rss_kb"] < best["rss_kb"] * 0.995:
                    best, unchanged = reading, 0
                else:
                    unchanged += 1
                    if unchanged >= STEADY_READINGS:
                        break
                time.sleep(1.0 if settle else 0.1)
            assert best is not None
            return best

        # Warm-up: one session connected and logged out, so the code paths, compiled schemas and
        # the event connection to the API are in the baseline and not charged to the first session.
        gateway.connect(WARM_UP)
        _wait(lambda: gateway.call("GET", f"/sessions/{WARM_UP}")[1]["state"] == "connected", "the warm-up session", 30)
        gateway.call("POST", f"/sessions/{WARM_UP}/logout")
        base = settled(0)
        started = 0
        with ThreadPoolExecutor(max_workers=batch) as pool:
            for level in levels:
                begin = time.perf_counter()
                list(pool.map(gateway.connect, (str(100_000 + i) for i in range(started, level))))
                _wait(lambda n=level: gateway.health()["sessions"]["connected"] == n, f"{level} connected sessions", 600)
                connect_s = time.perf_counter() - begin
                started_before, started = started, level
                m = settled(level)
                rows.append({"sessions": level, "rss_kb": m["rss_kb"], "heap_used_kb": m["heap_used_kb"],
                             "rss_kb_per_session": round((m["rss_kb"] - base["rss_kb"]) / level, 1),
                             "heap_kb_per_session": round((m["heap_used_kb"] - base["heap_used_kb"]) / level, 1),
                             "connected_per_s": round((level - started_before) / connect_s, 1)})
    return {"base_rss_kb": base["rss_kb"], "base_heap_used_kb": base["heap_used_kb"], "forced_gc": base["gc"],
            "settle_s": settle, "batch": batch, "levels": rows}


# -- 3. broadcast through the real gateway -----------------------------------------------------------


def broadcast(work: Path, recipients: int) -> dict[str, Any]:
    url = f"sqlite:///{work / 'broadcast-node.db'}"
    business_id, broadcast_id, phones = broadcast_bench.prepare(url, recipients)
    from api.services.whatsapp_gateway import Gateway, GatewaySender

    with event_sink() as sink, node_gateway(work / "broadcast", sink) as gateway:
        gateway.connect(str(business_id))
        _wait(lambda: gateway.call("GET", f"/sessions/{business_id}")[1]["state"] == "connected", "connected", 30)
        sender = GatewaySender(Gateway((gateway.url,), SECRET), shard_of=lambda _: 1)
        chunks, seconds = broadcast_bench.drive(url, broadcast_id, sender)
        counts = Counter(m["to"] for m in gateway.call("GET", f"/fake/{business_id}/sent")[1]["sent"])
    once = set(counts) == set(phones) and set(counts.values()) == {1}
    python_fake = broadcast_bench.run(f"sqlite:///{work / 'broadcast-python.db'}", recipients, 0.0)
    return {"recipients": recipients, "chunks": chunks, "seconds": round(seconds, 3),
            "sends_per_s": round(recipients / seconds, 1), "each_delivered_once": once,
            "python_fake": python_fake}


# -- entry point ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.whatsapp_bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Needs node 20+ with baileys/node_modules (scripts/test-baileys.sh installs them) and redis-server. "
        "Reads no environment variables of its own: it starts a private redis-server, the API and the gateways "
        "with their settings on free ports.",
    )
    parser.add_argument("--messages", type=int, default=200, help="inbound messages (distinct phones)")
    parser.add_argument("--rate", type=float, default=5.0, help="inbound messages per second")
    parser.add_argument("--levels", default="1,100,1000", help="connected sessions to measure memory at")
    parser.add_argument("--batch", type=int, default=25, help="sessions connected at a time")
    parser.add_argument("--settle", type=float, default=12.0,
                        help="idle seconds before each memory reading (V8 gives memory back after ~6 s idle)")
    parser.add_argument("--recipients", type=int, default=500, help="broadcast recipients")
    parser.add_argument("--parts", default="latency,memory,broadcast")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.rate, args.levels, args.settle, args.recipients = 10, 10.0, "1,10", 0.5, 20
    try:
        args.levels = sorted({int(x) for x in args.levels.split(",") if x})
    except ValueError:
        parser.error("--levels: a comma list of session counts")
    args.parts = [p for p in args.parts.split(",") if p]
    if set(args.parts) - {"latency", "memory", "broadcast"}:
        parser.error("--parts: a comma list of latency, memory, broadcast")
    if min(args.messages, args.batch, args.recipients, *args.levels) < 1 or args.rate <= 0 or args.settle < 0:
        parser.error("sizes and rates must be positive")
    return args


def report(result: dict[str, Any]) -> str:
    lines = []
    if lat := result.get("latency"):
        lines += ["| inbound messages | rate | visible | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|---|",
                  f"| {lat['messages']} | {lat['rate_per_s']:g}/s | {lat['visible']} | {lat['p50_ms']} | "
                  f"{lat['p99_ms']} | {lat['max_ms']} |", ""]
    if mem := result.get("memory"):
        lines += [f"gateway at rest: RSS {mem['base_rss_kb']} KB, heap {mem['base_heap_used_kb']} KB "
                  f"(forced GC: {'yes' if mem['forced_gc'] else 'no'}, settle {mem['settle_s']:g} s)", "",
                  "| connected sessions | RSS KB | RSS KB per session | heap KB | heap KB per session | sessions connected/s |",
                  "|---|---|---|---|---|---|"]
        for r in mem["levels"]:
            lines.append(f"| {r['sessions']} | {r['rss_kb']} | {r['rss_kb_per_session']} | {r['heap_used_kb']} | "
                         f"{r['heap_kb_per_session']} | {r['connected_per_s']} |")
        lines.append("")
    if bc := result.get("broadcast"):
        py = bc["python_fake"]
        lines += ["| broadcast, pacing off | recipients | chunks | seconds | sends/s | each delivered once |",
                  "|---|---|---|---|---|---|",
                  f"| Node gateway, fake driver | {bc['recipients']} | {bc['chunks']} | {bc['seconds']} | "
                  f"{bc['sends_per_s']} | {bc['each_delivered_once']} |",
                  f"| Python fake gateway | {py['recipients']} | {py['chunks']} | {py['seconds']} | "
                  f"{py['sends_per_s']} | {py['each_delivered_once']} |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("node") is None or not (ROOT / "baileys" / "node_modules").is_dir():
        print("whatsapp_bench: needs node and baileys/node_modules (run scripts/test-baileys.sh)", file=sys.stderr)
        return 2
    result: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="whatsapp-bench-") as tmp, private_redis(Path(tmp)) as redis_url:
        work = Path(tmp)
        if "latency" in args.parts:
            print(f"latency: {args.messages} inbound messages at {args.rate:g}/s → GET /api/leads", flush=True)
            result["latency"] = latency(work, redis_url, args.messages, args.rate)
        if "memory" in args.parts:
            print(f"memory: one gateway, sessions connected up to {args.levels}", flush=True)
            result["memory"] = memory(work, args.levels, args.batch, args.settle)
        if "broadcast" in args.parts:
            print(f"broadcast: {args.recipients} recipients, pacing off, Node gateway then Python fake", flush=True)
            result["broadcast"] = broadcast(work, args.recipients)
    print()
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    # latency() raises unless every lead became visible; a broadcast must reach each recipient once.
    return 0 if result.get("broadcast", {}).get("each_delivered_once", True) else 1


if __name__ == "__main__":
    sys.exit(main())
