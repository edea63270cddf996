"""``python -m bench`` (``make bench``): run the benchmarks, print and save the results.

Writes ``bench/results/<UTC time>/`` with ``results.json``, ``summary.md`` and ``sweep.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import reply_latency, suites
from bench.plot import draw
from bench.procs import ROOT, private_redis

SUITES = ("capacity", "cost", "reject", "leak", "peer", "receptionist", "replies")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="Reads no environment variables: it starts its own redis-server on a free port in a "
        "temporary directory and gives each service it measures its own settings.",
    )
    p.add_argument("--suites", default=",".join(SUITES), help="comma list of " + ", ".join(SUITES))
    p.add_argument("--levels", default="50,100,150,200,250,300,350", help="capacity levels (calls)")
    p.add_argument("--duration", type=float, default=60.0, help="capacity call length, s")
    p.add_argument("--cost-levels", default="50,100", help="cost-vs-floor levels (calls)")
    p.add_argument("--cost-duration", type=float, default=30.0)
    p.add_argument("--cost-repeats", type=int, default=3)
    p.add_argument("--receptionist-levels", default="16,32,64,128,192",
                   help="concurrent recorded callers against the receptionist brain")
    p.add_argument("--replies-calls", default="16,64",
                   help="reply time: smooth callers, burst callers (in groups of 8)")
    p.add_argument("--peer-levels", default="5,10,20,40")
    p.add_argument("--peer-duration", type=float, default=30.0)
    p.add_argument("--peer-vad", action="store_true", help="run the peer with Silero VAD")
    p.add_argument("--leak-calls", type=int, default=1000)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def summary(results: dict[str, Any]) -> str:
    lines = ["# Benchmark results", "", f"Machine: {results['machine']}", ""]
    if rows := results.get("capacity"):
        lines += [
            "| calls | pass | failed | underruns | pacing p99 ms | inbound lag p99 ms | harness lateness p99 ms | barge-in p99 ms | CPU µs/call-s | RSS KB/call |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['calls']} | {'yes' if r['pass'] else 'no'} | {r['failed']} | {r['underruns']} | "
                f"{r['pacing_p99_ms']} | {r['inbound_lag_p99_ms']} | {r['harness_lateness_p99_ms']} | "
                f"{r['barge_in_p99_ms']} | {r['cpu_us_per_call_s']} | {r['rss_per_call_kb']} |"
            )
        passing = [r["calls"] for r in rows if r["pass"]]
        lines += ["", f"Capacity (largest passing level): {max(passing) if passing else 'none'}", ""]
    if co := results.get("cost"):
        lines += ["| calls | floor receive µs/call-s | floor echo µs/call-s | engine µs/call-s | engine / receive | engine / echo | engine RSS KB/call |",
                  "|---|---|---|---|---|---|---|"]
        for r in co["levels"]:
            m = r["median_us_per_call_s"]
            lines.append(f"| {r['calls']} | {m['receive']} | {m['echo']} | {m['engine']} | "
                         f"{r['engine_over_receive']} | {r['engine_over_echo']} | {r['engine_rss_per_call_kb']} |")
        lines += ["", f"(medians of {co['repeats']} interleaved rounds of {co['duration']:g} s calls)", ""]
    if rows := results.get("receptionist"):
        lines += ["| calls | peak up at once | finished | failed | underruns | pacing p99 ms | harness lateness p99 ms | callback number right | brain p50 / p90 ms | engine CPU % | recognition peak busy / workers, waiting |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['calls']} | {r.get('peak_active_calls')} | {r['finished']} | {r['failed']} | {r['underruns']} | {r['pacing_p99_ms']} | "
                         f"{r['harness_lateness_p99_ms']} | {r['callback_number_right']}/{r['records']} | "
                         f"{r['brain_ms_p50']} / {r['brain_ms_p90']} | {r['cpu_percent']} | "
                         f"{r.get('recognition_busy_peak')} / {r.get('recognition_workers')}, "
                         f"{r.get('recognition_waiting_peak')} |")
        lines.append("")
    if rep := results.get("replies"):
        lines += ["| callers | in step | turns | reply p50 / p90 / p99 ms | first audio p50 / p90 / p99 ms | ended early | fillers | cut-offs |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, r in rep.items():
            a, f = r["reply_ms"], r["first_audio_ms"]
            lines.append(f"| {name} {r['calls']} | {r.get('in_step')} | {r['turns']} | {a['p50']} / {a['p90']} / {a['p99']} | "
                         f"{f['p50']} / {f['p90']} / {f['p99']} | {r['ended_early']} | {r['fillers']} | {r['cutoffs']} |")
        lines.append("")
    if rej := results.get("reject"):
        lines += [f"Reject when full ({rej['active_calls']} live calls, {rej['attempts']} attempts): "
                  f"p50 {rej['p50_ms']} ms, p99 {rej['p99_ms']} ms, max {rej['max_ms']} ms", ""]
    if lk := results.get("leak"):
        lines += [f"Leak: {lk['completed']}/{lk['calls']} calls, RSS {lk['rss_before_kb']} → "
                  f"{lk['rss_after_kb']} KB (growth {lk['growth_kb']} KB)", ""]
    if pr := results.get("peer"):
        lines += ["| calls | Pipecat CPU µs/call-s | ours CPU µs/call-s | ratio | Pipecat underruns/min | ours underruns/min | Pipecat RSS KB/call | ours RSS KB/call |",
                  "|---|---|---|---|---|---|---|---|"]
        for theirs, ours in zip(pr["pipecat"], pr["ours"], strict=True):
            ratio = (theirs["cpu_us_per_call_s"] / ours["cpu_us_per_call_s"]
                     if theirs["cpu_us_per_call_s"] and ours["cpu_us_per_call_s"] else None)
            lines.append(
                f"| {theirs['calls']} | {theirs['cpu_us_per_call_s']} | {ours['cpu_us_per_call_s']} | "
                f"{ratio and round(ratio, 1)} | {theirs['underruns_per_min']} | {ours['underruns_per_min']} | "
                f"{theirs['rss_per_call_kb']} | {ours['rss_per_call_kb']} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    chosen = [s for s in args.suites.split(",") if s]
    unknown = set(chosen) - set(SUITES)
    if unknown:
        print(f"bench: unknown suites {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    out = args.out or ROOT / "bench" / "results" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as redis_url:
        work = Path(tmp)
        if "capacity" in chosen:
            print(f"capacity sweep: {args.levels} calls × {args.duration:g} s", flush=True)
            levels = [int(x) for x in args.levels.split(",")]
            results["capacity"] = suites.capacity(redis_url, work, levels, args.duration)
        if "reject" in chosen:
            print("reject when full", flush=True)
            results["reject"] = suites.reject_when_full(redis_url, work)
        if "leak" in chosen:
            print(f"leak: {args.leak_calls} short calls", flush=True)
            results["leak"] = suites.leak(redis_url, work, args.leak_calls)
        if "cost" in chosen:
            print(f"cost: engine vs the bare trio-websocket floor at {args.cost_levels}", flush=True)
            levels = [int(x) for x in args.cost_levels.split(",")]
            results["cost"] = suites.cost(redis_url, work, levels, args.cost_duration, args.cost_repeats)
        if "receptionist" in chosen:
            print(f"receptionist: recorded callers at {args.receptionist_levels}", flush=True)
            levels = [int(x) for x in args.receptionist_levels.split(",")]
            results["receptionist"] = suites.receptionist(redis_url, work, levels)
        if "replies" in chosen:
            smooth, burst = (int(x) for x in args.replies_calls.split(","))
            results["replies"] = reply_latency.run(redis_url, work, smooth_calls=smooth, burst_calls=burst,
                                                   group=8, group_spacing=3.0, env={})
        if "peer" in chosen:
            print(f"peer: Pipecat echo bot vs us at {args.peer_levels}", flush=True)
            levels = [int(x) for x in args.peer_levels.split(",")]
            results["peer"] = suites.peer(redis_url, work, levels, args.peer_duration, vad=args.peer_vad)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    text = summary(results)
    (out / "summary.md").write_text(text)
    picture = draw(results, out / "sweep.png")
    print()
    print(text)
    print(f"saved in {out}" + (f" (picture {picture.name})" if picture else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
