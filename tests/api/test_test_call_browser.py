"""The browser test call in a real browser: headless Chromium with a fake microphone opens the
built web app (served by ``vite preview``, which proxies /api to the API and /ws to the calls
service as the dev server does), logs in, presses "Start test call" on the dashboard, hears the
agent (the playback worklet reports "Agent speaking"), hangs up; the calls service got 20 ms
frames and the marks the playback worklet echoed, and the stored call is a test call with no
lead. Driven over the Chrome DevTools Protocol (no browser download: /usr/bin/chromium).

Needs the web app built (``make test`` builds ``frontend/`` before the Python suite; by hand:
``cd frontend && npm ci && npm run build``; skipped when ``FRONTEND_TESTS=0`` skips the web
app) and Chromium (scripts/system-packages.sh)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import trio
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, text
from trio_websocket import open_websocket_url

from jobs import db as jobs_db
from tests.api.conftest import REDIS_URL
from tests.api.test_end_to_end import process, redis_client_raw, wait_for
from tests.conftest import free_port, wait_for_port
from tests.fakes.burst_worker import run_burst

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "owner password browser"
PANEL = "(document.querySelector('[aria-label=\"Test call\"]') || {}).textContent || ''"
CLICK = ("(name) => { const b = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === name);"
         " if (!b) return 'missing'; b.click(); return 'clicked'; }")


class Page:
    """One page over CDP: evaluate expressions, navigate."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.exceptions: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mine = self.next_id
        await self.ws.send_message(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.get_message())
            if message.get("method") == "Runtime.exceptionThrown":
                self.exceptions.append(json.dumps(message["params"]["exceptionDetails"])[:500])
            if message.get("id") == mine:
                assert "error" not in message, message
                return dict(message["result"])

    async def eval(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        with trio.fail_after(15):
            while await self.eval("document.readyState") != "complete":
                await trio.sleep(0.1)


def launch_chromium(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Headless Chromium with a fake microphone (a tone) that needs no permission click; returns
    the process and its page's DevTools WebSocket URL."""
    port = free_port()
    with (tmp_path / "chrome.log").open("wb") as log:
        chrome = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
             "--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required",
             f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'chrome'}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=log,
        )
    assert wait_for_port(port, chrome), (tmp_path / "chrome.log").read_text()
    targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5).read())
    [target] = [t for t in targets if t["type"] == "page"]
    return chrome, str(target["webSocketDebuggerUrl"])


async def drive(base: str, devtools_url: str) -> tuple[list[str], list[str]]:
    """The user's side; returns the panel's texts in order and any page exceptions."""
    async with open_websocket_url(devtools_url, max_message_size=2**24) as ws:
        page = Page(ws)
        await page.call("Runtime.enable")
        await page.call("Page.enable")
        await page.goto(base + "/login")  # same origin, so the login's cookie is the app's
        status = await page.eval(
            "fetch('/api/auth/login', {method: 'POST', credentials: 'include', headers: {'Content-Type': "
            "'application/json'}, body: JSON.stringify({email: 'owner@demo.prosaas.local', password: "
            f"{json.dumps(PASSWORD)}}})}}).then((r) => r.status)"
        )
        assert status == 200
        await page.goto(base + "/")
        with trio.fail_after(15):
            while await page.eval(f"({CLICK})('Start test call')") != "clicked":
                await trio.sleep(0.2)
        texts: list[str] = []
        with trio.move_on_after(20):
            while not any("Agent speaking" in t for t in texts):
                current = await page.eval(PANEL)
                if not texts or texts[-1] != current:
                    texts.append(current)
                await trio.sleep(0.05)
        await trio.sleep(3)  # talk a little longer: frames and mark echoes flow
        assert await page.eval(f"({CLICK})('Hang up')") == "clicked", texts
        with trio.fail_after(5):
            while "You hung up." not in (current := await page.eval(PANEL)):
                await trio.sleep(0.1)
        texts.append(current)
        return texts, page.exceptions


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_user_talks_to_the_agent_from_the_dashboard(db_url: str, redis_client: Any, tmp_path: Path) -> None:
    vite = FRONTEND / "node_modules" / ".bin" / "vite"
    if os.environ.get("FRONTEND_TESTS") == "0":
        pytest.skip("FRONTEND_TESTS=0: the web app is neither installed nor built in this run")
    if not (FRONTEND / "dist" / "index.html").exists() or not vite.exists():
        pytest.fail("build the web app first: cd frontend && npm ci && npm run build")
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing (scripts/system-packages.sh installs it)")
    api_port, calls_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS_URL, "INTERNAL_SECRET": "browser-internal",
        "PUBLIC_BASE_URL": f"http://localhost:{web_port}", "API_HOST": "127.0.0.1", "API_PORT": str(api_port),
        "CALLS_HOST": "127.0.0.1", "CALLS_PORT": str(calls_port), "CALLS_SPOOL_DIR": str(tmp_path / "spool"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"), "SEED_OWNER_PASSWORD": PASSWORD, "LOG_LEVEL": "INFO",
    }
    subprocess.run([sys.executable, "-m", "api.migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "api.seed"], env=env, cwd=ROOT, check=True, capture_output=True)
    preview = [str(vite), "preview", "--host", "127.0.0.1", "--port", str(web_port), "--strictPort"]
    with process(["-m", "callengine"], env, tmp_path / "calls.log", calls_port), \
            process(["-m", "api"], env, tmp_path / "api.log", api_port), \
            (tmp_path / "preview.log").open("wb") as preview_log:
        web = subprocess.Popen(preview, env=env, cwd=FRONTEND, stdout=preview_log, stderr=subprocess.STDOUT)
        try:
            assert wait_for_port(web_port, web), (tmp_path / "preview.log").read_text()
            wait_for(lambda: redis_client.get("calls:capacity") not in (None, "0"))
            chrome, devtools_url = launch_chromium(tmp_path)
            try:
                texts, exceptions = trio.run(drive, f"http://localhost:{web_port}", devtools_url)
            finally:
                chrome.terminate()
                chrome.wait(timeout=10)
        finally:
            web.terminate()
            web.wait(timeout=10)
        queue = Queue("high", connection=redis_client_raw(), serializer=JSONSerializer)
        wait_for(lambda: queue.count >= 1)
        jobs_db.configure(db_url)
        try:
            run_burst(queue)
        finally:
            jobs_db.reset()
    assert exceptions == []
    assert any("Talking" in t for t in texts) and any("Agent speaking" in t for t in texts), texts
    assert texts[-1].startswith("You hung up."), texts
    engine = create_engine(db_url)
    with engine.connect() as conn:
        [row] = conn.execute(text("SELECT status, end_reason, lead_id, duration_seconds, events FROM call")).all()
        leads = conn.execute(text("SELECT count(*) FROM lead")).scalar_one()
    engine.dispose()
    events = row.events if isinstance(row.events, dict) else json.loads(row.events)
    assert (row.status, row.end_reason, row.lead_id, events["test"]) == ("completed", "stopped", None, True)
    metrics = events["metrics"]
    # 20 ms frames from the microphone worklet in real time (50 a second; 35 leaves room for a busy CI).
    assert row.duration_seconds >= 3 and metrics["frames_in"] >= 35 * row.duration_seconds, (row.duration_seconds, metrics)
    assert metrics["marks_echoed"] >= 1, metrics  # the playback worklet reported played marks
    assert leads == 0
