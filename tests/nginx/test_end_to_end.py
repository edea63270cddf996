"""A call the way Twilio places it, through the gateway to the real services: the signed voice
webhook reaches the API (which checks the signature over PUBLIC_BASE_URL, the gateway's
address), its TwiML's stream URL leads back through the gateway to the calls service (which
checks the stream's signature and per-call token), and the receptionist-less echo brain
answers. The API's probes answer through the gateway; its /internal/ routes do not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

from tests.conftest import SHARED_REDIS, free_port, wait_for_port
from tests.nginx.conftest import ROOT, Nginx, request, run_nginx

pytestmark = pytest.mark.slow
TOKEN = "nginx-e2e-twilio-token"


@contextmanager
def service(args: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        if not wait_for_port(port, proc):
            pytest.fail(f"{args} did not start: {log.read_text()}")
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_signed_call_through_the_gateway(tmp_path: Path, frontend: Nginx) -> None:
    api_port, calls_port, http_port = free_port(), free_port(), free_port()
    public = f"http://127.0.0.1:{http_port}"  # what Twilio is told: the gateway
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prosaas.db'}",
        "REDIS_URL": SHARED_REDIS,
        "INTERNAL_SECRET": "nginx-e2e-internal",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": public,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(calls_port),
        "CALLS_BRAIN": "echo",
        "CALLS_INSTANCE_ID": "nginx-e2e",
        "CALLS_SPOOL_DIR": str(tmp_path / "spool"),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "MEDIA_DIR": str(tmp_path / "media"),
        "SEED_OWNER_PASSWORD": "owner password nginx e2e",
    }
    for step in ("api.migrate", "api.seed"):
        subprocess.run([sys.executable, "-m", step], env=env, cwd=ROOT, check=True, capture_output=True)
    gateway_env = {
        "SERVER_NAME": "127.0.0.1",
        "API_UPSTREAM": f"127.0.0.1:{api_port}",
        "CALLS_UPSTREAM": f"127.0.0.1:{calls_port}",
        "FRONTEND_UPSTREAM": f"127.0.0.1:{frontend.ports['http']}",
        "NGINX_RESOLVER": "127.0.0.1",
        "HTTP_PORT": str(http_port),
    }
    with ExitStack() as stack:
        stack.enter_context(service(["-m", "callengine"], env, tmp_path / "calls.log", calls_port))
        stack.enter_context(service(["-m", "api"], env, tmp_path / "api.log", api_port))
        gateway = stack.enter_context(
            run_nginx(tmp_path / "etc", gateway_env, gateway=True, frontend=False, ports={"http": http_port})
        )
        client = redis.Redis.from_url(SHARED_REDIS, decode_responses=True)
        deadline = time.monotonic() + 20
        while client.get("calls:capacity") in (None, "0"):  # the API admits calls once it is published
            assert time.monotonic() < deadline
            time.sleep(0.1)

        for path in ("/readyz", "/version", "/api/health"):
            resp = request(http_port, path, host="127.0.0.1")
            assert resp.status == 200 and resp.json(), (path, resp)
        assert request(http_port, "/readyz", host="127.0.0.1").json()["status"] == "ready"
        internal = {"method": "POST", "body": b"{}", "headers": {"Content-Type": "application/json"}}
        direct = request(api_port, "/internal/whatsapp/events", host="127.0.0.1", **internal)  # type: ignore[arg-type]
        assert direct.status != 404, direct  # the route exists on the API (unsigned: refused there)
        through = request(http_port, "/internal/whatsapp/events", host="127.0.0.1", **internal)  # type: ignore[arg-type]
        assert through.status == 404 and through.json()["error"]["code"] == "not_found"

        out = tmp_path / "run.json"
        run = subprocess.run(
            [sys.executable, "-m", "callengine.loadtest", "--twiml-url", f"{public}/twilio/voice",
             "--auth-token", TOKEN, "--to", "+15550100000", "--calls", "1", "--duration", "2",
             "--quiet", "--json", str(out)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        logs = "".join(p.read_text()[-2000:] for p in (tmp_path / "api.log", tmp_path / "calls.log")) + gateway.log()
        assert run.returncode == 0, run.stdout + run.stderr + logs
        [call] = json.loads(out.read_text())["per_call"]
        assert call["outcome"] == "completed", call
        access = (tmp_path / "etc" / "logs" / "access.log").read_text()
        assert "POST /twilio/voice" in access and "GET /ws/twilio" in access  # both legs went through it
