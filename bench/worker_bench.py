"""Worker benchmark: one worker's throughput, ours against a plain ``rq worker``, and the latency
from ``finalize_call`` enqueued to the call listed by ``GET /api/calls``.

    python -m bench.worker_bench [--trivial 400] [--thumbnails 60] [--rounds 3]
                                 [--calls-per-minute 50] [--calls-seconds 60] [--quick] [--json PATH]

Throughput, in the same run and on the same jobs: ``python -m jobs.worker --burst`` (as
deployed, and with ``WORKER_PRELOAD=0``: the dead-letter and retry layer alone, without the
preloaded job modules that every fork copies) against ``rq worker --burst --serializer json``
(same queues, same Redis, one process each, pinned to CPU 0), on (a) trivial jobs and (b) thumbnail jobs (``bench/worker_jobs.py``: the uploads' own image code, ``jobs.thumbnails``, a 320 px thumbnail of a generated
1.6 MP JPEG, written next to it). Each job is enqueued like ``jobs/enqueue.py`` does (JSON
serializer, timeout, ``Retry`` with intervals). Jobs/s = jobs / (last job's end − first job's
start, from RQ's own timestamps), so process start-up and exit are not counted; also the CPU the
worker and its horses used per job (from ``/proc``), steadier than wall time on a busy machine.
Rounds alternate which worker goes first, and the medians are compared: ours / plain is the
figure (our dead-letter and retry layer should cost under 10 %).

Latency: a seeded ``python -m api`` and ``python -m jobs.worker`` on one SQLite file; call
records enqueued with ``jobs.enqueue.enqueue_finalize_call`` at ``--calls-per-minute`` for
``--calls-seconds``; each call timed from its enqueue to the first ``GET /api/calls`` (polled
every 20 ms by the owner) that lists it: p50 / p99 / max.

``--quick`` makes every part tiny (a smoke test that it runs and prints its figures).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry
from rq.serializers import JSONSerializer

from bench.procs import (
    ENGINE_CPU,
    ROOT,
    free_port,
    private_redis,
    start_seeded_api,
    taskset,
    wait_http,
    watch_list,
)

__all__ = ["main", "make_jpeg"]

QUEUES = ("high", "default", "low", "broadcasts")
IMAGE_SIZE = (1600, 1000)  # 1.6 megapixels
OWNER_PASSWORD = "bench owner password"  # noqa: S105 - a throw-away seeded database
POLL_SECONDS = 0.02


# -- the input image -------------------------------------------------------------------------


def make_jpeg(path: Path) -> int:
    """A photo-like JPEG (gradient plus noise, so it neither compresses away nor decodes for free)."""
    from PIL import Image

    width, height = IMAGE_SIZE
    gradient = Image.linear_gradient("L").resize(IMAGE_SIZE)
    noise = Image.effect_noise(IMAGE_SIZE, 40)
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    image.save(path, "JPEG", quality=90)
    return path.stat().st_size


# -- throughput -----------------------------------------------------------------------------------


def _enqueue(client: redis.Redis, kind: str, count: int, work: Path, image: Path) -> list[str]:
    queue = Queue("default", connection=client, serializer=JSONSerializer)
    ids = []
    for i in range(count):
        args: tuple[Any, ...] = (i,) if kind == "trivial" else (str(image), str(work / f"thumb-{i}.jpg"))
        job = queue.enqueue(
            f"bench.worker_jobs.{kind}", *args, job_id=f"{kind}-{i}", job_timeout=60,
            retry=Retry(max=3, interval=[10, 60, 300]), result_ttl=600, description=f"{kind} {i}",
        )
        ids.append(job.id)
    return ids


def _command(which: str, redis_url: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "RQ_QUEUES": ",".join(QUEUES)}
    if which in ("ours", "bare"):  # bare: ours without the preload (WORKER_PRELOAD=0)
        env["WORKER_PRELOAD"] = "0" if which == "bare" else "1"
        return [*taskset(ENGINE_CPU), sys.executable, "-m", "jobs.worker", "--burst"], env
    rq = str(Path(sys.executable).with_name("rq"))
    return [*taskset(ENGINE_CPU), rq, "worker", "--burst", "--serializer", "json", "--url", redis_url,
            "--logging_level", "WARNING", *QUEUES], env


def _stamp(raw: bytes | None) -> float:
    if raw is None:
        raise RuntimeError("a job has no timestamp: it did not finish")
    return datetime.strptime(raw.decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def _cpu_seconds(pid: int) -> float:
    """CPU the worker and its reaped horses used so far (utime + stime + cutime + cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def run_once(which: str, kind: str, count: int, redis_url: str, work: Path, image: Path) -> dict[str, Any]:
    """One worker process drains ``count`` jobs; returns its jobs/s."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    ids = _enqueue(client, kind, count, work, image)
    command, env = _command(which, redis_url)
    log = work / f"{which}-{kind}.log"
    began = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        # Done when every job finished (a plain burst worker may idle up to a minute before exiting).
        deadline = time.monotonic() + 600
        first: tuple[int, float] | None = None  # (jobs finished, CPU used) when the first job is done
        while (finished := client.zcard("rq:finished:default")) < count:
            if first is None and finished:
                first = (finished, _cpu_seconds(proc.pid))
            if proc.poll() is not None and client.zcard("rq:finished:default") < count:
                raise RuntimeError(f"{which} worker stopped early; see {log}:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{which} worker too slow; see {log}")
            time.sleep(0.05)
        wall = time.monotonic() - began
        start_jobs, start_cpu = first or (0, 0.0)
        cpu_ms = (_cpu_seconds(proc.pid) - start_cpu) * 1000 / max(1, count - start_jobs)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    with client.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hget(f"rq:job:{job_id}", "started_at")
            pipe.hget(f"rq:job:{job_id}", "ended_at")
        stamps = pipe.execute()
    client.close()
    began_at, ended_at = min(map(_stamp, stamps[0::2])), max(map(_stamp, stamps[1::2]))
    return {"worker": which, "kind": kind, "jobs": count, "seconds": round(ended_at - began_at, 3),
            "jobs_per_s": round(count / (ended_at - began_at), 1), "cpu_ms_per_job": round(cpu_ms, 2),
            "wall_s": round(wall, 2)}


def throughput(redis_url: str, work: Path, image: Path, counts: dict[str, int], rounds: int) -> dict[str, Any]:
    runs = []
    for r in range(rounds):
        for kind, count in counts.items():
            order = ("ours", "bare", "plain") if r % 2 == 0 else ("plain", "bare", "ours")
            for which in order:
                run = run_once(which, kind, count, redis_url, work, image)
                runs.append(run)
                print(f"  round {r + 1} {kind:<9} {which:<5} {run['jobs_per_s']:>7} jobs/s "
                      f"({count} jobs in {run['seconds']} s), {run['cpu_ms_per_job']} ms CPU per job", flush=True)
    summary = {}
    for kind in counts:
        def median(which: str, key: str, kind: str = kind) -> float:
            return round(statistics.median(x[key] for x in runs if x["kind"] == kind and x["worker"] == which), 2)

        ours, plain = median("ours", "jobs_per_s"), median("plain", "jobs_per_s")
        bare = median("bare", "jobs_per_s")
        ours_cpu, plain_cpu = median("ours", "cpu_ms_per_job"), median("plain", "cpu_ms_per_job")
        bare_cpu = median("bare", "cpu_ms_per_job")
        summary[kind] = {"ours_jobs_per_s": ours, "plain_jobs_per_s": plain, "ours_over_plain": round(ours / plain, 3),
                         "bare_jobs_per_s": bare, "bare_over_plain": round(bare / plain, 3),
                         "ours_cpu_ms_per_job": ours_cpu, "plain_cpu_ms_per_job": plain_cpu,
                         "bare_cpu_ms_per_job": bare_cpu,
                         "cpu_ours_over_plain": round(ours_cpu / plain_cpu, 3) if plain_cpu else None,
                         "cpu_bare_over_plain": round(bare_cpu / plain_cpu, 3) if plain_cpu else None}
    return {"runs": runs, "median": summary}


# -- latency: finalize_call enqueued → listed by GET /api/calls ----------------------------------------


def _record(call_sid: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "call_sid": call_sid, "stream_sid": "MZ" + call_sid[2:], "business_id": "1", "direction": "inbound",
        "from": "+14445550001", "to": "+15550100000", "started_at": now.isoformat(timespec="milliseconds"),
        "ended_at": now.isoformat(timespec="milliseconds"), "duration_seconds": 30.0, "end_reason": "stopped",
        "dtmf": [], "transcript": [{"role": "caller", "text": "hello"}], "brain": "echo",
        "brain_summary": {}, "recording_path": None, "metrics": {},
    }


def _login(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps({"email": "owner@demo.prosaas.local", "password": OWNER_PASSWORD})
    try:
        conn.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        raise RuntimeError(f"login refused: {resp.status}")
    return resp.headers["Set-Cookie"].split(";", 1)[0]


def latency(redis_url: str, work: Path, per_minute: float, seconds: float) -> dict[str, Any]:
    from jobs.enqueue import enqueue_finalize_call

    port = free_port()
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'latency.db'}", "REDIS_URL": redis_url,
           "API_HOST": "127.0.0.1", "API_PORT": str(port), "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           "INTERNAL_SECRET": "bench", "SEED_OWNER_PASSWORD": OWNER_PASSWORD, "LOG_LEVEL": "WARNING"}
    api = start_seeded_api(env, work / "api.log", pin=False)
    with (work / "latency-worker.log").open("ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "jobs.worker"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/health", timeout=60)
        cookie = _login(port)
        total = max(1, int(per_minute * seconds / 60))
        with watch_list(port, "/api/calls?per_page=20", cookie, lambda item: item["call_sid"],
                        poll_seconds=POLL_SECONDS) as watch:
            start = time.perf_counter() + 0.5
            for i in range(total):
                delay = start + i * 60 / per_minute - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                call_sid = f"CA{os.getpid():08x}{i:024x}"
                watch.expect(call_sid)
                enqueue_finalize_call(client, _record(call_sid))
            deadline = time.perf_counter() + 30
            while watch.count_seen() < total and time.perf_counter() < deadline:
                time.sleep(0.05)
    finally:
        for proc in (worker, api):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        client.close()
    ms = watch.latencies_ms()
    if not ms:
        raise RuntimeError(f"no call became visible; see {work}/api.log and latency-worker.log")

    def pct(q: float) -> float:
        return round(ms[min(len(ms) - 1, int(q * len(ms)))], 1)

    return {"calls": len(watch.sent), "visible": len(ms), "per_minute": per_minute, "p50_ms": pct(0.50),
            "p99_ms": pct(0.99), "max_ms": round(ms[-1], 1), "poll_ms": POLL_SECONDS * 1000}


# -- entry point ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker_bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Reads no environment variables of its own: it starts a private redis-server on a free port, and "
        "gives the workers and the API it starts REDIS_URL, DATABASE_URL, RQ_QUEUES, LOG_LEVEL, API_PORT and the "
        "seed password itself (the rest of the environment is passed through).",
    )
    parser.add_argument("--trivial", type=int, default=400, help="trivial jobs per run")
    parser.add_argument("--thumbnails", type=int, default=60, help="thumbnail jobs per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each worker per kind (alternating)")
    parser.add_argument("--calls-per-minute", type=float, default=50.0)
    parser.add_argument("--calls-seconds", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.trivial, args.thumbnails, args.rounds, args.calls_seconds = 20, 4, 1, 6.0
    if min(args.trivial, args.thumbnails, args.rounds) < 1 or args.calls_per_minute <= 0 or args.calls_seconds <= 0:
        parser.error("sizes and rates must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="worker-bench-") as tmp, private_redis(Path(tmp)) as redis_url:
        work = Path(tmp)
        image = work / "photo.jpg"
        size = make_jpeg(image)
        print(f"throughput: one worker, {args.rounds} round(s); thumbnails of a {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} "
              f"JPEG ({size // 1024} KB)", flush=True)
        result: dict[str, Any] = {
            "cpus": os.cpu_count(), "image_bytes": size,
            "throughput": throughput(redis_url, work, image, {"trivial": args.trivial, "thumbnail": args.thumbnails},
                                     args.rounds),
        }
        print(f"latency: finalize_call enqueued → GET /api/calls, {args.calls_per_minute:g} calls/min for "
              f"{args.calls_seconds:g} s", flush=True)
        result["latency"] = latency(redis_url, work, args.calls_per_minute, args.calls_seconds)
    print()
    print("| jobs | worker | jobs/s | / plain | CPU ms/job | / plain |")
    print("|---|---|---|---|---|---|")
    for kind, row in result["throughput"]["median"].items():
        print(f"| {kind} | `rq worker` | {row['plain_jobs_per_s']} | 1 | {row['plain_cpu_ms_per_job']} | 1 |")
        print(f"| {kind} | `python -m jobs.worker` | {row['ours_jobs_per_s']} | {row['ours_over_plain']} | "
              f"{row['ours_cpu_ms_per_job']} | {row['cpu_ours_over_plain']} |")
        print(f"| {kind} | same, `WORKER_PRELOAD=0` | {row['bare_jobs_per_s']} | {row['bare_over_plain']} | "
              f"{row['bare_cpu_ms_per_job']} | {row['cpu_bare_over_plain']} |")
    lat = result["latency"]
    print(f"\nfinalize_call → GET /api/calls at {lat['per_minute']:g} calls/min ({lat['visible']}/{lat['calls']} "
          f"calls): p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms "
          f"(polled every {lat['poll_ms']:g} ms)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
