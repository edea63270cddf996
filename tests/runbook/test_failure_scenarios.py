"""docs/RUNBOOK.md's "Common Failure Scenarios", each made to happen on the local stack and
recovered with the runbook's step (the local form of its ``docker compose restart``: stop or
kill the process, start its Procfile line again).

One stack for the module (tests/runbook/conftest.py); each scenario leaves it healthy for the
next. Calls are real: the signed voice webhook to the API, then the calls service's stream
(``python -m callengine.loadtest``, a synthetic caller).
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest
import requests

from tests.runbook.conftest import NEEDS
from tests.runbook.runbook import (
    DEGRADED,
    DRAINING,
    RUNBOOK,
    documents,
    local_result,
    matches,
    parse_documented,
)
from tests.runbook.stack import DEMO_NUMBER, Stack

pytestmark = NEEDS

QUEUES = ("high", "default", "low", "broadcasts")
LEASE_REWRITE_SECONDS = 2.0  # the runbook: calls:active_count is "true within 2 s"


@contextmanager
def _database(stack: Stack) -> Iterator[sqlite3.Connection]:
    """The stack's SQLite database; committed and closed after (Python 3.13 warns about a
    connection left to the garbage collector)."""
    with closing(sqlite3.connect(stack.var / "prosaas.db", timeout=10)) as db, db:
        yield db


def _unstored(stack: Stack) -> int:
    """Calls whose record the worker has not stored yet (the voice webhook makes the row, the
    finalize job fills it in)."""
    with _database(stack) as db:
        return int(db.execute('SELECT count(*) FROM "call" WHERE finalized_at IS NULL').fetchone()[0])


@pytest.fixture(autouse=True)
def _healthy(stack: Stack) -> None:
    """Each scenario starts on the whole stack, every earlier call stored."""
    stack.ensure_up()
    stack.wait(lambda: _queued(stack) == 0 and _unstored(stack) == 0, 60, "the earlier calls stored", "worker")


def _queued(stack: Stack) -> int:
    return sum(int(stack.redis_cli("LLEN", f"rq:queue:{q}")) for q in QUEUES)


def _active_count(stack: Stack) -> str:
    return stack.redis_cli("GET", "calls:active_count")


def test_api_down_nginx_answers_502_then_recovers(stack: Stack) -> None:
    assert stack.get("nginx", "/api/health").status_code == 200
    stack.kill("api")
    assert stack.get("nginx", "/api/health").status_code == 502  # the runbook's symptom
    with pytest.raises(requests.ConnectionError):
        stack.get("api", "/api/health")  # step 2's curl gets no answer
    stack.start("api")  # step 4, restart
    assert stack.get("nginx", "/api/health").json() == {"status": "ok", "version": "0.1.0"}
    assert stack.get("api", "/readyz").json() == {"status": "ready", "failing": []}


def test_stuck_calls_count_is_rewritten_from_the_leases(stack: Stack) -> None:
    call = stack.call(8)
    try:
        stack.wait(lambda: _active_count(stack) == "1", 20, "calls:active_count 1 during the call", "calls")
        (sid, _expiry) = stack.redis_cli("ZRANGE", "calls:active", "0", "-1", "WITHSCORES").split()
        assert sid.startswith("CA")
        assert stack.redis_cli("SET", "calls:active_count", "0") == "OK"  # step 4 as the operator wrote it
        took = stack.wait(lambda: _active_count(stack) == "1", 10, "calls:active_count rewritten to 1", "calls")
        assert took < LEASE_REWRITE_SECONDS + 1.5, f"rewritten after {took:.1f} s"  # slack: a busy machine
    finally:
        call.finish()
    stack.wait(lambda: _active_count(stack) == "0", 10, "calls:active_count 0 after the call", "calls")
    assert stack.redis_cli("ZRANGE", "calls:active", "0", "-1", "WITHSCORES") == ""


def test_worker_down_jobs_wait_then_run_when_it_restarts(stack: Stack) -> None:
    stack.stop("worker")  # warm shutdown, as `docker compose stop worker` does
    assert stack.python("-m", "jobs.health").returncode != 0
    stack.call(2).finish()
    stack.wait(lambda: _queued(stack) >= 1, 20, "the call's finalize job queued", "calls")
    time.sleep(1.0)
    assert _queued(stack) >= 1 and _unstored(stack) == 1  # it waits: no worker takes it
    stack.start("worker")  # step 5, restart
    stack.wait(lambda: _queued(stack) == 0 and _unstored(stack) == 0, 60, "the queue drained", "worker")
    assert stack.redis_cli("LLEN", "rq:queue:failed") == "0"


def test_gateway_down_and_restarted_restores_its_sessions(stack: Stack) -> None:
    with _database(stack) as db:
        (business,) = db.execute("SELECT id FROM business WHERE phone_e164 = ?", (DEMO_NUMBER,)).fetchone()
    stack.gateway("POST", f"/sessions/{business}/start")
    stack.gateway("POST", f"/fake/{business}/scan", {})

    def connected() -> bool:
        return bool(stack.get("whatsapp", "/health").json()["sessions"]["connected"] == 1)

    stack.wait(connected, 20, "the session connected", "whatsapp")
    assert stack.stop("whatsapp") == 0  # SIGTERM: drains its events, then exits
    down = stack.get("api", "/health/whatsapp")
    assert down.status_code == 503, down.text
    degraded = parse_documented(local_result(DEGRADED, stack.env["BAILEYS_SHARD_1_URL"]))
    assert not matches(down.json(), degraded), (matches(down.json(), degraded), down.text)
    stack.start("whatsapp")  # step 5, restart: sessions restored from the data directory, no QR
    stack.wait(connected, 30, "the session restored, connected", "whatsapp")
    assert stack.gateway("GET", f"/sessions/{business}")["state"] == "connected"
    stack.wait(lambda: stack.get("api", "/health/whatsapp").status_code == 200, 20, "the API's shard probe ok", "api")


def test_calls_service_drains_on_sigterm(stack: Stack) -> None:
    """"Draining a calls instance": SIGTERM with a live call, DRAIN_TIMEOUT_SECONDS=5."""
    assert stack.env["DRAIN_TIMEOUT_SECONDS"] == "5"
    log_start = stack.log("calls").stat().st_size
    call = stack.call(15)
    stack.wait(lambda: stack.get("calls", "/health").json()["active_calls"] == 1, 20, "the call live", "calls")
    stack.procs["calls"].send_signal(signal.SIGTERM)
    stack.wait(lambda: stack.get("calls", "/health").status_code == 503, 5, "503 draining", "calls")
    draining = stack.get("calls", "/health").json()
    assert not matches(draining, parse_documented(DRAINING)), (matches(draining, parse_documented(DRAINING)), draining)
    assert stack.procs["calls"].wait(timeout=30) == 0
    call.proc.communicate(timeout=30)  # closed with 1001 by the drain
    log = stack.log("calls").read_bytes()[log_start:].decode(errors="replace")
    for line in ("callengine: SIGTERM: draining", "callengine.server.serve: draining: 1 live calls, up to 5 s",
                 "callengine.server.serve: drain deadline reached: ending 1 calls", "callengine.server.serve: drained"):
        assert line in log, f"{line!r} not logged:\n{log[-3000:]}"
        assert documents(RUNBOOK.read_text(), line)
    stack.start("calls")
    stack.wait(lambda: _active_count(stack) == "0", 20, "calls:active_count 0", "calls")


def test_redis_down_calls_continue_and_everything_reconnects(stack: Stack) -> None:
    call = stack.call(10)
    stack.wait(lambda: _active_count(stack) == "1", 20, "the call live", "calls")
    stack.kill("redis")  # down, not stopped: no final save beyond the AOF
    try:
        ready = stack.get("api", "/readyz")
        assert ready.status_code == 503 and ready.json()["failing"] == ["redis"], ready.text
        health = stack.get("calls", "/health")
        assert health.status_code == 200 and health.json()["active_calls"] == 1, health.text
        stack.wait(lambda: stack.get("calls", "/health").json()["redis"]["reachable"] is False, 10,
                   "the calls service to see Redis down", "calls")
        time.sleep(3)  # the call goes on without Redis
        assert stack.get("calls", "/health").json()["active_calls"] == 1
    finally:
        stack.start("redis")  # step 2, restart: same port, same data directory
    results = call.finish()
    assert (results["calls"]["completed"], results["calls"]["failed"]) == (1, 0), results["calls"]
    for name in ("api", "calls", "worker", "scheduler"):
        assert stack.running(name), f"{name} died while Redis was down\n{stack.tail(name)}"
    stack.wait(lambda: stack.get("api", "/readyz").status_code == 200, 30, "the API ready again", "api")
    stack.wait(lambda: stack.get("calls", "/health").json()["redis"]["reachable"], 30, "calls reconnected", "calls")
    stack.wait(lambda: _active_count(stack) == "0", 30, "calls:active_count reported again", "calls")
    stack.wait_up("worker")
    stack.wait_up("scheduler")
    # the record of the call made during the outage is stored once Redis answers
    stack.wait(lambda: _unstored(stack) == 0, 60, "the call stored", "calls", "worker")


def test_failed_migration_refuses_to_start_then_rerun_succeeds(stack: Stack) -> None:
    """The database is left at 0004 holding an index 0005 creates (a half-done upgrade)."""
    for name in ("api", "worker", "scheduler"):
        stack.stop(name)
    downgraded = stack.python("-c", "import os, sys; from alembic import command; from api.migrate import "
                              "alembic_config; command.downgrade(alembic_config(os.environ['DATABASE_URL']), '0004')")
    assert downgraded.returncode == 0, downgraded.stderr
    with _database(stack) as db:
        db.execute("CREATE INDEX ix_broadcast_business_created ON broadcast (business_id)")
    failed = stack.python("-m", "api.migrate")  # step 1: the logs end with the error
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("api.migrate: upgrade from 0004 to 0005 failed, the database is still at 0004: "), last
    assert "ix_broadcast_business_created already exists" in last
    api = stack.start("api", wait=False)  # the service refuses to start, naming the problem
    assert api.wait(timeout=60) == 1
    refusal = "api: database at 0004, head is 0005: run python -m api.migrate"
    assert refusal in stack.tail("api") and documents(RUNBOOK.read_text(), f"`{refusal}`")
    assert documents(RUNBOOK.read_text(), f"`{last}`"), f"the runbook does not quote {last!r}"
    for name in ("worker", "scheduler"):  # the jobs refuse too (they would fail job by job)
        assert stack.start(name, wait=False).wait(timeout=60) == 1
        assert f"jobs.{name}: database at 0004, head is 0005: run python -m api.migrate" in stack.tail(name)
    with _database(stack) as db:
        db.execute("DROP INDEX ix_broadcast_business_created")  # step 2: fix the cause
    rerun = stack.python("-m", "api.migrate")  # step 3: re-run
    assert rerun.returncode == 0 and rerun.stdout.strip() == "database upgraded from 0004 to 0005", rerun.stderr
    for name in ("api", "worker", "scheduler"):  # step 4: the services start
        stack.start(name)
    assert stack.get("api", "/readyz").json() == {"status": "ready", "failing": []}
