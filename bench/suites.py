"""The benchmark suites: capacity sweep, cost against the stack floor, reject-when-full, leak,
and the Pipecat peer."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import trio

from bench.procs import (
    HARNESS_CPU,
    ROOT,
    engine,
    floor_peer,
    get_json,
    health_peaks,
    pipecat_peer,
    run_harness,
)

# Capacity criteria (issue #2): a level passes only if every one holds.
CRITERIA = {
    "failed": 0,
    "underruns": 0,
    "pacing_p99_ms": 20.0,  # strictly below
    "inbound_lag_p99_ms": 50.0,  # strictly below
    "harness_lateness_p99_ms": 5.0,  # strictly below
    "barge_in_p99_ms": 250.0,  # at most
}


def _row(calls: int, res: dict[str, Any], health: dict[str, Any] | None) -> dict[str, Any]:
    out, server = res["outbound"], res.get("server") or {}
    lag = (health or {}).get("calls", {}).get("inbound_lag_ms", {})
    row = {
        "calls": calls,
        "connected": res["calls"]["connected"],
        # the echo brain never hangs up: a call the server ended early is a failure here
        "failed": res["calls"]["failed"] + res["calls"]["refused"] + res["calls"].get("hung_up", 0),
        "underruns": out["underruns"],
        "underruns_per_min": out["underruns_per_min"],
        "pacing_p99_ms": out["pacing_error_ms"].get("p99"),
        "lead_p50_ms": out["lead_ms"].get("p50"),
        "inbound_lag_p99_ms": lag.get("p99"),
        "harness_lateness_p99_ms": res["inbound"]["lateness_ms"].get("p99"),
        "barge_in_p99_ms": res["barge_in"]["latency_ms"].get("p99"),
        "barge_in_missed": res["barge_in"]["missed"],
        "cpu_us_per_call_s": server.get("cpu_us_per_call_s"),
        "cpu_percent": server.get("cpu_percent"),
        "rss_per_call_kb": server.get("rss_per_call_kb"),
        "harness_cpu_percent": res["harness"]["cpu_percent"],
    }
    row["pass"] = passes(row)
    return row


def passes(row: dict[str, Any]) -> bool:
    def below(key: str, limit: float, *, inclusive: bool = False) -> bool:
        value = row.get(key)
        if value is None:
            return key == "barge_in_p99_ms" and False
        return value <= limit if inclusive else value < limit

    return (
        row["failed"] == 0
        and row["underruns"] == 0
        and row.get("barge_in_missed", 0) == 0
        and below("pacing_p99_ms", CRITERIA["pacing_p99_ms"])
        and below("inbound_lag_p99_ms", CRITERIA["inbound_lag_p99_ms"])
        and below("harness_lateness_p99_ms", CRITERIA["harness_lateness_p99_ms"])
        and below("barge_in_p99_ms", CRITERIA["barge_in_p99_ms"], inclusive=True)
    )


def capacity(redis_url: str, work: Path, levels: list[int], duration: float) -> list[dict[str, Any]]:
    """One fresh engine per level, continuous caller speech with barge-in every cycle."""
    rows = []
    for calls in levels:
        with engine(redis_url, work) as (pid, port):
            res = run_harness(
                f"ws://127.0.0.1:{port}/ws/twilio",
                work / f"capacity-{calls}.json",
                server_pid=pid,
                calls=calls,
                duration=duration,
            )
            health = get_json(f"http://127.0.0.1:{port}/health")
        row = _row(calls, res, health)
        rows.append(row)
        print(_fmt(row), flush=True)
        if not row["pass"] and calls >= 200 and len(rows) >= 2 and not rows[-2]["pass"]:
            break  # two failing levels in a row: stop climbing
    return rows


def _fmt(row: dict[str, Any]) -> str:
    return (
        f"  {row['calls']:>4} calls  {'PASS' if row['pass'] else 'fail'}  "
        f"failed {row['failed']}  underruns {row['underruns']}  pacing p99 {row['pacing_p99_ms']} ms  "
        f"lag p99 {row['inbound_lag_p99_ms']} ms  lateness p99 {row['harness_lateness_p99_ms']} ms  "
        f"barge-in p99 {row['barge_in_p99_ms']} ms  cpu {row['cpu_us_per_call_s']} µs/call-s  "
        f"rss {row['rss_per_call_kb']} KB/call"
    )


async def _probe_rejects(port: int, attempts: int, spacing: float) -> list[float]:
    head = (
        f"GET /ws/twilio HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n"
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    ).encode()
    times = []
    for _ in range(attempts):
        t0 = time.perf_counter()
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            await stream.send_all(head)
            data = await stream.receive_some(4096)
        if not data.startswith(b"HTTP/1.1 503"):
            raise RuntimeError(f"expected a 503, got {data[:40]!r}")
        times.append((time.perf_counter() - t0) * 1000)
        await trio.sleep(spacing)
    return times


def reject_when_full(redis_url: str, work: Path, calls: int = 50) -> dict[str, Any]:
    """Fill the limiter with live calls, then time TCP connect → 503 for new handshakes."""
    with engine(redis_url, work, MAX_CONCURRENT_CALLS=str(calls)) as (pid, port):
        load = subprocess.Popen(
            [sys.executable, "-m", "callengine.loadtest", "--url", f"ws://127.0.0.1:{port}/ws/twilio",
             "--calls", str(calls), "--duration", "25", "--quiet", "--pin-cpu", HARNESS_CPU],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while get_json(f"http://127.0.0.1:{port}/health")["active_calls"] < calls:
                if time.monotonic() > deadline:
                    raise RuntimeError("the limiter never filled")
                time.sleep(0.2)
            times = trio.run(_probe_rejects, port, 300, 0.02)
            health = get_json(f"http://127.0.0.1:{port}/health")
        finally:
            load.wait(timeout=60)
    times.sort()
    return {
        "active_calls": calls,
        "attempts": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "max_ms": round(times[-1], 2),
        "counted_full": health["rejected"]["full"],
    }


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def leak(redis_url: str, work: Path, total: int = 1000) -> dict[str, Any]:
    """RSS growth over ``total`` short calls (about 20 at a time), after a warm-up."""
    with engine(redis_url, work) as (pid, port):
        url = f"ws://127.0.0.1:{port}/ws/twilio"
        run_harness(url, work / "leak-warmup.json", server_pid=pid, calls=100, duration=1.0,
                    extra=["--ramp", "0.05"])
        before = _rss_kb(pid)
        res = run_harness(url, work / "leak.json", server_pid=pid, calls=total, duration=1.0,
                          extra=["--ramp", "0.05"])
        time.sleep(1)
        after = _rss_kb(pid)
        health = get_json(f"http://127.0.0.1:{port}/health")
    return {
        "calls": total,
        "completed": res["calls"]["completed"],
        "failed": res["calls"]["failed"],
        "rss_before_kb": before,
        "rss_after_kb": after,
        "growth_kb": after - before,
        "finalized_calls": health["calls"]["calls_started"],
    }


def peer(redis_url: str, work: Path, levels: list[int], duration: float, *, vad: bool) -> dict[str, Any]:
    """The same harness against the Pipecat echo bot and against us, level by level."""
    out: dict[str, Any] = {"pipecat": [], "ours": [], "vad": vad}
    for calls in levels:
        with pipecat_peer(work, vad=vad) as (pid, port):
            res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio", work / f"peer-{calls}.json",
                              server_pid=pid, calls=calls, duration=duration)
        row = _row(calls, res, None)
        out["pipecat"].append(row)
        print("  pipecat" + _fmt(row), flush=True)
        with engine(redis_url, work) as (pid, port):
            res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio", work / f"ours-{calls}.json",
                              server_pid=pid, calls=calls, duration=duration)
            health = get_json(f"http://127.0.0.1:{port}/health")
        row = _row(calls, res, health)
        out["ours"].append(row)
        print("  ours   " + _fmt(row), flush=True)
    return out


def cost(redis_url: str, work: Path, levels: list[int], duration: float, repeats: int) -> dict[str, Any]:
    """CPU per call-second of the engine against the bare trio-websocket floor, interleaved.

    Each round runs the floor (receive-only, then lean echo) and the engine back to back at
    one level, so that machine noise hits all three alike; the medians over ``repeats``
    rounds and the engine/floor ratios are reported.
    """
    out: dict[str, Any] = {"levels": [], "duration": duration, "repeats": repeats}
    for calls in levels:
        runs: dict[str, list[float]] = {"receive": [], "echo": [], "engine": []}
        rss: list[float] = []
        for round_no in range(repeats):
            for mode in ("receive", "echo"):
                with floor_peer(work, mode=mode) as (pid, port):
                    res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio",
                                      work / f"floor-{mode}-{calls}-{round_no}.json",
                                      server_pid=pid, calls=calls, duration=duration)
                runs[mode].append((res.get("server") or {}).get("cpu_us_per_call_s") or 0.0)
            with engine(redis_url, work) as (pid, port):
                res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio",
                                  work / f"cost-engine-{calls}-{round_no}.json",
                                  server_pid=pid, calls=calls, duration=duration)
            row = _row(calls, res, None)
            runs["engine"].append(row["cpu_us_per_call_s"] or 0.0)
            rss.append(row["rss_per_call_kb"] or 0.0)
            print(f"  {calls:>4} calls round {round_no + 1}: floor receive {runs['receive'][-1]:.0f}, "
                  f"floor echo {runs['echo'][-1]:.0f}, engine {runs['engine'][-1]:.0f} µs/call-s "
                  f"(engine underruns {row['underruns']}, failed {row['failed']})", flush=True)
        med = {k: round(statistics.median(v)) for k, v in runs.items()}
        out["levels"].append({
            "calls": calls,
            "runs_us_per_call_s": runs,
            "median_us_per_call_s": med,
            "engine_over_receive": round(med["engine"] / med["receive"], 2) if med["receive"] else None,
            "engine_over_echo": round(med["engine"] / med["echo"], 2) if med["echo"] else None,
            "engine_rss_per_call_kb": round(statistics.median(rss)),
        })
    return out


# Four recorded callers (two spoken needs, one keypad, one noisy) who all confirm their caller
# ID as the callback number: a record is right when it holds that number.
RECEPTIONIST_SESSIONS = ("c01_sales_plain", "c02_support_gb", "c03_dtmf_sales", "c07_support_noisy")
CALLER_ID = "+15551230000"
RAMP_SECONDS = 16.0


def receptionist(redis_url: str, work: Path, levels: list[int]) -> list[dict[str, Any]]:
    """Concurrent recorded callers against the offline receptionist (speech recognition costs
    CPU): playback health from the harness; answers and brain time from the call records that
    wait on the private Redis's queue ``high``."""
    import bz2

    import redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    fixtures = ROOT / "tests" / "fixtures" / "receptionist"
    sessions: list[str] = []
    for name in RECEPTIONIST_SESSIONS:
        path = work / f"{name}.jsonl"
        path.write_bytes(bz2.decompress((fixtures / f"{name}.jsonl.bz2").read_bytes()))
        sessions += ["--session", str(path)]
    client = redis.Redis.from_url(redis_url)
    rows = []
    for calls in levels:
        client.flushdb()
        with engine(redis_url, work, CALLS_BRAIN="receptionist") as (pid, port):
            time.sleep(3)  # the recognition workers warm up in the background
            # Every call is up within RAMP_SECONDS, so all of them talk at once for the
            # rest of the ~37 s sessions: the level is the real concurrency.
            ramp = min(0.25, RAMP_SECONDS / calls)
            with health_peaks(port) as peaks:
                res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio", work / f"receptionist-{calls}.json",
                                  server_pid=pid, calls=calls, duration=0,
                                  extra=[*sessions, "--ramp", f"{ramp:.4f}"])
        records = [job.args[0] for job in
                   Queue("high", connection=client, serializer=JSONSerializer).get_jobs()]
        right = 0
        brain: list[float] = []
        for record in records:
            summary = record.get("brain_summary") or {}
            right += (summary.get("lead") or {}).get("callback_number") == CALLER_ID
            turns = (summary.get("metrics") or {}).get("turns", [])
            brain += [t["brain_ms"] for t in turns if t.get("brain_ms") is not None]
        brain.sort()
        row = {
            "calls": calls,
            "connected": res["calls"]["connected"],
            "finished": res["calls"]["completed"] + res["calls"].get("hung_up", 0),
            "failed": res["calls"]["failed"] + res["calls"]["refused"],
            "underruns": res["outbound"]["underruns"],
            "pacing_p99_ms": res["outbound"]["pacing_error_ms"].get("p99"),
            "harness_lateness_p99_ms": res["inbound"]["lateness_ms"].get("p99"),
            "records": len(records),
            "callback_number_right": right,
            "brain_ms_p50": brain[len(brain) // 2] if brain else None,
            "brain_ms_p90": brain[int(len(brain) * 0.9)] if brain else None,
            "cpu_percent": (res.get("server") or {}).get("cpu_percent"),
            "peak_active_calls": peaks.get("active_calls"),
            # /health polled every 100 ms: peak answers decoding (≤ workers) and waiting for one
            "recognition_workers": peaks.get("receptionist.threads"),
            "recognition_busy_peak": peaks.get("receptionist.borrowed"),
            "recognition_waiting_peak": peaks.get("receptionist.waiting"),
        }
        rows.append(row)
        print(f"  {calls:>4} calls: finished {row['finished']}, failed {row['failed']}, underruns "
              f"{row['underruns']}, pacing p99 {row['pacing_p99_ms']} ms, harness lateness p99 "
              f"{row['harness_lateness_p99_ms']} ms, callback number right {right}/{len(records)}, "
              f"brain p50/p90 {row['brain_ms_p50']}/{row['brain_ms_p90']} ms, "
              f"engine CPU {row['cpu_percent']} % (its recognition workers are other processes), "
              f"peak {row['peak_active_calls']} calls up at once, "
              f"recognition peak {row['recognition_busy_peak']}/{row['recognition_workers']} "
              f"busy, {row['recognition_waiting_peak']} waiting",
              flush=True)
    client.close()
    return rows
