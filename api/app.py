"""``create_app(settings)``: the composition root of the API.

Builds the ``Runtime`` (engine, Redis, limiters), registers one blueprint per resource,
quart-schema (request validation and the OpenAPI document), the JSON error handlers, CSRF and
session loading, and the request-metrics hooks.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import trio
from hypercorn.middleware import ProxyFixMiddleware
from quart import Response, g, jsonify, request
from quart_schema import RequestSchemaValidationError
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from api.errors import ApiError, PayloadTooLarge, TooManyRequests, Unavailable
from api.event_hub import HubLimits, redis_event_hub
from api.metrics import FLUSH_INTERVAL_SECONDS, RequestMetrics
from api.openapi import init_openapi
from api.runtime import EXTENSION, Runtime
from api.schemas import IdConverter
from api.security import csrf_protect
from api.shedding import LoadShedder
from api.validation import UPLOAD_PATHS, ApiRequest, schema_error

if TYPE_CHECKING:
    from api.settings import Settings

__all__ = ["create_app"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1 << 20  # JSON bodies and Twilio's form posts are small


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> QuartTrio:
    """Build the app. ``runtime`` lets tests inject clients (e.g. a fake Twilio HTTP client)."""
    from api.routes import BLUEPRINTS

    app = QuartTrio("api")
    app.request_class = ApiRequest.for_uploads(settings.max_upload_bytes)
    app.config.update(
        SECRET_KEY=settings.secret_key.reveal(),
        SESSION_COOKIE_NAME="prosaas_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.production,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_max_age_seconds),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        BACKGROUND_TASK_SHUTDOWN_TIMEOUT=5,
    )
    if settings.trusted_proxy_hops:
        # Behind nginx the peer is the proxy: take the client's address from X-Forwarded-For,
        # trusting exactly that many hops (a client's own X-Forwarded-For entries are ignored).
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )
    init_openapi(app)  # replaces app.json: configure it afterwards
    app.json.sort_keys = False  # type: ignore[attr-defined]
    rt = runtime or Runtime.build(settings)
    app.extensions[EXTENSION] = rt
    metrics = RequestMetrics()
    rt.extras["metrics"] = metrics
    hub, rt.extras["sse_redis"] = redis_event_hub(settings.redis_url, HubLimits(
        per_user=settings.events_max_streams_per_user,
        per_business=settings.events_max_streams_per_business,
        total=settings.events_max_streams,
    ))
    rt.extras["event_hub"] = hub
    stopping = trio.Event()

    app.url_map.converters["id"] = IdConverter  # before the blueprints' rules use it
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if settings.spa_dist is not None:  # the local stack: no nginx in front (api/routes/spa.py)
        from api.routes.spa import register_spa

        register_spa(app, settings.spa_dist)
    shedder = LoadShedder(
        app.asgi_app,  # type: ignore[arg-type]
        limit=settings.max_in_flight,
        max_waiting=settings.max_waiting,
        max_wait_seconds=settings.max_wait_ms / 1000,
    )
    app.asgi_app = shedder  # type: ignore[method-assign,assignment]
    rt.extras["shedder"] = shedder

    @app.before_request
    async def _start_timer() -> None:
        g.started = time.perf_counter()
        # Read the whole body (at most MAX_BODY_BYTES) before any handler can answer early
        # (401, 403, 404, 405): Hypercorn's trio worker can stall a keep-alive connection
        # whose previous request body was left unread (seen under schemathesis).
        if request.content_length or request.headers.get("Transfer-Encoding"):
            await request.get_data(cache=True)
        csrf_protect()

    @app.after_request
    async def _observe(response: Response) -> Response:
        started = getattr(g, "started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
            metrics.observe(f"{request.method} {rule}", response.status_code, (time.perf_counter() - started) * 1000)
        return response

    @app.errorhandler(ApiError)
    async def _api_error(exc: ApiError) -> tuple[Response, int, dict[str, str]]:
        headers = {}
        if isinstance(exc, TooManyRequests | Unavailable) and exc.retry_after_seconds is not None:
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return jsonify(exc.to_json()), exc.status, headers

    @app.errorhandler(RequestSchemaValidationError)
    async def _schema_error(exc: RequestSchemaValidationError) -> tuple[Response, int]:
        error = schema_error(exc)
        return jsonify(error.to_json()), error.status

    @app.errorhandler(RequestEntityTooLarge)
    async def _too_large(exc: RequestEntityTooLarge) -> tuple[Response, int]:
        # Quart raises this while the body arrives (or from the form parser): name the limit.
        if request.method == "POST" and request.path in UPLOAD_PATHS:
            limit, what = settings.max_upload_bytes, "an uploaded file may have at most {} bytes (MAX_UPLOAD_BYTES)"
        else:
            limit, what = MAX_BODY_BYTES, "a request body may have at most {} bytes"
        error = PayloadTooLarge(what.format(limit), details={"limit_bytes": limit})
        return jsonify(error.to_json()), error.status

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        status = exc.code or 500
        body = {"error": {"code": code, "message": exc.description or exc.name, "details": None}}
        return jsonify(body), status

    @app.errorhandler(Exception)
    async def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        body = {"error": {"code": "internal_error", "message": "internal server error", "details": None}}
        return jsonify(body), 500

    async def _flush_metrics() -> None:
        while not stopping.is_set():
            with trio.move_on_after(FLUSH_INTERVAL_SECONDS):
                await stopping.wait()
            try:
                await rt.redis_call(metrics.flush)
            except ApiError:
                pass  # kept in memory; /readyz reports Redis itself

    @app.before_serving
    async def _startup() -> None:
        app.add_background_task(_flush_metrics)
        app.add_background_task(hub.serve)  # idle (no Redis) until the first /api/events stream

    @app.after_serving
    async def _shutdown() -> None:
        stopping.set()
        hub.shutdown()
        with trio.move_on_after(2):
            try:
                await rt.redis_call(metrics.flush)
            except ApiError:
                log.warning("request metrics not flushed: Redis unreachable at shutdown")
        rt.close()

    return app


def json_error(status: int, code: str, message: str, details: Any = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "details": details}}), status
