"""The web app end to end in a real browser (frontend/e2e/, docs/ARCHITECTURE.md §1): Debian's
Chromium driven by playwright-core against the real stack this test starts.

Processes: a private ``redis-server``, the API (``python -m api`` on a migrated and seeded SQLite
file), the calls service (``python -m callengine``, recording on), an RQ worker
(``python -m jobs.worker``), one WhatsApp gateway shard on its fake driver
(``node baileys/src/server.js``) and a private nginx with the production templates
(scripts/nginx_conf.py, as ``make run`` lays it out) serving the built SPA (``frontend/dist``,
built here when missing or older than its sources) in front of the API and the calls service.

Then ``npm run e2e`` (Vitest, frontend/vitest.e2e.config.ts) runs the specs in frontend/e2e/
with the URLs, the accounts, the command that replays a recorded caller through a signed
webhook, and where to put the screenshots; this test passes when they all pass and prints their
output (with the dashboard's measured live latency) either way.
"""

from __future__ import annotations

import bz2
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import PrivateRedis, free_port
from tests.jobs.workerproc import kill_tree, start_worker

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET = "spa-e2e-internal-secret-0123456789"
TWILIO_TOKEN = "spa-e2e-twilio-auth-token"
OWNER_PASSWORD = "spa-e2e-owner-password-42"
ADMIN_PASSWORD = "spa-e2e-admin-password-42"
OWNER = "owner@demo.prosaas.local"
ADMIN = "admin@prosaas.local"
DEMO_NUMBER = "+15550100000"
CALLER_SESSION = ROOT / "tests" / "fixtures" / "receptionist" / "c01_sales_plain.jsonl.bz2"
SUITE_TIMEOUT = 900

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None, reason="needs Node 20+ and npm"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (scripts/system-packages.sh)"),
    pytest.mark.skipif(not Path(NGINX).exists(), reason="needs nginx (scripts/system-packages.sh)"),
]


def _wait_ok(url: str, timeout: float, what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    state = f"exited with {proc.returncode}" if proc.poll() is not None else f"no answer in {timeout:.0f} s"
    raise AssertionError(f"{what}: {state} ({url})\n--- {log.name}\n{tail}")


@contextmanager
def _service(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            kill_tree(proc)


def _npm_ci(directory: str) -> None:
    subprocess.run(["bash", "scripts/npm-ci-if-changed.sh", directory], cwd=ROOT, check=True)


def _build_spa() -> None:
    """``npm run build`` when frontend/dist is missing or older than a source it is built from."""
    index = FRONTEND / "dist" / "index.html"
    sources = [FRONTEND / name for name in ("index.html", "vite.config.ts", "package-lock.json")]
    sources += [p for p in (FRONTEND / "src").rglob("*") if p.is_file()]
    if index.exists() and index.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return
    build = subprocess.run(["npm", "run", "build"], cwd=FRONTEND, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"npm run build failed\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"


def serve_spa(prefix: Path, api_port: int, calls_port: int) -> tuple[list[str], int]:
    """The built SPA behind the production gateway: nginx's argv and its port (like ``make run``)."""
    web_port, spa_port = free_port(), free_port()
    env = {
        "SERVER_NAME": "localhost 127.0.0.1", "HTTP_PORT": str(web_port),
        "API_UPSTREAM": f"127.0.0.1:{api_port}", "CALLS_UPSTREAM": f"127.0.0.1:{calls_port}",
        "FRONTEND_UPSTREAM": f"127.0.0.1:{spa_port}", "FRONTEND_LISTEN": f"127.0.0.1:{spa_port}",
        "SPA_ROOT": str(FRONTEND / "dist"), "NGINX_RESOLVER": "127.0.0.1",
    }
    rendered = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "nginx_conf.py"), str(prefix), "--gateway", "--frontend"],
        env={**os.environ, **env}, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    return [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"], web_port


def test_spa_end_to_end(tmp_path: Path) -> None:
    for directory in ("frontend", "baileys"):
        _npm_ci(directory)
    _build_spa()

    api_port, calls_port, gw_port = free_port(), free_port(), free_port()
    api, gateway = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{gw_port}"
    db_url = f"sqlite:///{tmp_path / 'spa.db'}"
    screenshots = Path(os.environ.get("SCREENSHOT_DIR") or FRONTEND / "e2e" / "screenshots")
    caller = tmp_path / "caller.jsonl"
    caller.write_bytes(bz2.open(CALLER_SESSION).read())
    redis_server = PrivateRedis(tmp_path)
    redis_server.start()

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RQ_", "WORKER_", "BAILEYS_", "BROADCAST_", "CALLS_", "API_"))}
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_server.url, "API_PORT": str(api_port),
        "CALLS_PORT": str(calls_port), "INTERNAL_SECRET": SECRET, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "SECRET_KEY": "spa-e2e-secret-key-0123456789abcdef", "PUBLIC_BASE_URL": api,
        "SEED_OWNER_PASSWORD": OWNER_PASSWORD, "SEED_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CALLS_RECORD": "true", "RECORDINGS_DIR": str(tmp_path / "recordings"), "LOG_LEVEL": "INFO",
        "BAILEYS_NUM_SHARDS": "1", "BAILEYS_SHARD_1_URL": gateway,
        "BROADCAST_PER_MINUTE": "0", "BROADCAST_DAILY_CAP": "0",
    })
    for module in ("api.migrate", "api.seed"):
        subprocess.run([sys.executable, "-m", module], env=env, cwd=ROOT, check=True, capture_output=True)

    logs = {name: tmp_path / f"{name}.log" for name in ("api", "calls", "worker", "baileys", "nginx")}
    gw_env = {
        "PATH": os.environ.get("PATH", ""), "NODE_ENV": "test", "WA_DRIVER": "fake", "INTERNAL_SECRET": SECRET,
        "BAILEYS_PORT": str(gw_port), "BAILEYS_SHARD_ID": "1", "BAILEYS_NUM_SHARDS": "1",
        "BAILEYS_DATA_DIR": str(tmp_path / "baileys"), "API_URL": api, "LOG_LEVEL": "warn",
    }
    with ExitStack() as stack:
        stack.callback(redis_server.stop)
        gw = stack.enter_context(_service(["node", "baileys/src/server.js"], gw_env, logs["baileys"]))
        calls = stack.enter_context(_service([sys.executable, "-m", "callengine"], env, logs["calls"]))
        api_proc = stack.enter_context(_service([sys.executable, "-m", "api"], env, logs["api"]))
        worker = start_worker(redis_server.url, logs["worker"], **{k: env[k] for k in (
            "DATABASE_URL", "INTERNAL_SECRET", "BAILEYS_NUM_SHARDS", "BAILEYS_SHARD_1_URL", "RECORDINGS_DIR",
            "BROADCAST_PER_MINUTE", "BROADCAST_DAILY_CAP", "SECRET_KEY")})
        stack.callback(lambda: worker.poll() is None and kill_tree(worker))
        _wait_ok(f"{gateway}/health", 30, "the WhatsApp gateway", gw, logs["baileys"])
        _wait_ok(f"http://127.0.0.1:{calls_port}/health", 30, "the calls service", calls, logs["calls"])
        _wait_ok(f"{api}/readyz", 30, "the API", api_proc, logs["api"])
        nginx_argv, web_port = serve_spa(tmp_path / "nginx", api_port, calls_port)
        nginx = stack.enter_context(_service(nginx_argv, env, logs["nginx"]))
        base_url = f"http://127.0.0.1:{web_port}"
        _wait_ok(f"{base_url}/health", 20, "nginx", nginx, logs["nginx"])

        replay = [sys.executable, "-m", "callengine.loadtest", "--twiml-url", f"{api}/twilio/voice",
                  "--url", f"ws://127.0.0.1:{calls_port}/ws/twilio", "--auth-token", TWILIO_TOKEN,
                  "--to", DEMO_NUMBER, "--from", "+15551230000", "--calls", "1", "--session", str(caller), "--quiet"]
        e2e_env = {**os.environ, "BASE_URL": base_url, "API_URL": api, "REPLAY_CALL": json.dumps(replay),
                   "SCREENSHOT_DIR": str(screenshots), "CHROMIUM": CHROMIUM, "E2E_STATE_DIR": str(tmp_path / "e2e-state"),
                   "OWNER_EMAIL": OWNER, "OWNER_PASSWORD": OWNER_PASSWORD,
                   "ADMIN_EMAIL": ADMIN, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                   "GATEWAY_URL": gateway, "INTERNAL_SECRET": SECRET, "ROOT_DIR": str(ROOT)}
        suite = subprocess.run(["npm", "run", "--silent", "e2e"], cwd=FRONTEND, env=e2e_env,
                               capture_output=True, text=True, timeout=SUITE_TIMEOUT)
        output = suite.stdout + suite.stderr
        print(output)
        screenshots.mkdir(parents=True, exist_ok=True)
        (screenshots / "e2e-output.txt").write_text(output)  # the latency line, beside the screenshots
        if suite.returncode != 0:
            tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in logs.values() if p.exists())
            pytest.fail(f"npm run e2e failed ({suite.returncode})\n{output[-12000:]}\n{tails}")
