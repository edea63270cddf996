"""Runbook probes: liveness, readiness, version, metrics and WhatsApp shard health."""

from __future__ import annotations

import hmac
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import trio
from quart import Blueprint, jsonify, request
from quart_schema import security_scheme, tag_blueprint
from sqlalchemy import text

from api import __version__
from api.errors import Unauthorized
from api.metrics import read_metrics
from api.migrate import current_revision, head_revision
from api.openapi import TOKEN, responds
from api.responses import Health, Readiness, VersionInfo, WhatsAppHealth
from api.runtime import current_runtime
from api.version import build_info
from contracts import keys as call_keys
from contracts.keys import ALL_QUEUES, DEAD_LETTER

if TYPE_CHECKING:
    import redis
    from quart import Response

__all__ = ["bp", "probe_shards"]

bp = Blueprint("health", __name__)
tag_blueprint(bp, ["runbook"])
READY_CHECK_TIMEOUT_SECONDS = 3.0  # each check; a hung dependency reads as "not ready"


@bp.get("/api/health")
@responds(200, "the process is up", model=Health)
async def health() -> Response:
    """Liveness: process up, version"""
    return jsonify({"status": "ok", "version": __version__})


async def _check(fn: Any, *args: Any) -> tuple[bool, str]:
    """Run a blocking check in a thread, abandoning it after the timeout (threads cannot be
    cancelled; the thread finishes on its own and its result is dropped)."""
    with trio.move_on_after(READY_CHECK_TIMEOUT_SECONDS):
        try:
            return await trio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)
        except Exception as exc:
            return False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return False, f"timed out after {READY_CHECK_TIMEOUT_SECONDS:g}s"


def _internal_token_given(rt: Any) -> bool:
    """Whether ``?token=`` is INTERNAL_SECRET; absent is ``False``.

    Raises:
        Unauthorized: a token was given and it is wrong (or none is configured).
    """
    token = request.args.get("token")
    if token is None:
        return False
    expected = rt.settings.internal_secret.reveal()
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("a valid ?token= (INTERNAL_SECRET) is required", code="bad_token")
    return True


@bp.get("/readyz")
@security_scheme([{}, {TOKEN: []}])
@responds(200, "ready", model=Readiness)
@responds(401, "a ?token= was given and it is wrong")
@responds(503, "a check failed (named in failing; with the token, each check's detail too)", model=Readiness,
          error=False)
async def readyz() -> tuple[Response, int]:
    """Readiness: database, migrations, Redis

    Anyone may ask; the answer names the failing checks and nothing else (a driver's error text
    carries hosts, ports and names). With ``?token=`` (INTERNAL_SECRET, as for /metrics.json)
    it also gives each check's detail.
    """
    rt = current_runtime()
    detailed = _internal_token_given(rt)

    def database() -> tuple[bool, str]:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True, "reachable"

    def migrations() -> tuple[bool, str]:
        current, head = current_revision(rt.engine), head_revision()
        if current != head:
            return False, f"database at {current or 'nothing'}, head is {head}: run python -m api.migrate"
        return True, f"at head ({head})"

    def redis_ping() -> tuple[bool, str]:
        rt.redis.ping()
        return True, "reachable"

    checks: dict[str, dict[str, Any]] = {}
    db_ok, db_detail = await _check(database)
    checks["database"] = {"ok": db_ok, "detail": db_detail}
    if db_ok:
        ok, detail = await _check(migrations)
    else:
        ok, detail = False, "skipped: database unreachable"
    checks["migrations"] = {"ok": ok, "detail": detail}
    ok, detail = await _check(redis_ping)
    checks["redis"] = {"ok": ok, "detail": detail}
    failing = [name for name, check in checks.items() if not check["ok"]]
    status = "ready" if not failing else "not_ready"
    body: dict[str, Any] = {"status": status, "failing": failing}
    if detailed:
        body["checks"] = checks
    return jsonify(body), 200 if not failing else 503


@bp.get("/version")
@responds(200, "package version, git commit, build time", model=VersionInfo)
async def version() -> Response:
    """Package version, git commit, build time"""
    return jsonify(build_info(current_runtime().settings))


def _snapshot(client: redis.Redis) -> dict[str, Any]:
    pipe = client.pipeline(transaction=False)
    pipe.get(call_keys.ACTIVE_COUNT)
    pipe.get(call_keys.CAPACITY)
    for name in (*ALL_QUEUES, DEAD_LETTER):
        pipe.llen(f"rq:queue:{name}")
        pipe.zcard(f"rq:failed:{name}")
        pipe.zcard(f"rq:wip:{name}")
        pipe.zcard(f"rq:scheduled:{name}")
    values = pipe.execute()
    active, capacity, rest = values[0], values[1], values[2:]
    queues = {}
    for i, name in enumerate((*ALL_QUEUES, DEAD_LETTER)):
        queued, failed, started, scheduled = rest[4 * i : 4 * i + 4]
        queues[name] = {"queued": queued, "failed": failed, "started": started, "scheduled": scheduled}
    return {
        "calls": {
            "active_count": int(active) if active is not None else None,
            "capacity": int(capacity) if capacity is not None else None,
        },
        "queues": queues,
        "routes": read_metrics(client),
    }


@bp.get("/metrics.json")
@security_scheme([{TOKEN: []}])
@responds(200, "request, call, queue and shard metrics")
@responds(401, "missing or wrong token")
async def metrics_json() -> Response:
    """Request, call, queue and shard metrics"""
    rt = current_runtime()
    expected = rt.settings.internal_secret.reveal()
    token = request.args.get("token", "")
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("a valid ?token= (INTERNAL_SECRET) is required", code="bad_token")
    await rt.redis_call(rt.extras["metrics"].flush)  # this worker's latest numbers too
    body = await rt.redis_call(_snapshot)
    body["whatsapp"] = {"shards": await probe_shards(rt.settings.baileys_shard_urls, rt.settings.shard_probe_timeout_seconds)}
    body["generated_at"] = time.time()
    return jsonify(body)


def _probe(url: str, timeout: float, shard: int | None = None) -> dict[str, Any]:
    """One shard's ``GET /health``: ``ok`` only for a 200 whose body says ``"status": "ok"``
    and, when ``shard`` is given, ``"shard_id"`` equal to it (a swapped BAILEYS_SHARD_N_URL
    would send a business's traffic to a shard that answers 421)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as resp:  # noqa: S310 (configured http URL)
            raw = resp.read(64 * 1024)
            status = resp.status
    except urllib.error.HTTPError as exc:  # e.g. 503 while the shard drains
        health: Any = None
        try:
            health = json.loads(exc.read(64 * 1024))
        except (OSError, ValueError):
            pass
        return {"url": url, "state": "unhealthy", "status": exc.code, "detail": str(exc.reason), "health": health}
    except (OSError, ValueError) as exc:
        return {"url": url, "state": "unreachable", "detail": str(getattr(exc, "reason", exc))}
    body: Any
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    result: dict[str, Any] = {
        "url": url,
        "state": "ok",
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "health": body,
    }
    reported = body.get("status") if isinstance(body, dict) else None
    if status != 200 or reported != "ok":
        result["state"] = "unhealthy"
        result["detail"] = f"HTTP {status}, status {reported!r}" if isinstance(body, dict) else f"HTTP {status}, not JSON"
    elif shard is not None and body.get("shard_id") != shard:
        result["state"] = "wrong_shard"
        result["detail"] = f"answers as shard {body.get('shard_id')!r}: check BAILEYS_SHARD_{shard}_URL"
    return result


async def probe_shards(urls: tuple[str, ...], timeout: float) -> dict[str, Any]:
    """Every shard's ``/health`` in parallel, each bounded by ``timeout``; by shard number
    (``"1"``, ``"2"``, …). Never raises: an unreachable shard is a result."""
    results: dict[str, Any] = {}

    async def one(n: int, url: str) -> None:
        result: dict[str, Any] = {"url": url, "state": "unreachable", "detail": f"no answer within {timeout:g}s"}
        with trio.move_on_after(timeout + 0.5):
            result = await trio.to_thread.run_sync(_probe, url, timeout, n, abandon_on_cancel=True)
        results[str(n)] = result

    async with trio.open_nursery() as nursery:
        for n, url in enumerate(urls, start=1):
            nursery.start_soon(one, n, url)
    return dict(sorted(results.items(), key=lambda kv: int(kv[0])))


@bp.get("/health/whatsapp")
@responds(200, "all shards healthy", model=WhatsAppHealth)
@responds(503, "a shard is unreachable or unhealthy", model=WhatsAppHealth, error=False)
async def health_whatsapp() -> tuple[Response, int]:
    """Per-shard WhatsApp gateway health"""
    settings = current_runtime().settings
    shards = await probe_shards(settings.baileys_shard_urls, settings.shard_probe_timeout_seconds)
    healthy = all(shard["state"] == "ok" for shard in shards.values())
    return jsonify({"status": "ok" if healthy else "degraded", "shards": shards}), 200 if healthy else 503
