"""Start and stop the processes a benchmark needs: a private Redis, the engine, the peer.

The engine is pinned to CPU 0 and the harness to CPU 1 (docs/ARCHITECTURE.md §13: on 2 cores the
load generator must not compete with the server under test).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_CPU = "0"
HARNESS_CPU = "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError as exc:
            if getattr(exc, "code", None) == 503:  # draining still means "up"
                return
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


@contextmanager
def health_peaks(port: int, interval: float = 0.1) -> Iterator[dict[str, int]]:
    """Poll the engine's ``/health`` while the block runs; the dict fills with the peak of
    ``active_calls`` and of each number in ``brains.load`` (e.g. ``receptionist.waiting``:
    turns queued for a recognition worker)."""
    peaks: dict[str, int] = {}
    stop = threading.Event()

    def keep(name: str, value: object) -> None:
        if isinstance(value, int):
            peaks[name] = max(peaks.get(name, 0), value)

    def poll() -> None:
        while not stop.wait(interval):
            try:
                health = get_json(f"http://127.0.0.1:{port}/health")
            except OSError:
                continue
            keep("active_calls", health.get("active_calls"))
            for brain, numbers in ((health.get("brains") or {}).get("load") or {}).items():
                for key, value in numbers.items():
                    keep(f"{brain}.{key}", value)

    thread = threading.Thread(target=poll, name="health-peaks", daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def start_seeded_api(env: dict[str, str], log_path: Path, *, pin: bool) -> subprocess.Popen[bytes]:
    """Migrate and seed the database of ``env``, then start ``python -m api`` with it (on CPU 0,
    this process moved to CPU 1, when ``pin`` and taskset is there); its output goes to
    ``log_path``. The caller waits for it and stops it."""
    for module in ("api.migrate", "api.seed"):
        subprocess.run([sys.executable, "-m", module], env=env, cwd=ROOT, check=True, capture_output=True)
    command = [sys.executable, "-m", "api"]
    if pin and shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
        os.sched_setaffinity(0, {1})
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def taskset(cpu: str) -> list[str]:
    return ["taskset", "-c", cpu] if shutil.which("taskset") else []


@contextmanager
def private_redis(workdir: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench: redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def engine(redis_url: str, workdir: Path, **env: str) -> Iterator[tuple[int, int]]:
    """Run ``python -m callengine`` on a free port; yields (pid, port)."""
    port = free_port()
    full_env = {
        **os.environ,
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(port),
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "CALLS_SPOOL_DIR": str(workdir / "spool"),
        "MAX_CONCURRENT_CALLS": "1000",
        "CALLS_BRAIN": "echo",  # the benchmarks' brain (suites pass CALLS_BRAIN to override)
        **env,
    }
    log = open(workdir / f"engine-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*taskset(ENGINE_CPU), sys.executable, "-m", "callengine"],
        env=full_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        yield proc.pid, port
    finally:
        _stop(proc, timeout=30)
        log.close()


@contextmanager
def pipecat_peer(workdir: Path, *, vad: bool = False) -> Iterator[tuple[int, int]]:
    """Run the Pipecat echo bot (bench/peers) in its own venv; yields (pid, port)."""
    python = ROOT / "bench" / ".venv-pipecat" / "bin" / "python"
    if not python.exists():
        subprocess.run(["bash", str(ROOT / "bench" / "peers" / "setup_pipecat.sh")], check=True)
    port = free_port()
    log = open(workdir / f"pipecat-{port}.log", "wb")  # noqa: SIM115 - closed below
    cmd = [*taskset(ENGINE_CPU), str(python), str(ROOT / "bench" / "peers" / "pipecat_echo.py"),
           "--port", str(port)]
    if vad:
        cmd.append("--vad")
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "ORT_DISABLE_TELEMETRY": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=60)
        yield proc.pid, port
    finally:
        _stop(proc, timeout=15)
        log.close()


@contextmanager
def floor_peer(workdir: Path, *, mode: str = "echo") -> Iterator[tuple[int, int]]:
    """Run the bare trio-websocket floor (bench/peers/floor_ws.py); yields (pid, port)."""
    port, health_port = free_port(), free_port()
    log = open(workdir / f"floor-{port}.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*taskset(ENGINE_CPU), sys.executable, str(ROOT / "bench" / "peers" / "floor_ws.py"),
         "--port", str(port), "--health-port", str(health_port), "--mode", mode],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{health_port}/health")
        yield proc.pid, port
    finally:
        _stop(proc, timeout=15)
        log.close()


def _stop(proc: subprocess.Popen[bytes], *, timeout: float) -> None:
    """SIGTERM (the engine drains), then SIGKILL if it takes longer than ``timeout``."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_harness(url: str, out: Path, *, server_pid: int, calls: int, duration: float,
                extra: list[str] | None = None) -> dict:
    """Run ``python -m callengine.loadtest`` pinned to the harness CPU; returns its JSON."""
    cmd = [
        sys.executable, "-m", "callengine.loadtest", "--url", url, "--calls", str(calls),
        "--duration", str(duration), "--server-pid", str(server_pid), "--json", str(out),
        "--quiet", "--pin-cpu", HARNESS_CPU, "--ramp", "0.02", *(extra or []),
    ]
    subprocess.run(cmd, cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


class FirstSeen:
    """When each expected item was handed in (``expect``) and when it first showed up in an API
    list (filled by ``watch_list``'s poller); ``latencies_ms`` pairs them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}

    def expect(self, key: str) -> None:
        with self.lock:
            self.sent[key] = time.perf_counter()

    def count_seen(self) -> int:
        with self.lock:
            return len(self.seen)

    def latencies_ms(self) -> list[float]:
        with self.lock:
            return sorted((self.seen[k] - self.sent[k]) * 1000 for k in self.seen)


@contextmanager
def watch_list(port: int, path: str, cookie: str, key_of: Callable[[dict], str], *,
               poll_seconds: float) -> Iterator[FirstSeen]:
    """Poll ``GET path`` (a JSON ``{"items": [...]}``) on one keep-alive connection in a thread,
    every ``poll_seconds``, noting the first time each expected item's key is listed."""
    watch = FirstSeen()
    done = threading.Event()

    def poll() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while not done.is_set():
                conn.request("GET", path, headers={"Cookie": cookie})
                resp = conn.getresponse()
                body = resp.read()
                at = time.perf_counter()
                if resp.status == 200:
                    with watch.lock:
                        for item in json.loads(body)["items"]:
                            key = key_of(item)
                            if key in watch.sent and key not in watch.seen:
                                watch.seen[key] = at
                time.sleep(poll_seconds)
        finally:
            conn.close()

    poller = threading.Thread(target=poll, name=f"poll {path}", daemon=True)
    poller.start()
    try:
        yield watch
    finally:
        done.set()
        poller.join(timeout=15)
