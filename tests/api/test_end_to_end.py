"""The whole phone-call path on real processes, Redis and the database (SQLite and Postgres):
signed voice webhook → TwiML → the harness plays the call through the calls service →
finalize_call (on an RQ worker) stores it → GET /api/calls shows it with its lead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from jobs import db as jobs_db
from tests.api.conftest import REDIS_URL
from tests.conftest import free_port, wait_for_port
from tests.fakes.burst_worker import run_burst

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-twilio-token"
CALLER = "+14445550123"


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            if not wait_for_port(port, proc):
                pytest.fail(f"{args} did not start: {log.read_text()}")
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_for(predicate: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_signed_call_is_played_finalized_and_listed(db_url: str, redis_client: Any, tmp_path: Path) -> None:
    api_port, calls_port = free_port(), free_port()
    public = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "INTERNAL_SECRET": "e2e-internal",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": public,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(calls_port),
        "CALLS_SPOOL_DIR": str(tmp_path / "spool"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "SEED_OWNER_PASSWORD": "owner password e2e",
        "LOG_LEVEL": "INFO",
    }
    if db_url.startswith("sqlite"):
        subprocess.run([sys.executable, "-m", "api.migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "api.seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    with process(["-m", "callengine"], env, tmp_path / "calls.log", calls_port), \
            process(["-m", "api"], env, tmp_path / "api.log", api_port):
        wait_for(lambda: redis_client.get("calls:capacity") not in (None, "0"))
        harness = subprocess.run(
            [sys.executable, "-m", "callengine.loadtest", "--twiml-url", f"{public}/twilio/voice",
             "--url", f"ws://127.0.0.1:{calls_port}/ws/twilio", "--auth-token", TOKEN,
             "--from", CALLER, "--to", "+15550100000", "--calls", "1", "--duration", "3", "--quiet",
             "--json", str(tmp_path / "run.json")],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert harness.returncode == 0, harness.stdout + harness.stderr + (tmp_path / "api.log").read_text()[-3000:]
        queue = Queue("high", connection=redis_client_raw(), serializer=JSONSerializer)
        wait_for(lambda: queue.count >= 1)
        jobs_db.configure(db_url)
        try:
            run_burst(queue)
        finally:
            jobs_db.reset()
        calls = api_get(public, "/api/calls")
    assert calls["total"] == 1, calls
    [call] = calls["items"]
    assert call["status"] == "completed" and call["direction"] == "inbound"
    assert call["from"] == CALLER and call["lead"]["phone_e164"] == CALLER
    assert call["duration_seconds"] and call["duration_seconds"] >= 2


def redis_client_raw() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL)


def api_get(base: str, path: str) -> Any:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = urllib.request.Request(
        base + "/api/auth/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"email": "owner@demo.prosaas.local", "password": "owner password e2e"}).encode(),
    )
    opener.open(login, timeout=10).read()
    with opener.open(base + path, timeout=10) as resp:
        return json.loads(resp.read())
