"""``/api/ops`` on SQLite and Postgres with the real Redis: system admins only; the overview reads
the calls instances, queues, dead letters, RQ workers, the scheduler leader and every gateway
shard's ``/health`` (a live HTTP server and a closed port); dead letters made by a real
``python -m jobs.worker --burst`` are listed, shown, requeued and purged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from rq import Queue, Worker
from rq.serializers import JSONSerializer

from api.app import create_app
from api.responses import DeadLetterDetail, DeadLetterPage, OpsOverview
from api.routes.ops import instance_json
from jobs.leader import LOCK_KEY
from tests.api.conftest import REDIS_URL, login, make_admin, make_tenant
from tests.conftest import free_port
from tests.jobs.workerproc import run_burst

JOBS = "tests.jobs.worker_jobs."


@pytest.fixture
def shard_server() -> Iterator[str]:
    """A gateway shard's ``/health`` on a real port (shard 1, two sessions connected)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = json.dumps({"status": "ok", "shard_id": 1, "sessions": {"connected": 2, "qr": 1}}).encode()
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def rq_redis(redis_client: redis.Redis) -> Iterator[redis.Redis]:
    """RQ's client (bytes) on the test database (emptied by ``redis_client``)."""
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def make_dead(rq_redis: redis.Redis) -> None:
    """Two dead jobs, by a real worker: ``low-job`` (permanent) then ``default-job``."""
    Queue("low", connection=rq_redis, serializer=JSONSerializer).enqueue(
        JOBS + "fail_permanently", "the row is gone", job_id="low-job")
    assert run_burst(REDIS_URL).returncode == 0
    Queue("default", connection=rq_redis, serializer=JSONSerializer).enqueue(
        JOBS + "fail_permanently", "bad payload", job_id="default-job")
    assert run_burst(REDIS_URL).returncode == 0
    assert rq_redis.llen("rq:queue:failed") == 2


async def test_ops_routes_are_for_system_admins_only(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    routes = [("GET", "/api/ops/overview"), ("GET", "/api/ops/dead-letters"), ("GET", "/api/ops/dead-letters/x"),
              ("POST", "/api/ops/dead-letters/x/requeue"), ("DELETE", "/api/ops/dead-letters/x")]
    for method, path in routes:
        assert (await client.open(path, method=method)).status_code == 401, path
    for email in (tenant.agent_email, tenant.owner_email):
        headers = await login(client, email)
        for method, path in routes:
            resp = await client.open(path, method=method, headers=headers)
            body = await resp.get_json()
            assert resp.status_code == 403 and body["error"]["code"] == "role_required", (email, path, body)
        await client.post("/api/auth/logout", headers=headers)
    headers = await login(client, make_admin(db))
    resp = await client.open("/api/ops/dead-letters/x", method="DELETE", headers=headers)
    assert resp.status_code == 404  # the admin passes the role check; there is no such job


def test_an_instance_hash_reads_typed_and_an_expired_one_as_not_live() -> None:
    assert instance_json("calls-1", {"active": "3", "capacity": "50", "pending": "1", "draining": "1",
                                     "started_at": "1765000000", "version": "0.4.0"}) == {
        "id": "calls-1", "active": 3, "capacity": 50, "pending": 1, "draining": True, "version": "0.4.0",
        "started_at": "2025-12-06T05:46:40+00:00", "live": True}
    gone = instance_json("calls-2", {})
    assert gone["live"] is False and gone["active"] is None and gone["started_at"] is None


async def test_overview_reads_every_part(api_settings: Any, db: Any, redis_client: redis.Redis,
                                         rq_redis: redis.Redis, shard_server: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = replace(api_settings, baileys_shard_urls=(shard_server, closed), shard_probe_timeout_seconds=1.0)
    redis_client.sadd("calls:instances", "calls-a", "calls-b")
    redis_client.hset("calls:instance:calls-a", mapping={"active": "2", "capacity": "50", "pending": "0",
                                                          "draining": "0", "started_at": "1765000000", "version": "1.2"})
    redis_client.set(LOCK_KEY, "17:sched-host-1", px=20_000)
    worker = Worker(["high", "default"], connection=rq_redis, name="worker-test-1", serializer=JSONSerializer)
    worker.register_birth()
    worker.heartbeat()
    make_dead(rq_redis)
    redis_client.rpush("rq:queue:high", "queued-1")  # after the burst worker, which would take it
    app = create_app(settings)
    try:
        async with app.test_app() as test_app:
            client = test_app.test_client()
            await login(client, make_admin(db))
            resp = await client.get("/api/ops/overview")
            body = await resp.get_json()
    finally:
        app.extensions["prosaas"].close()
        worker.register_death()
    assert resp.status_code == 200, body
    OpsOverview.model_validate(body)
    assert [i["id"] for i in body["instances"]] == ["calls-a", "calls-b"]
    assert body["instances"][0]["active"] == 2 and body["instances"][0]["live"] is True
    assert body["instances"][1]["live"] is False
    assert {"name": "high", "depth": 1} in body["queues"] and body["queues"][-1] == {"name": "failed", "depth": 2}
    assert body["dead_letters"] == 2
    [listed] = [w for w in body["workers"] if w["name"] == "worker-test-1"]
    assert listed["queues"] == ["high", "default"] and listed["last_heartbeat"] is not None
    assert listed["current_job"] is None and listed["state"]
    assert body["scheduler"]["leader"] == "sched-host-1" and body["scheduler"]["token"] == 17
    assert 0 < body["scheduler"]["expires_in_ms"] <= 20_000
    first, second = body["gateway_shards"]
    assert first == {"shard": 1, "url": shard_server, "healthy": True, "state": "ok",
                     "sessions": {"connected": 2, "qr": 1}, "detail": None}
    assert second["shard"] == 2 and second["healthy"] is False and second["state"] == "unreachable"


async def test_overview_without_a_leader_or_redis(app: Any, db: Any) -> None:
    client = app.test_client()
    await login(client, make_admin(db))
    body = await (await client.get("/api/ops/overview")).get_json()
    assert body["scheduler"] is None and body["instances"] == [] and body["gateway_shards"] == []
    rt = app.app.extensions["prosaas"]
    from api.runtime import make_redis

    dead = f"redis://127.0.0.1:{free_port()}/0"
    live, rt.redis = rt.redis, make_redis(dead, pool_size=2)
    try:
        resp = await client.get("/api/ops/overview")
    finally:
        rt.redis.close()
        rt.redis = live
    assert resp.status_code == 503 and (await resp.get_json())["error"]["code"] == "redis_unavailable"


async def test_dead_letters_list_show_requeue_purge(client: Any, db: Any, rq_redis: redis.Redis) -> None:
    make_dead(rq_redis)
    headers = await login(client, make_admin(db))
    page = await (await client.get("/api/ops/dead-letters?per_page=1")).get_json()
    DeadLetterPage.model_validate(page)
    assert (page["total"], page["pages"], len(page["items"])) == (2, 2, 1)
    newest = page["items"][0]
    assert newest["id"] == "default-job" and newest["queue"] == "default"
    assert newest["function"] == JOBS + "fail_permanently"
    assert newest["reason"] == "PermanentJobError: bad payload" and newest["error"] == "PermanentJobError"
    second = await (await client.get("/api/ops/dead-letters?per_page=1&page=2")).get_json()
    assert [d["id"] for d in second["items"]] == ["low-job"]
    beyond = await (await client.get("/api/ops/dead-letters?page=5")).get_json()
    assert beyond["items"] == [] and beyond["total"] == 2

    detail = await (await client.get("/api/ops/dead-letters/low-job")).get_json()
    DeadLetterDetail.model_validate(detail)
    assert detail["args"] == {"args": ["the row is gone"], "kwargs": {}}
    assert "Traceback (most recent call last)" in detail["traceback"]
    assert (await client.get("/api/ops/dead-letters/no-such-job")).status_code == 404
    assert (await client.get("/api/ops/dead-letters/bad%20id")).status_code == 404

    requeued = await client.post("/api/ops/dead-letters/low-job/requeue", headers=headers)
    assert requeued.status_code == 200
    assert await requeued.get_json() == {"id": "low-job", "queue": "low", "retries": 0}
    assert rq_redis.lrange("rq:queue:low", 0, -1) == [b"low-job"]
    assert rq_redis.lrange("rq:queue:failed", 0, -1) == [b"default-job"]
    again = await client.post("/api/ops/dead-letters/low-job/requeue", headers=headers)
    assert again.status_code == 404 and (await again.get_json())["error"]["code"] == "dead_letter_not_found"

    purged = await client.delete("/api/ops/dead-letters/default-job", headers=headers)
    assert purged.status_code == 204
    assert rq_redis.llen("rq:queue:failed") == 0 and not rq_redis.exists("rq:job:default-job")
    assert (await client.delete("/api/ops/dead-letters/default-job", headers=headers)).status_code == 404
