"""``make run`` (scripts/run.sh) under the README's load-test command, stopped with Ctrl-C
while its calls are live: the command works as written, every call's record reaches the
database, and the terminal says what the stop waits for (and, on the way up, what
the stack uses and how to reach it).

The script runs from a scratch copy of the repository's layout (symlinks; its own ``var/``),
on free ports and the tests' Redis database; SIGINT goes to its whole process group, as a
terminal's Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.conftest import SHARED_REDIS

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("scripts", ".venv", "tests", "setup.cfg", "pyproject.toml", "callengine", "api", "jobs", "nginx")
HAS_NGINX = shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()
SPA_PAGE = "<!doctype html><title>ProSaaS</title>\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _live_calls(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
            return int(json.loads(resp.read())["active_calls"])
    except (OSError, ValueError, KeyError):
        return -1


def readme_load_test_command() -> list[str]:
    """The command of the README's "Load-test your local stack" section, as written."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Load-test your local stack") :]
    start = section.index("```sh\n") + len("```sh\n")
    block = section[start : section.index("```", start)]
    [command] = [line for line in block.splitlines() if line.strip()]
    return command.split()


def test_the_readme_load_test_fits_the_demo_business_limit() -> None:
    # Every call of the README's load test must be answered: the demo business's limit is what
    # the test places at once, and the admission counts calls whose stream has not started yet.
    from api.seed import DEMO_MAX_CALLS

    command = readme_load_test_command()
    assert int(command[command.index("--calls") + 1]) == DEMO_MAX_CALLS


def _wait_for(cond: object, timeout: float, what: str, output: list[str], log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            harness = log.read_text() if log is not None and log.exists() else ""
            raise AssertionError(f"timed out waiting for {what}:\n" + "".join(output[-60:]) + harness)
        time.sleep(0.2)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "rq").exists(), reason="needs scripts/setup.sh's .venv")
def test_readme_load_test_then_ctrl_c_stores_every_record(tmp_path: Path) -> None:
    redis.Redis.from_url(SHARED_REDIS).flushdb()
    root = tmp_path / "repo"
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(ROOT / name)
    (root / "frontend" / "dist" / "assets").mkdir(parents=True)  # a built SPA: make run serves it
    (root / "frontend" / "dist" / "index.html").write_text(SPA_PAGE)
    api_port, calls_port, web_port = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PUBLIC_BASE_URL", "SERVER_NAME")}
    env.update(REDIS_URL=SHARED_REDIS, API_PORT=str(api_port), CALLS_PORT=str(calls_port), RUN_DEMO="0",
               WEB_PORT=str(web_port))  # fmt: skip
    # The subject is the stop sequence, not load shedding (tests/api/test_shedding.py): on a CI
    # machine busy with other tests, ten webhooks in 100 ms could wait past the default 25 ms and
    # be shed (seen once: 2 of 10 refused), so the burst may wait up to a second here.
    env["API_MAX_WAIT_MS"] = "1000"
    run = subprocess.Popen(
        ["bash", str(root / "scripts" / "run.sh")], cwd=root, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(run.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    load = None
    try:
        _wait_for(lambda: any("Ctrl-C stops" in line for line in output), 180, "the stack", output)
        if HAS_NGINX:  # the SPA on WEB_PORT, the API behind the same origin
            for path in ("/", "/calls/123"):
                with urllib.request.urlopen(f"http://127.0.0.1:{web_port}{path}", timeout=5) as resp:
                    assert resp.read().decode() == SPA_PAGE
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/readyz", timeout=5) as resp:
                assert json.loads(resp.read())["status"] == "ready"
        client = redis.Redis.from_url(SHARED_REDIS, decode_responses=True)
        # the API admits calls once the calls service has published its capacity
        _wait_for(lambda: client.get("calls:capacity") not in (None, "0"), 30, "calls:capacity", output)
        results = tmp_path / "load.json"
        command = readme_load_test_command()  # 10 calls of 20 s
        load_log = tmp_path / "load.log"
        with load_log.open("w") as log:
            load = subprocess.Popen(
                [*command, "--quiet", "--json", str(results)],
                cwd=root, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_for(
            lambda: _live_calls(calls_port) == 10 or load.poll() is not None, 30, "10 live calls", output, load_log
        )
        assert load.poll() is None, load_log.read_text()  # the harness ended before its calls were live
        time.sleep(2.0)
        os.killpg(run.pid, signal.SIGINT)  # the terminal's Ctrl-C: the whole foreground group
        assert run.wait(timeout=120) == 0
        load_status = load.wait(timeout=30)
    finally:
        if run.poll() is None:  # a failed step: stop the stack in order, as Ctrl-C does
            os.killpg(run.pid, signal.SIGINT)
            try:
                run.wait(timeout=90)
            except subprocess.TimeoutExpired:
                pass
        for proc in (load, run):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        reader.join(timeout=5)
        run.stdout.close()  # type: ignore[union-attr]
    sids = [call["call_sid"] for call in json.loads(results.read_text())["per_call"]]
    with sqlite3.connect(root / "var" / "prosaas.db") as db:
        rows = db.execute("SELECT call_sid FROM call WHERE finalized_at IS NOT NULL").fetchall()
    text = "".join(output)
    assert len(sids) == 10 and sorted(sids) == sorted(sid for (sid,) in rows), text
    assert load_status == 0  # every call drained: none was refused or cut short
    # what setup and make run say before the stack is up: what they use, where, how to log in
    assert "setup: checking the Debian packages" in text and "/.venv is up to date" in text
    assert f"run: Redis: {SHARED_REDIS} (from REDIS_URL)" in text
    assert f"run: database: sqlite:///var/prosaas.db (the file {root}/var/prosaas.db)" in text
    assert f"API:      http://127.0.0.1:{api_port}   docs: http://127.0.0.1:{api_port}/api/" in text
    assert f"calls:    ws://127.0.0.1:{calls_port}/ws/twilio" in text
    assert f"log in:   owner@demo.prosaas.local, password: SEED_OWNER_PASSWORD in {root}/var/dev-secrets" in text
    stop = text[text.index("stop: the calls service drains") :]
    assert "10 live call(s) go on" in stop
    if HAS_NGINX:
        assert f"app:      http://localhost:{web_port}" in text
        stopping = "stop: stopping nginx, the API, the scheduler and the worker"
    else:
        assert "run: frontend/dist is built but nginx is missing" in text
        stopping = "stop: stopping the API, the scheduler and the worker"
    assert stop.index("stop: the calls service stopped") < stop.index(stopping)
    assert "stop: done" in stop
