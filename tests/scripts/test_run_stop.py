"""``make run`` (scripts/run.sh → scripts/localstack.py run: the Procfile under honcho), then
``make demo-call``, then the README's load test stopped with Ctrl-C while its calls are live:
the stack comes up and says where and how to log in, the API serves the SPA, the demo call is
listed by ``GET /api/calls``, every call's record reaches the database, and Ctrl-C stops every
process in order, exit 0, nothing left queued.

The script runs from a scratch copy of the repository's layout (symlinks; its own ``var/`` and
a stand-in ``frontend/dist``), on free ports with its own private Redis; SIGINT goes to its
whole process group, as a terminal's Ctrl-C does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.localstack import free_port

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("scripts", ".venv", "tests", "setup.cfg", "pyproject.toml", "README.md", "Procfile", "contracts",
          "callengine", "api", "jobs", "baileys")  # fmt: skip
SPA_PAGE = "<!doctype html><title>ProSaaS</title>\n"
PORTS = ("API_PORT", "CALLS_PORT", "BAILEYS_PORT", "LOCAL_REDIS_PORT")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _live_calls(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
            return int(json.loads(resp.read())["active_calls"])
    except (OSError, ValueError, KeyError):
        return -1


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.read().decode(), resp.headers.get("Cache-Control", "")


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
            raise AssertionError(f"timed out waiting for {what}:\n" + "".join(output[-80:]) + harness)
        time.sleep(0.2)


def _gateway_installed() -> bool:
    """baileys/node_modules installed for the current lockfile (scripts/npm-ci-if-changed.sh's
    stamp): then make run starts the gateway without installing anything."""
    stamp = ROOT / "baileys" / "node_modules" / ".prosaas-lock.sha256"
    lock = hashlib.sha256((ROOT / "baileys" / "package-lock.json").read_bytes()).hexdigest()
    return stamp.exists() and stamp.read_text().strip() == lock


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "rq").exists(), reason="needs scripts/setup.sh's .venv")
def test_make_run_demo_call_then_ctrl_c_stores_every_record(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(ROOT / name)
    (root / "frontend" / "dist" / "assets").mkdir(parents=True)  # a built SPA: the API serves it
    (root / "frontend" / "dist" / "index.html").write_text(SPA_PAGE)
    ports = {name: free_port() for name in PORTS}
    whatsapp = _gateway_installed()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL")}
    env.update({name: str(port) for name, port in ports.items()})
    env.update(FRONTEND_BUILD="0", RUN_WHATSAPP="1" if whatsapp else "0")
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
    api, calls_port = f"http://127.0.0.1:{ports['API_PORT']}", ports["CALLS_PORT"]
    try:
        _wait_for(lambda: any("Ctrl-C stops everything." in line for line in output), 150, "the stack", output)
        # The API serves the SPA: its page for client routes, the API's own paths untouched.
        for path in ("/", "/calls/123"):
            assert _get(api + path) == (200, SPA_PAGE, "no-store")
        status, body, _ = _get(api + "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"

        # make demo-call: a recorded caller, then the call as GET /api/calls lists it
        demo = subprocess.run(
            [str(root / ".venv" / "bin" / "python"), str(root / "scripts" / "localstack.py"), "demo-call"],
            cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "+15551230000 → +15550100000  completed" in demo.stdout, demo.stdout
        assert f"== see it in the app: {api}/calls" in demo.stdout

        results = tmp_path / "load.json"
        load_log = tmp_path / "load.log"
        with load_log.open("w") as log:
            load = subprocess.Popen(
                [*readme_load_test_command(), "--quiet", "--json", str(results)],  # 10 calls of 20 s
                cwd=root, env={k: v for k, v in env.items() if k not in ("API_PORT", "CALLS_PORT")},  # var/local.env's
                start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_for(lambda: _live_calls(calls_port) == 10 or load.poll() is not None, 30, "10 live calls", output, load_log)
        assert load.poll() is None, load_log.read_text()  # the harness ended before its calls were live
        time.sleep(2.0)
        os.killpg(run.pid, signal.SIGINT)  # the terminal's Ctrl-C: the whole foreground group
        assert run.wait(timeout=120) == 0, "".join(output[-80:])
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
    text = "".join(output)
    # every process honcho started is gone, and nothing listens on the stack's ports
    started = dict(re.findall(r"system\s+\| (\w+) started \(pid=(\d+)\)", text))
    expected = {"redis", "calls", "api", "worker", "scheduler"} | ({"whatsapp"} if whatsapp else set())
    assert set(started) == expected, text
    assert [name for name, pid in started.items() if _alive(int(pid))] == []
    assert [name for name, port in ports.items() if _listening(port)] == []
    assert "sending SIGKILL" not in text
    # every call's record reached the database: the demo call's and the ten drained ones
    sids = [call["call_sid"] for call in json.loads(results.read_text())["per_call"]]
    with sqlite3.connect(root / "var" / "prosaas.db") as db:
        rows = {sid for (sid,) in db.execute("SELECT call_sid FROM call WHERE finalized_at IS NOT NULL")}
        demo_rows = db.execute("SELECT count(*) FROM call WHERE from_number = '+15551230000' AND finalized_at IS NOT NULL")
        assert demo_rows.fetchone() == (1,)
    assert len(sids) == 10 and set(sids) <= rows, text
    assert load_status == 0  # every call drained: none was refused or cut short
    # what make run says: what it uses, where, how to log in
    assert "setup: checking the Debian packages" in text and "/.venv is up to date" in text
    assert f"localstack: database: sqlite:///{root}/var/prosaas.db" in text
    assert f"app:      {api}/   (the SPA, served by the API)" in text
    assert f"API:      {api}/api/   docs: {api}/api/docs" in text
    assert f"calls:    ws://127.0.0.1:{calls_port}/ws/twilio" in text
    assert f"log in:   owner@demo.prosaas.local, password: SEED_OWNER_PASSWORD in {root}/var/dev-secrets" in text
    # the stop, in order: the calls drain before the API, the worker and Redis stop
    stop = text[text.index("SIGINT received") :]
    assert "the calls service drains (10 live call(s) go on" in stop
    assert stop.index("stop      | the calls service stopped") < stop.index("stop      | stopping the API, the scheduler and the worker")
    assert stop.index("stopping the API") < stop.index("stopping the private Redis") < stop.index("stop      | done")
    assert "job(s) left on queue" not in stop  # the worker stored every record before it stopped
