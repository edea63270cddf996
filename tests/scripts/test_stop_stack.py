"""scripts/stop_stack.py's order: the calls service drains, the worker stores what the drain
queued, then the API and the worker stop — each step announced.

Stand-ins: a "calls service" that queues a job on queue ``high`` when it gets SIGTERM and exits
a moment later, ``sleep`` processes for the worker and the API, and a thread that plays the
worker by emptying the queue two seconds after the job appears.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest
import redis
from rq import Queue

from tests.conftest import SHARED_REDIS

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
DRAINING_SERVICE = """
import signal, sys, time
from redis import Redis
from rq import Queue
def drain(*_):
    Queue("high", connection=Redis.from_url(sys.argv[1])).enqueue("os.getpid")
    time.sleep(0.5)
    sys.exit(0)
signal.signal(signal.SIGTERM, drain)
print("up", flush=True)
while True:
    time.sleep(1)
"""


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stop_stack", ROOT / "scripts" / "stop_stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_worker_stops_only_after_it_stored_what_the_drain_queued() -> None:
    client = redis.Redis.from_url(SHARED_REDIS)
    client.flushdb()
    queue = Queue("high", connection=client)
    calls = subprocess.Popen([sys.executable, "-c", DRAINING_SERVICE, SHARED_REDIS], stdout=subprocess.PIPE, text=True)
    assert calls.stdout is not None and calls.stdout.readline() == "up\n"
    worker = subprocess.Popen(["sleep", "60"])
    api = subprocess.Popen(["sleep", "60"])
    emptied: list[float] = []

    def play_worker() -> None:
        deadline = time.monotonic() + 20
        while queue.count == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(2.0)
        assert worker.poll() is None  # not stopped while a record was still queued
        queue.empty()
        emptied.append(time.monotonic())

    thread = threading.Thread(target=play_worker)
    thread.start()
    lines: list[str] = []
    try:
        left = _load().stop_stack(
            redis_url=SHARED_REDIS, calls_pid=calls.pid, health_url="http://127.0.0.1:9/health",
            worker_pid=worker.pid, others=[api.pid], say=lines.append,
        )  # fmt: skip
        calls.wait(timeout=5)  # reap the stand-ins (stop_stack polls, it is not their parent)
        worker.wait(timeout=5)
        api.wait(timeout=5)
    finally:
        thread.join()
        for proc in (calls, worker, api):
            if proc.poll() is None:
                proc.kill()
        calls.stdout.close()
    assert left == 0 and emptied
    steps = [line for line in lines if line.startswith("stop:")]
    assert steps == [
        "stop: the calls service drains (no live call); Ctrl-C again ends them now",
        "stop: the calls service stopped",
        "stop: the worker stores the queued call records (1 queued, 0 running) …",
        "stop: the worker stored every call record",
        "stop: stopping the API and the worker",
        "stop: done",
    ]


def test_records_left_after_the_timeout_are_reported() -> None:
    client = redis.Redis.from_url(SHARED_REDIS)
    client.flushdb()
    Queue("high", connection=client).enqueue("os.getpid")
    worker = subprocess.Popen(["sleep", "60"])
    lines: list[str] = []
    try:
        left = _load().stop_stack(
            redis_url=SHARED_REDIS, calls_pid=None, health_url="http://127.0.0.1:9/health",
            worker_pid=worker.pid, others=[], worker_timeout=0.5, say=lines.append,
        )  # fmt: skip
        worker.wait(timeout=5)
    finally:
        if worker.poll() is None:
            worker.kill()
        client.flushdb()
    assert left == 1
    assert "stop: 1 job(s) left on queue high; the worker runs them at the next start" in lines


STUBBORN_WORKER = """
import signal, sys, time
seen = []
def on_term(*_):
    seen.append(1)
    if len(seen) > 1:
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("up", flush=True)
while True:
    time.sleep(0.1)
"""


def test_a_worker_that_hangs_on_warm_shutdown_gets_a_second_sigterm() -> None:
    worker = subprocess.Popen([sys.executable, "-c", STUBBORN_WORKER], stdout=subprocess.PIPE, text=True)
    assert worker.stdout is not None and worker.stdout.readline() == "up\n"
    lines: list[str] = []
    try:
        _load().stop_stack(
            redis_url=SHARED_REDIS, calls_pid=None, health_url="http://127.0.0.1:9/health",
            worker_pid=worker.pid, others=[], say=lines.append,
        )  # fmt: skip
        assert worker.wait(timeout=5) == 0  # it exited on the second SIGTERM, not SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stdout.close()
    assert "stop: the worker still running after 5 s; signalling again" in lines
    assert lines[-1] == "stop: done"


def test_the_real_worker_stores_the_queued_record_and_stops_on_the_first_sigterm(tmp_path: Path) -> None:
    """``python -m jobs.worker`` (what ``make run`` starts): the queued job runs, then one SIGTERM
    (warm shutdown) is enough — no second signal, no kill."""
    from rq.serializers import JSONSerializer

    from tests.jobs.workerproc import start_worker, wait_until

    client = redis.Redis.from_url(SHARED_REDIS)
    client.flushdb()
    log = tmp_path / "worker.log"
    worker = start_worker(SHARED_REDIS, log)
    lines: list[str] = []
    try:
        wait_until(lambda: client.scard("rq:workers") == 1, 20, "the worker to start", log)
        job = Queue("high", connection=client, serializer=JSONSerializer).enqueue(
            "tests.jobs.worker_jobs.sleep_then_touch", str(tmp_path / "stored"), 1.0)
        _load().stop_stack(
            redis_url=SHARED_REDIS, calls_pid=None, health_url="http://127.0.0.1:9/health",
            worker_pid=worker.pid, others=[], say=lines.append,
        )  # fmt: skip
        assert worker.wait(timeout=5) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
        client.flushdb()
    assert (tmp_path / "stored").exists() and job.get_status(refresh=False) is not None
    assert not [line for line in lines if "signalling again" in line or "killing" in line], lines
    assert "stop: stopping the worker" in lines and lines[-1] == "stop: done"


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(), reason="needs nginx")
def test_nginx_stops_with_the_api_after_the_calls_service(tmp_path: Path) -> None:
    """make run's web front (a real nginx master): stopped on the first signal, named in the line."""
    from tests.conftest import free_port, wait_for_port
    from tests.nginx.conftest import NGINX, nginx_conf

    port = free_port()
    conf = nginx_conf.prepare(tmp_path / "etc", gateway=False, frontend=True,
                              env={"FRONTEND_LISTEN": f"127.0.0.1:{port}", "SPA_ROOT": str(tmp_path)})  # fmt: skip
    nginx = subprocess.Popen([NGINX, "-p", str(conf.parent), "-c", str(conf), "-g", "daemon off;"])
    api = subprocess.Popen(["sleep", "60"])
    lines: list[str] = []
    try:
        assert wait_for_port(port, nginx)
        _load().stop_stack(
            redis_url=SHARED_REDIS, calls_pid=None, health_url="http://127.0.0.1:9/health",
            worker_pid=None, others=[api.pid], nginx_pid=nginx.pid, say=lines.append,
        )  # fmt: skip
        assert nginx.wait(timeout=5) == 0
        api.wait(timeout=5)
    finally:
        for proc in (nginx, api):
            if proc.poll() is None:
                proc.kill()
    assert lines == ["stop: stopping nginx and the API", "stop: done"]
