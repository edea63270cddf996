"""``/api/ops``: the system's moving parts, for system admins only (403 for everyone else).

* ``GET /api/ops/overview``: calls-service instances (``calls:instances`` and each
  ``calls:instance:{id}`` hash), queue depths, the dead-letter count, the RQ workers, the
  scheduler leader and every WhatsApp gateway shard's ``/health`` (probed in parallel, each
  within ``BAILEYS_PROBE_TIMEOUT_SECONDS``).
* ``/api/ops/dead-letters``: list (newest first), detail, requeue, purge: what
  ``python -m jobs failed …`` does, through the same facade (``jobs.admin``).

Everything but the shards lives in Redis: Redis down is 503 ``redis_unavailable``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import trio
from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring
from redis import RedisError

from api.auth import authenticated
from api.db.models import Role
from api.errors import Conflict, NotFound, Unavailable
from api.openapi import responds
from api.responses import DeadLetterDetail, DeadLetterPage, OpsOverview, Requeued
from api.routes.health import probe_shards
from api.runtime import current_runtime
from api.schemas import DeadLettersQuery, NoQuery
from api.security import Caller
from api.services.dashboard import queue_list
from contracts import keys as call_keys
from jobs import admin as jobs_admin

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["bp", "dead_letter_json", "instance_json"]

T = TypeVar("T")
bp = Blueprint("ops", __name__, url_prefix="/api/ops")
tag_blueprint(bp, ["ops"])
JOB_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")  # RQ ids: uuid4 hex, or ours (contracts.jobs)
ERROR_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*(?:Error|Exception|Exit|Interrupt|Timeout))\b")
RETRY_AFTER_SECONDS = 5


async def _jobs(fn: Callable[..., T], *args: Any) -> T:
    """``fn(client, *args)`` on the RQ client (bytes, as RQ stores them), in a Redis thread."""
    rt = current_runtime()
    try:
        return await trio.to_thread.run_sync(fn, rt.queue_redis(), *args, limiter=rt.redis_limiter)
    except RedisError as exc:
        raise Unavailable("Redis is unreachable", code="redis_unavailable", details=str(exc),
                          retry_after_seconds=RETRY_AFTER_SECONDS) from exc


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def instance_json(instance_id: str, fields: dict[str, str]) -> dict[str, Any]:
    """One calls-service instance from its hash (pure); an expired hash reads as not live."""
    started = _int(fields.get("started_at"))
    return {
        "id": instance_id,
        "active": _int(fields.get("active")),
        "capacity": _int(fields.get("capacity")),
        "pending": _int(fields.get("pending")),
        "draining": fields.get("draining") == "1",
        "version": fields.get("version") or None,
        "started_at": datetime.fromtimestamp(started, UTC).isoformat() if started is not None else None,
        "live": bool(fields),
    }


def _instances(client: Redis) -> list[dict[str, Any]]:
    ids = sorted(str(i) for i in client.smembers(call_keys.INSTANCES))
    with client.pipeline(transaction=False) as pipe:
        for instance_id in ids:
            pipe.hgetall(call_keys.instance(instance_id))
        hashes = pipe.execute()
    return [instance_json(i, dict(h)) for i, h in zip(ids, hashes, strict=True)]


def dead_letter_json(dead: jobs_admin.DeadJob, *, details: bool = False) -> dict[str, Any]:
    """A dead letter as the API shows it (pure); ``error`` is the exception class the reason names."""
    found = ERROR_NAME.match(dead.reason)
    body: dict[str, Any] = {
        "id": dead.id, "function": dead.func, "queue": dead.queue, "reason": dead.reason,
        "error": found.group(1) if found else None, "failed_at": dead.failed_at,
    }
    if details:
        body.update(args=dead.args, traceback=dead.traceback, retries_left=dead.retries_left)
    return body


def _worker_json(worker: jobs_admin.WorkerInfo) -> dict[str, Any]:
    return {
        "name": worker.name, "hostname": worker.hostname, "pid": worker.pid, "queues": list(worker.queues),
        "state": worker.state, "current_job": worker.current_job,
        "last_heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
    }


def _shard_json(shard: str, probe: dict[str, Any]) -> dict[str, Any]:
    health = probe.get("health")
    return {
        "shard": int(shard), "url": probe["url"], "healthy": probe["state"] == "ok", "state": probe["state"],
        "sessions": health.get("sessions") if isinstance(health, dict) else None,
        "detail": probe.get("detail"),
    }


def _job_id(job_id: str) -> str:
    if not JOB_ID.fullmatch(job_id):
        raise NotFound(f"no dead job {job_id[:80]!r}", code="dead_letter_not_found")
    return job_id


@bp.get("/overview")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(NoQuery)
@responds(200, "instances, queues, dead letters, workers, the scheduler leader, gateway shards", model=OpsOverview)
@responds(503, "Redis is unreachable")
async def overview(caller: Caller, query_args: NoQuery) -> Response:
    """Operations overview (system admins)"""
    rt = current_runtime()
    settings = rt.settings

    def jobs_state(client: Redis) -> dict[str, Any]:
        leader = jobs_admin.scheduler_leader(client)
        return {
            "queues": queue_list(jobs_admin.queue_depths(client), dead := jobs_admin.dead_letter_count(client)),
            "dead_letters": dead,
            "workers": [_worker_json(w) for w in jobs_admin.list_workers(client)],
            "scheduler": None if leader is None else {
                "leader": leader.replica, "token": leader.token, "expires_in_ms": leader.expires_in_ms},
        }

    shards: dict[str, Any] = {}
    body: dict[str, Any] = {}
    failed: list[Unavailable] = []

    async def probe() -> None:
        shards.update(await probe_shards(settings.baileys_shard_urls, settings.shard_probe_timeout_seconds))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(probe)  # in parallel with the Redis reads
        try:
            body["instances"] = await rt.redis_call(_instances)
            body.update(await _jobs(jobs_state))
        except Unavailable as exc:  # raised outside the nursery: not wrapped in an exception group
            failed.append(exc)
            nursery.cancel_scope.cancel()
    if failed:
        raise failed[0]
    body["gateway_shards"] = [_shard_json(n, p) for n, p in shards.items()]
    body["generated_at"] = datetime.now(UTC).isoformat()
    return jsonify(body)


@bp.get("/dead-letters")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(DeadLettersQuery)
@responds(200, "a page of dead jobs, newest first", model=DeadLetterPage)
@responds(503, "Redis is unreachable")
async def list_dead_letters(caller: Caller, query_args: DeadLettersQuery) -> Response:
    """List dead letters (system admins)"""
    page, per_page = query_args.page, query_args.per_page
    items, total = await _jobs(
        lambda client: jobs_admin.list_dead_letters(client, offset=(page - 1) * per_page, limit=per_page))
    return jsonify({"items": [dead_letter_json(d) for d in items], "page": page, "per_page": per_page,
                    "total": total, "pages": (total + per_page - 1) // per_page})


@bp.get("/dead-letters/<job_id>")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(NoQuery)
@responds(200, "the dead job with its arguments and traceback", model=DeadLetterDetail)
@responds(404, "no dead job with this id")
@responds(503, "Redis is unreachable")
async def get_dead_letter(caller: Caller, query_args: NoQuery, job_id: str) -> Response:
    """Dead letter detail (system admins)"""
    job_id = _job_id(job_id)
    try:
        dead = await _jobs(jobs_admin.show_dead_letter, job_id)
    except jobs_admin.UnknownDeadJob:
        raise NotFound(f"no dead job {job_id!r}", code="dead_letter_not_found") from None
    return jsonify(dead_letter_json(dead, details=True))


@bp.post("/dead-letters/<job_id>/requeue")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(NoQuery)
@responds(200, "back on its original queue with fresh retries", model=Requeued)
@responds(404, "no dead job with this id")
@responds(409, "the job's data cannot be read: purge it instead")
@responds(503, "Redis is unreachable")
async def requeue_dead_letter(caller: Caller, query_args: NoQuery, job_id: str) -> Response:
    """Requeue a dead letter (system admins)"""
    job_id = _job_id(job_id)
    try:
        queue, retries = await _jobs(jobs_admin.requeue_dead_letter, job_id)
    except jobs_admin.UnknownDeadJob:
        raise NotFound(f"no dead job {job_id!r}", code="dead_letter_not_found") from None
    except ValueError as exc:
        raise Conflict(str(exc), code="dead_letter_unreadable") from exc
    return jsonify({"id": job_id, "queue": queue, "retries": retries})


@bp.delete("/dead-letters/<job_id>")
@authenticated(Role.SYSTEM_ADMIN)
@validate_querystring(NoQuery)
@responds(204, "deleted for good", content=None)
@responds(404, "no dead job with this id")
@responds(503, "Redis is unreachable")
async def purge_dead_letter(caller: Caller, query_args: NoQuery, job_id: str) -> tuple[str, int]:
    """Purge a dead letter (system admins)"""
    job_id = _job_id(job_id)
    try:
        await _jobs(jobs_admin.purge_dead_letter, job_id)
    except jobs_admin.UnknownDeadJob:
        raise NotFound(f"no dead job {job_id!r}", code="dead_letter_not_found") from None
    return "", 204
