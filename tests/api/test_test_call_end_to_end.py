"""A browser test call on real processes, Redis and the database (SQLite and Postgres):
POST /api/test-calls → the fake Twilio client speaks Media Streams on /ws/browser with the
returned token and parameters → the agent's greeting audio comes back → finalize_call (on an RQ
worker) stores the call → GET /api/calls shows it flagged ``test``, and no lead was made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import trio
from rq import Queue
from rq.serializers import JSONSerializer
from trio_websocket import ConnectionClosed

from jobs import db as jobs_db
from tests.api.conftest import REDIS_URL
from tests.api.test_end_to_end import process, redis_client_raw, wait_for
from tests.conftest import free_port
from tests.fakes.burst_worker import run_burst
from tests.fakes.twilio_ws import SILENCE_FRAME, open_call

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "owner password e2e"


class Session:
    """A logged-in user of the API (session cookie + CSRF header)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        body = self.send("POST", "/api/auth/login", {"email": "owner@demo.prosaas.local", "password": PASSWORD})[1]
        self.csrf = body["csrf_token"]

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "csrf", None):
            headers["X-CSRF-Token"] = self.csrf
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


async def talk(calls_port: int, started: dict[str, Any]) -> list[dict[str, Any]]:
    """Open the browser's stream, send 3 s of silence, answer marks, hang up; what the agent sent."""
    received: list[dict[str, Any]] = []
    async with open_call(calls_port, call_sid=started["call_sid"], path=started["ws_path"]) as call:
        await call.connected()
        await call.start(started["parameters"])

        async def listen() -> None:
            try:
                while True:
                    message = await call.receive()
                    received.append(message)
                    if message["event"] == "mark":  # a browser echoes a mark once its audio played
                        await call.mark(message["mark"]["name"])
            except ConnectionClosed as exc:
                closed.append(exc.reason.code)

        closed: list[int] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(listen)
            await call.frames(SILENCE_FRAME, 150)
            await call.stop()
    assert closed == [1000]
    return received


def test_a_browser_test_call_is_played_stored_flagged_and_makes_no_lead(
    db_url: str, redis_client: Any, tmp_path: Path
) -> None:
    api_port, calls_port = free_port(), free_port()
    public = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": REDIS_URL,
        "INTERNAL_SECRET": "e2e-internal",
        "TWILIO_AUTH_TOKEN": "e2e-twilio-token",  # /ws/twilio checks signatures; /ws/browser tokens
        "PUBLIC_BASE_URL": public,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(calls_port),
        "CALLS_SPOOL_DIR": str(tmp_path / "spool"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "SEED_OWNER_PASSWORD": PASSWORD,
        "LOG_LEVEL": "INFO",
    }
    if db_url.startswith("sqlite"):
        subprocess.run([sys.executable, "-m", "api.migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "api.seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    with process(["-m", "callengine"], env, tmp_path / "calls.log", calls_port), \
            process(["-m", "api"], env, tmp_path / "api.log", api_port):
        wait_for(lambda: redis_client.get("calls:capacity") not in (None, "0"))
        user = Session(public)
        leads_before = user.send("GET", "/api/leads")[1]["total"]
        status, started = user.send("POST", "/api/test-calls")
        assert status == 201, started
        received = trio.run(talk, calls_port, started)
        media = [m for m in received if m["event"] == "media"]
        assert len(media) >= 25, [m["event"] for m in received]  # at least 0.5 s of the greeting
        assert any(m["event"] == "mark" for m in received)
        queue = Queue("high", connection=redis_client_raw(), serializer=JSONSerializer)
        wait_for(lambda: queue.count >= 1)
        jobs_db.configure(db_url)
        try:
            run_burst(queue)
        finally:
            jobs_db.reset()
        calls = user.send("GET", "/api/calls")[1]
        leads_after = user.send("GET", "/api/leads")[1]["total"]
    assert calls["total"] == 1, calls
    [call] = calls["items"]
    assert call["call_sid"] == started["call_sid"] and call["test"] is True
    assert call["status"] == "completed" and call["end_reason"] == "stopped"
    assert call["lead_id"] is None and call["from"] == started["parameters"]["from"]
    assert call["duration_seconds"] and call["duration_seconds"] >= 2
    assert leads_after == leads_before
