"""The local stack for the runbook tests: the Procfile's processes, one at a time, plus nginx.

Each line of the repository's ``Procfile`` (``name: command``) is started on its own with
``bash -c command`` in a new session and the stack's environment, so a test can stop, kill or
restart one service, which the Procfile runner (honcho) cannot. The environment is what
``make run`` writes to ``var/local.env`` for the same ports: :func:`prepare_env` makes it
(one function, so the run command's own prepare step can replace it). A private nginx with
the production templates (scripts/nginx_conf.py, as ``make run`` lays it out) stands in
front of the API and the calls service.

Nothing here talks to the machine's Redis: the stack's redis-server is the Procfile's
``redis`` line on a free port, which the tests kill and start again on the same data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from scripts import localstack
from tests.conftest import free_port, wait_for_port

__all__ = ["ROOT", "Call", "Ports", "Stack", "StackError", "prepare_env", "procfile"]

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEMO_NUMBER = "+15550100000"  # api.seed's demo business
START_TIMEOUT = 60.0  # a noisy 2-core machine: the API imports a lot before it listens


class StackError(AssertionError):
    """A process did not come up (or down) as expected; carries the log's tail."""


@dataclass(frozen=True)
class Ports:
    redis: int
    api: int
    calls: int
    gateway: int
    web: int

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())


def procfile(root: Path = ROOT) -> dict[str, str]:
    """The Procfile's ``{name: command}`` lines, as the run command reads them."""
    return localstack.procfile(root)


# The tests' own settings on top of what ``make run`` prepares: a short drain so stopping the
# calls service with a live call takes seconds, the gateway's drain and restore without delays,
# and INFO logs in each process's log file.
TEST_OVERRIDES = {
    "DRAIN_TIMEOUT_SECONDS": "5",
    "WA_DRAIN_SECONDS": "2",
    "WA_RESTORE_STAGGER_MS": "0",
    "LOG_LEVEL": "INFO",
}


def prepare_env(var: Path, ports: Ports) -> dict[str, str]:
    """What ``make run`` prepares for these ports under ``var`` (``scripts/localstack.py
    prepare``: the database migrated and seeded, the secrets, var/local.env) and the environment
    every Procfile line then runs with: that file's variables plus :data:`TEST_OVERRIDES`.
    """
    env_file = localstack.prepare(root=ROOT, var=var, api_port=ports.api, calls_port=ports.calls,
                                  whatsapp_port=ports.gateway, redis_port=ports.redis, frontend=False,
                                  python=sys.executable)
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")}
    return {**inherited, **localstack.load_env(env_file), **TEST_OVERRIDES}


@dataclass
class Call:
    """A call in progress (``Stack.call``)."""

    proc: subprocess.Popen[str]
    report: Path  # the load harness's results (--json)

    def finish(self, timeout: float = 60) -> dict[str, Any]:
        """Wait for the call to end; the harness's results. Fails unless it exited 0 (no call
        refused or broken)."""
        out, _ = self.proc.communicate(timeout=timeout)
        results: dict[str, Any] = json.loads(self.report.read_text()) if self.report.exists() else {}
        if self.proc.returncode != 0:
            raise StackError(f"the call failed ({self.proc.returncode}):\n{out}\n{results}")
        return results


@dataclass
class Stack:
    """The local stack under ``var``: start, stop, kill and restart each Procfile line."""

    var: Path
    ports: Ports
    env: dict[str, str]
    commands: dict[str, str] = field(default_factory=procfile)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # --- processes ---------------------------------------------------------------------

    def log(self, name: str) -> Path:
        return self.var / "log" / f"{name}.log"

    def tail(self, *names: str, size: int = 2500) -> str:
        out = []
        for name in names or tuple(self.procs):
            path = self.log(name)
            if path.exists():
                out.append(f"--- {name}.log\n{path.read_text(errors='replace')[-size:]}")
        return "\n".join(out)

    def spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
        with self.log(name).open("ab") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=dict(env or self.env), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs[name] = proc
        return proc

    def start(self, name: str, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Start the Procfile's ``name`` line (``bash -c``; its ``exec`` makes the pid the service's)."""
        assert name not in self.procs or self.procs[name].poll() is not None, f"{name} is running"
        proc = self.spawn(name, ["bash", "-c", self.commands[name]])
        if wait:
            self.wait_up(name)
        return proc

    def running(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal ``name`` (SIGTERM: its graceful stop) and wait for it to exit; its exit status."""
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                raise StackError(f"{name} did not stop within {timeout:.0f} s of {signal.Signals(sig).name}\n"
                                 f"{self.tail(name)}") from None
        return proc.returncode

    def kill(self, name: str) -> None:
        self.stop(name, signal.SIGKILL)

    def ensure_up(self) -> None:
        """Start again whatever is not running (a scenario that failed half-way left it down)."""
        for name in self.procs:
            if not self.running(name) and name != "nginx":
                self.start(name)

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def close(self) -> None:
        """Everything down: SIGTERM in reverse start order, SIGKILL what lingers."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=10)

    # --- readiness ---------------------------------------------------------------------

    def url(self, name: str) -> str:
        port = {"api": self.ports.api, "calls": self.ports.calls, "whatsapp": self.ports.gateway,
                "nginx": self.ports.web}[name]
        return f"http://127.0.0.1:{port}"

    def wait_up(self, name: str, timeout: float = START_TIMEOUT) -> None:
        checks: dict[str, Callable[[], bool]] = {
            "redis": lambda: self.redis_cli("PING") == "PONG",
            "api": lambda: self.get("api", "/api/health").status_code == 200,
            "calls": lambda: self.get("calls", "/health").status_code == 200,
            "whatsapp": lambda: self.get("whatsapp", "/health").status_code == 200,
            "nginx": lambda: self.get("nginx", "/health").status_code == 200,
            "worker": lambda: self.python("-m", "jobs.health").returncode == 0,
            "scheduler": lambda: self.python("-m", "jobs.scheduler", "--health").returncode == 0,
        }
        self.wait(checks[name], timeout, f"{name} to come up", name, process=name)

    def wait(self, check: Callable[[], object], timeout: float, what: str, *logs: str,
             process: str | None = None) -> float:
        """Poll ``check`` every 100 ms until it is true; the seconds it took. Fails with the logs."""
        start = time.monotonic()
        while True:
            try:
                if check():
                    return time.monotonic() - start
            except (requests.RequestException, OSError, subprocess.SubprocessError, ValueError):
                pass
            if process is not None and self.procs[process].poll() is not None:
                raise StackError(f"{process} exited ({self.procs[process].returncode}) before {what}\n"
                                 f"{self.tail(process)}")
            if time.monotonic() - start > timeout:
                raise StackError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tail(*logs)}")
            time.sleep(0.1)

    # --- clients -----------------------------------------------------------------------

    def get(self, name: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.url(name)}{path}", timeout=kwargs.pop("timeout", 5), **kwargs)

    def redis_cli(self, *args: str) -> str:
        """``redis-cli -p <the stack's port> ARGS``: its output, stripped."""
        done = subprocess.run(["redis-cli", "-p", str(self.ports.redis), *args], capture_output=True, text=True,
                              timeout=10)
        if done.returncode != 0 or done.stdout.startswith("Could not connect"):
            raise OSError(done.stdout + done.stderr)
        return done.stdout.strip()

    def python(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def gateway(self, method: str, path: str, body: Any = None) -> Any:
        """The WhatsApp gateway's secured API (and its fake driver's /fake/... routes)."""
        resp = requests.request(method, f"{self.url('whatsapp')}{path}", json=body, timeout=10, headers={
            "X-Internal-Secret": self.env["INTERNAL_SECRET"], "X-WhatsApp-Shard": "1"})
        if resp.status_code != 200:
            raise StackError(f"{method} {path}: {resp.status_code} {resp.text}")
        return resp.json()

    def call(self, seconds: float) -> Call:
        """Start one real call, as Twilio makes it: the signed voice webhook to the API, then the
        TwiML's stream to the calls service, a synthetic caller talking for ``seconds``
        (``python -m callengine.loadtest``)."""
        report = self.var / f"call-{time.monotonic_ns()}.json"
        argv = [sys.executable, "-m", "callengine.loadtest", "--twiml-url", f"{self.url('api')}/twilio/voice",
                "--url", f"ws://127.0.0.1:{self.ports.calls}/ws/twilio", f"--auth-token={self.env['TWILIO_AUTH_TOKEN']}",
                "--to", DEMO_NUMBER, "--from", "+15551230000", "--calls", "1", "--scenario", "talk",
                "--duration", str(seconds), "--quiet", "--json", str(report)]
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        return Call(proc, report)

    # --- nginx ---------------------------------------------------------------------------

    def start_nginx(self) -> None:
        """nginx with the production gateway templates on ``ports.web``, in front of the API and the
        calls service (the SPA's upstream is a port nothing listens on: not under test here)."""
        prefix = self.var / "nginx"
        env = {**self.env, "SERVER_NAME": "localhost 127.0.0.1", "HTTP_PORT": str(self.ports.web),
               "API_UPSTREAM": f"127.0.0.1:{self.ports.api}", "CALLS_UPSTREAM": f"127.0.0.1:{self.ports.calls}",
               "FRONTEND_UPSTREAM": f"127.0.0.1:{free_port()}", "NGINX_RESOLVER": "127.0.0.1"}
        rendered = subprocess.run([sys.executable, str(ROOT / "scripts" / "nginx_conf.py"), str(prefix), "--gateway"],
                                  env=env, capture_output=True, text=True, timeout=30)
        if rendered.returncode != 0:
            raise StackError(f"scripts/nginx_conf.py failed: {rendered.stderr}")
        proc = self.spawn("nginx", [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"])
        if not wait_for_port(self.ports.web, proc, timeout=20):
            raise StackError(f"nginx did not listen\n{self.tail('nginx')}")

    # --- the whole stack ---------------------------------------------------------------

    @classmethod
    def up(cls, var: Path, *, services: tuple[str, ...] | None = None, nginx: bool = True) -> Stack:
        """Prepare ``var`` and start the Procfile's lines (all, or ``services``) and nginx."""
        ports = Ports.free()
        stack = cls(var, ports, prepare_env(var, ports))
        try:
            names = services or tuple(stack.commands)
            stack.start("redis")
            for name in names:
                if name != "redis":
                    stack.start(name, wait=False)
            for name in names:
                if name != "redis":
                    stack.wait_up(name)
            if nginx:
                stack.start_nginx()
        except BaseException:
            stack.close()
            raise
        return stack
