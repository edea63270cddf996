"""Every command of docs/RUNBOOK.md, run against the local stack, with the result it documents.

The commands are read out of the runbook (tests/runbook/runbook.py), never retyped: each is
either run here (:data:`RUN`, in its local form: ``localhost:5000`` → the stack's API port,
``docker compose exec redis redis-cli`` → ``redis-cli -p <port>``, …) and checked against what
the runbook says it prints, or listed in :data:`NOT_RUN` with the reason (Docker, production's
database, a placeholder form). A command added to the runbook and in neither fails
``test_every_runbook_command_is_run_or_listed``; a :data:`RUN` entry the runbook no longer has,
or a documented result it no longer says, fails too.

Production and local differ in two documented ways, applied to the documented results:
the gateway runs the fake driver (``"driver":"fake"``) and the API reaches it at its local URL.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.runbook.conftest import needs_stack
from tests.runbook.runbook import (
    DEGRADED,
    DRAINING,
    RUNBOOK,
    LocalPorts,
    commands,
    documented_results,
    documents,
    local_result,
    localize,
    matches,
    parse_documented,
)
from tests.runbook.stack import ROOT, Stack

TEXT = RUNBOOK.read_text()
HEAD = "0005"  # the newest migration (api/migrations/versions/); the runbook quotes it


@dataclass
class Ran:
    command: str  # as run (local form)
    returncode: int
    stdout: str
    stderr: str
    status: int | None = None  # HTTP status, for curl
    body: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"$ {self.command}\nexit {self.returncode} status {self.status}\n{self.stdout[-3000:]}{self.stderr[-2000:]}"


@dataclass(frozen=True)
class Check:
    """How to check one command: ``documented`` are the runbook's words for its result (each must
    still be in the runbook), ``check`` compares the run with them."""

    check: Callable[[Ran, Stack], None]
    documented: tuple[str, ...] = ()
    setup: Callable[[Stack], dict[str, str]] = field(default=lambda stack: {})  # placeholder → value


def http(status: int, doc: str | None = None, *, wrap: tuple[str, str] = ("", "")) -> Check:
    """HTTP ``status`` and, when given, the documented JSON body (``wrap`` completes a fragment)."""

    def check(ran: Ran, stack: Stack) -> None:
        assert ran.returncode == 0, ran
        assert ran.status == status, ran
        if doc is not None:
            documented = wrap[0] + local_result(doc, stack.env["BAILEYS_SHARD_1_URL"]) + wrap[1]
            problems = matches(ran.json(), parse_documented(documented))
            assert not problems, f"{problems}\n{ran}"

    return Check(check, (doc,) if doc else ())


def prints(expected: str, *documented: str) -> Check:
    def check(ran: Ran, stack: Stack) -> None:
        assert ran.returncode == 0 and ran.body.strip() == expected, ran

    return Check(check, documented or (expected,))


def prints_like(pattern: str, *documented: str, code: int = 0) -> Check:
    def check(ran: Ran, stack: Stack) -> None:
        assert ran.returncode == code and re.fullmatch(pattern, ran.stdout.strip(), re.S), ran

    return Check(check, documented)


def _metrics(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0 and ran.status == 200, ran
    body = ran.json()
    assert {"calls", "queues", "routes", "whatsapp", "generated_at"} <= set(body), ran
    assert {"active_count", "capacity"} <= set(body["calls"]), ran
    for queue in ("high", "default", "low", "broadcasts", "failed"):
        assert {"queued", "failed", "started", "scheduled"} <= set(body["queues"][queue]), (queue, ran)


METRICS = Check(_metrics, ("It gives `calls` (`active_count`, `capacity`),", "`queues` (for `high`, `default`, `low`, "
                           "`broadcasts`, `failed`: `queued`, `failed`, `started`, `scheduled`), `routes`"))


def _instances(ran: Ran, stack: Stack) -> None:
    instance = stack.get("calls", "/health").json()["instance"]
    assert ran.returncode == 0 and ran.stdout.split() == [instance], ran


def _lastsave(ran: Ran, stack: Stack) -> None:
    """The documented backup step: BGSAVE, then LASTSAVE changes (it counts whole seconds)."""
    assert ran.returncode == 0 and ran.stdout.strip().isdigit(), ran
    stack.wait(lambda: "rdb_bgsave_in_progress:0" in stack.redis_cli("INFO", "persistence"), 30, "no BGSAVE running")
    before = int(stack.redis_cli("LASTSAVE"))
    time.sleep(max(0.0, before + 1.05 - time.time()))
    assert stack.redis_cli("BGSAVE") == "Background saving started"
    stack.wait(lambda: int(stack.redis_cli("LASTSAVE")) > before, 30, "LASTSAVE to change", "redis")
    assert (stack.var / "redis" / "dump.rdb").exists()


def _git_grep(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0, ran
    # the table's modules that read the key (the signature's contracts/webhook_signature.py is
    # handed it by its callers, which the grep lists)
    for path in ("contracts/call_token.py", "contracts/browser_access.py", "api/services/whatsapp_gateway.py",
                 "baileys/src/settings.js"):
        assert f"{path}:" in ran.stdout, path


def _sqlite_backup(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0, ran
    copy = stack.var / f"prosaas-{time.strftime('%Y-%m-%d')}.db"
    version = subprocess.run(["sqlite3", str(copy), "SELECT version_num FROM alembic_version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert version == HEAD


def _api_log(ran: Ran, stack: Stack) -> None:
    """The harness keeps each process's output where ``make run`` does (var/log/<process>.log)."""
    assert ran.returncode == 0 and "prosaas-api listening on 127.0.0.1:" in ran.stdout, ran


def _local_env(ran: Ran, stack: Stack) -> None:
    """Then ``python -m jobs …`` reaches the stack's Redis (the default would be 6379's)."""
    assert ran.returncode == 0, ran
    then = subprocess.run(["bash", "-c", f"{ran.command}; {sys.executable} -m jobs failed list"], cwd=stack.var.parent,
                          env={"PATH": stack.env["PATH"], "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=60)
    assert then.returncode == 0 and then.stdout.strip() == "no dead jobs", then


# --- dead letters: one made for real (a malformed call record: a permanent error) --------


def dead_job(stack: Stack) -> dict[str, str]:
    """A finalize job with a malformed call record, dead-lettered by the running worker."""
    code = ("import redis, sys; from jobs.enqueue import enqueue_finalize_call; "
            "print(enqueue_finalize_call(redis.Redis.from_url(sys.argv[1]), {'call_sid': 'CArunbook-malformed'}))")
    made = stack.python("-c", code, stack.env["REDIS_URL"])
    assert made.returncode == 0, made.stderr
    job_id = made.stdout.strip()
    stack.wait(lambda: job_id in stack.redis_cli("LRANGE", "rq:queue:failed", "0", "-1"), 60,
               f"job {job_id} dead-lettered", "worker")
    return {"<id>": job_id}


def _purge_all(stack: Stack) -> None:
    stack.python("-m", "jobs", "failed", "purge", "--all")


def _failed_list(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0, ran
    assert ran.stdout.strip() == "no dead jobs", ran


def _failed_show(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0, ran
    for label in ("id:", "queue:", "function:", "failed at:", "reason:", "retries left:", "arguments:"):
        assert re.search(rf"^{label}", ran.stdout, re.M), (label, ran)
    assert "Traceback" in ran.stdout, ran
    listed = stack.python("-m", "jobs", "failed", "list")
    assert re.search(r"^\S+  \S+  \S+  \S+  .+$", listed.stdout, re.M) and "1 dead job(s)" in listed.stdout, listed
    _purge_all(stack)


def _failed_requeue(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0 and re.fullmatch(r"requeued \S+ on queue \w+ \(\d+ retries\)", ran.stdout.strip()), ran
    _purge_all(stack)


def _failed_requeue_all(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0 and "requeued" in ran.stdout, ran
    _purge_all(stack)


def _failed_purge(ran: Ran, stack: Stack) -> None:
    assert ran.returncode == 0 and re.fullmatch(r"purged \S+", ran.stdout.strip()), ran
    assert stack.redis_cli("LLEN", "rq:queue:failed") == "0"


CALLS_HEALTH = ('{"status":"ok","service":"prosaas-calls","version":"0.1.0","instance":"…","active_calls":0,'
                '"capacity":50,"pending_starts":0,…,"rejected":{"full":0,"pending_full":0,"draining":0,"signature":0,'
                '"token":0,"duplicate":0,"ended":0},…,"redis":{"reachable":true,"active_count":0},…}')
GATEWAY_HEALTH = ('{"status":"ok","shard_id":1,"driver":"baileys","uptime_seconds":…,"sessions":{"stopped":0,'
                  '"starting":0,"qr":0,"connected":N,"logged_out":0,"failed":0},"events_pending":0}')
WHATSAPP_VIA_API = ('{"status":"ok","shards":{"1":{"url":"http://baileys:3300","state":"ok","status":200,'
                    '"latency_ms":…,"health":{…}}}}')
READY_CHECKS = ('"checks":{"database":{"ok":true,"detail":"reachable"},"migrations":{"ok":true,"detail":"at head '
                f'({HEAD})"}},"redis":{{"ok":true,"detail":"reachable"}}}}')
WORKER_HEALTH = r"healthy: 1 worker\(s\) of host \S+, last heartbeat \d+ s ago"
SCHEDULER_HEALTH = r"replica \S+ leader \(token \d+\), heartbeat [\d.]+s ago"
WORKER_DOC = "`healthy: 1 worker(s) of host <container>, last heartbeat 10 s ago`"
SCHEDULER_DOC = "`replica <container> leader (token N), heartbeat 0.9s ago`"

# Every command run here, by its exact text in the runbook.
RUN: dict[str, Check] = {
    "curl http://localhost:5000/api/health": http(200, '{"status":"ok","version":"0.1.0"}'),
    "curl http://localhost:5000/readyz": http(200, '{"status":"ready","failing":[]}'),
    'curl "http://localhost:5000/readyz?token=$INTERNAL_SECRET"': http(
        200, READY_CHECKS, wrap=('{"status":"ready","failing":[],', "}")),
    "curl http://localhost:5000/metrics.json?token=$INTERNAL_SECRET": METRICS,
    'curl "http://localhost:5000/metrics.json?token=$INTERNAL_SECRET"': METRICS,
    "curl -s -o /dev/null -w '%{http_code}\\n' \"http://localhost:5000/metrics.json?token=$NEW\"": prints(
        "200", "`200`"),
    "curl http://localhost:5000/health/whatsapp": http(200, WHATSAPP_VIA_API),
    "curl http://localhost:5000/version": http(
        200, '{"name":"prosaas-api","version":"0.1.0","git_commit":"<sha>","git_commit_source":"git","build_time":null}'),
    "curl http://localhost:5050/health": http(200, CALLS_HEALTH),
    "curl -i http://localhost:5050/health": http(200, CALLS_HEALTH),  # draining (503): test_failure_scenarios
    "curl http://localhost:3300/health": http(200, GATEWAY_HEALTH),
    "curl http://localhost/health": prints("ok", "`curl http://localhost/health` → `ok`"),
    "docker compose exec redis redis-cli GET calls:active_count": prints("0", "GET calls:active_count` → `0` when idle"),
    "GET calls:capacity": prints("50", "`50` for one instance"),
    "docker compose exec redis redis-cli SET calls:active_count 0": prints("OK", "SET calls:active_count 0"),
    "SET calls:active_count 7": prints("OK", "`SET calls:active_count 7`, and `GET` gives `0`"),
    "SET calls:active_count 0": prints("OK", "`SET calls:active_count 0` during a call (rewritten within 2 s)"),
    "docker compose exec redis redis-cli ZRANGE calls:active 0 -1 WITHSCORES": prints("", "empty when idle"),
    "docker compose exec redis redis-cli SMEMBERS calls:instances": Check(_instances, ("one id per live instance",)),
    "docker compose exec redis redis-cli ping": prints("PONG", "redis-cli ping` → `PONG`"),
    "redis-cli ping": prints("PONG", "redis-cli ping` → `PONG`"),
    "docker compose exec worker python -m jobs.health": prints_like(WORKER_HEALTH, WORKER_DOC),
    "python -m jobs.health": prints_like(WORKER_HEALTH, WORKER_DOC),
    "docker compose exec scheduler python -m jobs.scheduler --health": prints_like(SCHEDULER_HEALTH, SCHEDULER_DOC),
    "python -m jobs.scheduler --health": prints_like(SCHEDULER_HEALTH, SCHEDULER_DOC),
    "docker compose exec redis redis-cli LLEN rq:queue:default": prints("0", "healthy: `0` or falling"),
    "docker compose exec redis redis-cli LLEN rq:queue:failed": prints("0", "Healthy: `0`", "0 when all is well"),
    "docker compose exec redis redis-cli INFO memory": prints_like(r".*maxmemory_policy:noeviction.*", "(`noeviction`)"),
    "docker compose exec redis redis-cli BGSAVE": prints_like(r"Background saving (started|scheduled)"),
    "redis-cli LASTSAVE": Check(_lastsave, ("wait until `redis-cli LASTSAVE` changes",)),
    "docker compose exec worker python -m jobs failed list": Check(_failed_list, ("healthy: `no dead jobs`",)),
    "docker compose exec worker python -m jobs failed show <id>": Check(
        _failed_show, ("`show` prints `id:`, `queue:`, `function:`, `failed at:`, `reason:`, `retries left:`",
                       "`<id>  <queue>  <function>  <failed at>  <reason>` per job, then `N dead job(s)`"), dead_job),
    "docker compose exec worker python -m jobs failed requeue <id>": Check(
        _failed_requeue, ("`requeued <id> on queue <queue> (<n> retries)`",), dead_job),
    "docker compose exec worker python -m jobs failed requeue --all": Check(_failed_requeue_all, (), dead_job),
    "docker compose exec worker python -m jobs failed purge <id>": Check(_failed_purge, ("`purged <id>`",), dead_job),
    "python -m api.migrate": prints(f"database already at head ({HEAD})"),
    ".venv/bin/python -m api.migrate": prints(f"database already at head ({HEAD})"),
    "python -m api.migrate --check": prints(f"database at {HEAD}, head is {HEAD}"),
    "openssl rand -hex 32": prints_like(r"[0-9a-f]{64}"),
    "git grep -n INTERNAL_SECRET": Check(_git_grep, ("(`git grep -n INTERNAL_SECRET`)",)),
    'sqlite3 var/prosaas.db ".backup var/prosaas-$(date +%F).db"': Check(_sqlite_backup),
    "set -a; . var/local.env; set +a": Check(_local_env, ("`set -a; . var/local.env; set +a` gives a shell the stack's",)),
    "tail -100 var/log/api.log": Check(_api_log, ("kept in `var/log/<process>.log`",)),
}

# Commands not run here, each with why (first match wins; RUN entries take precedence).
NOT_RUN: list[tuple[str, str]] = [
    (r"^docker compose (-f \S+ )*(--profile \S+ )*logs\b",
     "Docker: a container's log (locally each process's log; the scenarios print them on failure)"),
    (r"^docker compose (-f \S+ )*(--profile \S+ )*(up|start|restart|stop|kill)\b",
     "Docker: starts, stops or recreates containers (test_failure_scenarios.py does each locally: "
     "stop, kill and start the process)"),
    (r"^docker compose (-f \S+ )*ps\b", "Docker: container states"),
    (r"^docker compose (cp|exec -T postgres|exec baileys)", "Docker: a file or a command inside a container"),
    (r"^docker run\b", "Docker: copies a named volume"),
    (r"^\$P |^P=", "Docker: the shard move with both volumes mounted (tests/api/test_whatsapp_move.py runs "
                   "python -m api.whatsapp_move itself against two gateway shards)"),
    (r"^\./scripts/ensure_docker_network\.sh$", "Docker: creates the external network"),
    (r"^kubectl\b", "Kubernetes"),
    (r"…|^docker compose up$|^redis-cli( -n \d+)?$",
     "a form, not a command line (… or a bare program name in the conventions)"),
    (r"^python -m (api|callengine|jobs failed|jobs\.worker|jobs\.scheduler|api\.whatsapp_move)( <business_id> <shard>)?$",
     "a program's name in prose (its commands are listed separately)"),
    (r"^(make run|scripts/run\.sh|scripts/localstack\.py run)$",
     "the run command in the foreground: this harness starts the same Procfile lines itself"),
    (r"^scripts/localstack\.py prepare$", "run by this harness for its stack (tests/runbook/stack.py, prepare_env)"),
    (r"^pg_dump|^pg_restore", "production's managed PostgreSQL (the local stack's SQLite backup command is run)"),
    (r"^INTERNAL_SECRET=\$\(grep '\^INTERNAL_SECRET=' \.env", "reads production's .env"),
]


def plan(command: str) -> Check | str:
    """The check that runs ``command``, or the reason it is not run."""
    if command in RUN:
        return RUN[command]
    for pattern, reason in NOT_RUN:
        if re.search(pattern, command):
            return reason
    return "UNLISTED"


ALL = list(dict.fromkeys(c.text for c in commands(TEXT)))


def test_runbook_parser_finds_blocks_and_spans() -> None:
    sample = ("Check `curl http://x/health` and\n`docker compose exec redis\nredis-cli ping` → `PONG`\n\n"
              "```bash\n# a comment\nP=1\n$P run a \\\n  b   # why\n```\n```\n$ not a command\n```\n")
    assert [(c.text, c.where) for c in commands(sample)] == [
        ("curl http://x/health", "inline"), ("docker compose exec redis redis-cli ping", "inline"),
        ("P=1", "block"), ("$P run a b", "block")]


def test_documented_json_placeholders() -> None:
    pattern = parse_documented('{"a":"…","b":…,"c":{…},"d":1,…,"e":{"f":N}}')
    assert matches({"a": "x", "b": [1], "c": {"z": 1}, "d": 1, "g": 0, "e": {"f": 3}}, pattern) == []
    assert matches({"a": "x", "b": 1, "c": {}, "d": 2, "e": {"f": 3}}, pattern) == ["$.d: documented 1, got 2"]
    assert matches({"a": "x", "b": 1, "c": {}, "d": 1}, pattern) == ["$.e: missing"]
    assert matches({"x": True}, parse_documented('{"x":1}')) != []  # true is not 1


def test_every_runbook_command_is_run_or_listed() -> None:
    unlisted = [c for c in ALL if plan(c) == "UNLISTED"]
    assert not unlisted, f"runbook commands neither run (RUN) nor listed with a reason (NOT_RUN): {unlisted}"
    stale = [c for c in RUN if c not in ALL]
    assert not stale, f"RUN checks commands the runbook no longer gives: {stale}"
    for command, check in RUN.items():
        for words in check.documented:
            assert documents(TEXT, words), f"the runbook no longer says {words!r} (for {command!r})"


def test_every_documented_answer_is_checked() -> None:
    """A JSON answer the runbook shows is compared with a real one here or in a scenario."""
    checked = {words for check in RUN.values() for words in check.documented} | {DEGRADED, DRAINING}
    unchecked = [doc for doc in documented_results(TEXT) if doc not in checked]
    assert not unchecked, f"answers the runbook shows that no test compares with the stack's: {unchecked}"


def run(command: str, stack: Stack) -> Ran:
    """``command`` in its local form, in bash, in the directory holding the stack's ``var`` (so
    ``var/…`` paths are the stack's)."""
    ports = LocalPorts(api=stack.ports.api, calls=stack.ports.calls, gateway=stack.ports.gateway, web=stack.ports.web,
                       redis=stack.ports.redis, python=sys.executable)
    local = localize(command, ports)
    marker = "\n--http-status:"
    is_curl = local.startswith("curl ")
    if is_curl and " -w " not in local and " -i " not in local:
        local = local.replace("curl ", f"curl -sS -w '{marker}%{{http_code}}' ", 1)
    env = {**stack.env, "NEW": stack.env["INTERNAL_SECRET"], "PYTHONPATH": str(ROOT)}
    cwd = ROOT if local.startswith("git ") else stack.var.parent  # git: in the checkout
    done = subprocess.run(["bash", "-c", local], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)
    ran = Ran(local, done.returncode, done.stdout, done.stderr, body=done.stdout)
    if is_curl and marker in done.stdout:
        ran.body, _, status = done.stdout.rpartition(marker)
        ran.status = int(status)
    elif is_curl and " -i " in local:
        head, _, ran.body = done.stdout.replace("\r\n", "\n").partition("\n\n")
        ran.status = int(head.split()[1])
    return ran


@needs_stack
@pytest.mark.parametrize("command", ALL)
def test_runbook_command(command: str, request: pytest.FixtureRequest) -> None:
    what = plan(command)
    if isinstance(what, str):
        pytest.skip(what)
    program = command.split()[0]
    if program in ("sqlite3", "openssl", "git") and shutil.which(program) is None:
        pytest.skip(f"needs {program} (scripts/system-packages.sh)")
    stack: Stack = request.getfixturevalue("stack")
    values = what.setup(stack)
    for placeholder, value in values.items():
        command = command.replace(placeholder, value)
    if command.endswith(("calls:active_count 7", "calls:active_count 0")):
        ran = run(command, stack)
        what.check(ran, stack)
        # the runbook's correction: overwritten from the leases within 2 s
        stack.wait(lambda: stack.redis_cli("GET", "calls:active_count") == "0", 5, "calls:active_count back to 0")
        return
    ran = run(command, stack)
    what.check(ran, stack)
