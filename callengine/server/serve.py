"""The calls port: ``GET /health``, the Twilio WebSocket ``/ws/twilio`` and the browser test
call's ``/ws/browser`` on one listener.

Each TCP connection gets a bounded, time-boxed read of its request head. Plain HTTP is answered
here; a WebSocket upgrade is checked *before* the upgrade, so refusals are cheap HTTP responses
(401/403, 503 + Retry-After), and only then is the stream handed to
``trio_websocket.wrap_server_stream`` with the head replayed. ``/ws/twilio`` needs Twilio's
signature (when ``TWILIO_AUTH_TOKEN`` is set); ``/ws/browser`` needs instead a valid, unexpired
access token in its ``access`` query parameter (``contracts.browser_access``, minted by
``POST /api/test-calls``; a browser cannot set headers on a WebSocket), and its ``start`` must be
for the granted call. Both then go through the same admission and the same actor. Every other
path is a 404.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final
from urllib.parse import parse_qs

import trio
from trio_websocket import wrap_server_stream

from callengine.actor.call import CallActor
from callengine.errors import AdmissionRefused
from callengine.events import RefusalReason
from callengine.server.http import (
    MAX_HEAD_BYTES,
    HeadError,
    Request,
    error_body,
    find_head_end,
    parse_head,
    response,
)
from callengine.server.replay import ReplayStream
from contracts.browser_access import (
    ACCESS_PARAMETER,
    AccessGrant,
    AccessRefusal,
    verify_access_token,
)

if TYPE_CHECKING:
    from callengine.admission import Admission, Ticket
    from callengine.brains.base import BrainFactory
    from callengine.reporting.base import Reporter
    from callengine.settings import Settings
    from callengine.stats import EngineStats

__all__ = ["BROWSER_WS_PATH", "CallsServer", "EngineDeps", "WS_PATH", "serve_calls"]

log = logging.getLogger(__name__)

WS_PATH = "/ws/twilio"
BROWSER_WS_PATH = "/ws/browser"
HEALTH_PATH = "/health"
HEAD_TIMEOUT = 5.0  # a client that cannot send its request head in 5 s is not Twilio
TWILIO_SUBPROTOCOL = "audio.twilio.com"
RETRY_AFTER_SECONDS = 1
WS_MESSAGE_QUEUE = 4  # trio-websocket's own queue; our recv task drains it continuously
DRAIN_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class EngineDeps:
    """Everything the server needs, built by the composition root (``__main__``)."""

    admission: Admission
    reporter: Reporter
    stats: EngineStats
    brain_factory: BrainFactory
    version: str


@final
class CallsServer:
    def __init__(self, settings: Settings, deps: EngineDeps, port: int) -> None:
        self.settings = settings
        self.deps = deps
        self.port = port
        self._actors: set[CallActor] = set()
        self._started = time.monotonic()
        self._validator = None
        if settings.twilio_auth_token:
            from twilio.request_validator import RequestValidator

            self._validator = RequestValidator(settings.twilio_auth_token.reveal())

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def draining(self) -> bool:
        return self.deps.admission.draining

    def shutdown_calls(self, reason: str = "server restarting") -> None:
        """End every live call now with close code 1001 (each still finalizes)."""
        for actor in list(self._actors):
            actor.shutdown(reason)

    async def drain(self, timeout: float) -> None:
        """Refuse new calls, let live ones finish for up to ``timeout``, then end the rest.

        Returns once no call holds a slot (or the cleanup grace after the deadline ran out).
        """
        admission = self.deps.admission
        admission.draining = True
        active = admission.statistics().active
        log.info("draining: %d live calls, up to %.0f s", active, timeout)
        with trio.move_on_after(timeout):
            await self._wait_idle()
        remaining = admission.statistics().active
        if remaining:
            log.warning("drain deadline reached: ending %d calls", remaining)
            self.shutdown_calls()
        with trio.move_on_after(10):
            await self._wait_idle()
        log.info("drained")

    async def _wait_idle(self) -> None:
        while (stats := self.deps.admission.statistics()).active or stats.pending:
            await trio.sleep(DRAIN_POLL_SECONDS)

    # --- health -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        stats = self.deps.admission.statistics()
        reporter = self.deps.reporter
        return {
            "status": "draining" if stats.draining else "ok",
            "service": "prosaas-calls",
            "version": self.deps.version,
            "instance": self.settings.instance_id,
            "uptime_seconds": round(time.monotonic() - self._started, 1),
            "active_calls": stats.active,
            "capacity": stats.capacity,
            "pending_starts": stats.pending,
            "max_pending_starts": stats.max_pending,
            "admitted_total": stats.admitted_total,
            "rejected": stats.refused,
            "rejected_total": sum(stats.refused.values()),
            "redis": {
                "reachable": reporter.reachable,
                "active_count": getattr(reporter, "last_active_count", None),
            },
            "calls": self.deps.stats.snapshot(),
            "brains": _brains_load(self.deps.brain_factory),
        }

    # --- connections ------------------------------------------------------------------------

    async def handle(self, stream: trio.SocketStream) -> None:
        """Serve one TCP connection. Never raises: a bad client cannot stop the server."""
        try:
            await self._handle(stream)
        except trio.BrokenResourceError:
            pass  # the client went away mid-response
        except Exception:  # the front's boundary (the actor has its own)
            log.exception("connection handler failed")
        finally:
            await trio.aclose_forcefully(stream)

    async def _handle(self, stream: trio.SocketStream) -> None:
        buffer = bytearray()
        end = -1
        with trio.move_on_after(HEAD_TIMEOUT):
            while (end := find_head_end(buffer)) < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    await stream.send_all(
                        response(431, error_body("head_too_large", "request head over 16 KiB"))
                    )
                    return
                chunk = await stream.receive_some(4096)
                if not chunk:
                    return
                buffer += chunk
        if end < 0:
            await stream.send_all(response(408, error_body("timeout", "request head too slow")))
            return
        try:
            request = parse_head(bytes(buffer[:end]))
        except HeadError as exc:
            await stream.send_all(response(exc.status, error_body("bad_request", str(exc))))
            return
        path = request.path
        if path == HEALTH_PATH:
            await self._health(stream, request)
        elif path in (WS_PATH, BROWSER_WS_PATH):
            await self._websocket(stream, request, bytes(buffer))
        else:
            await stream.send_all(
                response(404, error_body("not_found", f"no route for {path}"))
            )

    async def _health(self, stream: trio.SocketStream, request: Request) -> None:
        if request.method not in ("GET", "HEAD"):
            await stream.send_all(
                response(
                    405,
                    error_body("method_not_allowed", "use GET"),
                    extra_headers=[("Allow", "GET, HEAD")],
                )
            )
            return
        body = self.health()
        status = 503 if body["status"] == "draining" else 200
        await stream.send_all(response(status, body, head_only=request.method == "HEAD"))

    async def _websocket(self, stream: trio.SocketStream, request: Request, head: bytes) -> None:
        if request.method != "GET" or not request.is_websocket_upgrade:
            await stream.send_all(
                response(
                    426,
                    error_body("upgrade_required", f"{request.path} only speaks WebSocket"),
                    extra_headers=[("Upgrade", "websocket")],
                )
            )
            return
        if request.headers.get("sec-websocket-version") != "13" or not request.headers.get(
            "sec-websocket-key"
        ):
            await stream.send_all(
                response(
                    426,
                    error_body("bad_handshake", "need Sec-WebSocket-Version 13 and a key"),
                    extra_headers=[("Sec-WebSocket-Version", "13")],
                )
            )
            return
        admission = self.deps.admission
        grant: AccessGrant | None = None
        if request.path == BROWSER_WS_PATH:
            checked = self._browser_access(request)
            if not isinstance(checked, AccessGrant):
                admission.count_refusal(RefusalReason.TOKEN)
                self.deps.reporter.publish(
                    "rejected", {"reason": RefusalReason.TOKEN.value, "access": checked.value}
                )
                log.warning("browser handshake refused: access token %s", checked.value)
                status = 401 if checked is AccessRefusal.MISSING else 403
                message = _ACCESS_MESSAGES.get(checked, f"access token refused: {checked.value}")
                await stream.send_all(response(status, error_body(checked.value, message)))
                return
            grant = checked
        elif not self._signature_ok(request):
            admission.count_refusal(RefusalReason.SIGNATURE)
            self.deps.reporter.publish("rejected", {"reason": RefusalReason.SIGNATURE.value})
            log.warning("handshake refused: bad or missing x-twilio-signature")
            await stream.send_all(
                response(403, error_body("forbidden", "invalid x-twilio-signature"))
            )
            return
        try:
            ticket = admission.try_admit_nowait()
        except AdmissionRefused as exc:
            self.deps.reporter.publish("rejected", {"reason": exc.reason})
            await stream.send_all(
                response(
                    503,
                    error_body(exc.reason, f"calls service {exc.reason}; try again"),
                    extra_headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
                )
            )
            return
        try:
            await self._run_call(stream, request, head, ticket, grant)
        finally:
            admission.release(ticket)

    async def _run_call(
        self,
        stream: trio.SocketStream,
        request: Request,
        head: bytes,
        ticket: Ticket,
        grant: AccessGrant | None,
    ) -> None:
        settings = self.settings
        async with trio.open_nursery() as nursery:
            with trio.move_on_after(HEAD_TIMEOUT) as handshake:
                ws_request = await wrap_server_stream(
                    nursery,
                    ReplayStream(stream, head),
                    message_queue_size=WS_MESSAGE_QUEUE,
                    max_message_size=settings.max_message_bytes,
                )
                offered = TWILIO_SUBPROTOCOL in request.subprotocols
                ws = await ws_request.accept(subprotocol=TWILIO_SUBPROTOCOL if offered else None)
            if handshake.cancelled_caught:
                nursery.cancel_scope.cancel()
                return
            actor = CallActor(
                ws,
                settings=settings,
                brain=self.deps.brain_factory(),
                reporter=self.deps.reporter,
                admission=self.deps.admission,
                ticket=ticket,
                stats=self.deps.stats,
                grant=grant,
            )
            self._actors.add(actor)
            try:
                await actor.run()
            finally:
                self._actors.discard(actor)
                nursery.cancel_scope.cancel()

    def _browser_access(self, request: Request) -> AccessGrant | AccessRefusal:
        """The grant of ``/ws/browser``'s ``access`` token, or why there is none.

        Without ``INTERNAL_SECRET`` every token is refused (one would be forgeable).
        """
        query = request.target.partition("?")[2]
        values = parse_qs(query, keep_blank_values=True).get(ACCESS_PARAMETER, [])
        if len(values) > 1:
            return AccessRefusal.MALFORMED
        secret = self.settings.internal_secret
        return verify_access_token(
            secret.reveal() if secret else "", values[0] if values else None, now=time.time()
        )

    def _signature_ok(self, request: Request) -> bool:
        if self._validator is None:
            return True
        signature = request.headers.get("x-twilio-signature", "")
        if not signature:
            return False
        url = self.settings.public_stream_url.removesuffix(WS_PATH) + request.target
        return bool(self._validator.validate(url, {}, signature))


async def serve_calls(
    settings: Settings,
    deps: EngineDeps,
    *,
    task_status: trio.TaskStatus[CallsServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``settings.host:settings.port`` and serve calls until cancelled.

    Calls ``task_status.started(server)`` once listening (``server.port`` is the real port
    when ``settings.port`` is 0). Cancellation ends every live call (shielded cleanup each).
    """
    listeners = await trio.open_tcp_listeners(settings.port, host=settings.host or None)
    port = listeners[0].socket.getsockname()[1]
    server = CallsServer(settings, deps, port)
    log.info(
        "calls service listening on %s:%d (max %d calls, brain %s)",
        settings.host,
        port,
        settings.max_concurrent_calls,
        settings.brain,
    )
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, server.handle, listeners)
        task_status.started(server)


_ACCESS_MESSAGES = {
    AccessRefusal.MISSING: "/ws/browser needs ?access=<token> from POST /api/test-calls",
    AccessRefusal.MALFORMED: "the access token is malformed",
    AccessRefusal.VERSION: "the access token's version is unknown",
    AccessRefusal.SIGNATURE: "the access token's signature is invalid",
    AccessRefusal.EXPIRED: "the access token has expired; start a new test call",
    AccessRefusal.WRONG_CALL: "the access token is for another call",
}


def _brains_load(factory: BrainFactory) -> dict[str, Any] | None:
    """The brains' shared load (recognition turns in flight and waiting), if they report it."""
    statistics = getattr(factory, "statistics", None)
    return statistics() if statistics is not None else None
