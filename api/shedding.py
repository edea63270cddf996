"""Load shedding: an ASGI middleware that bounds the HTTP requests in the handlers at once.

Without it one process accepted every request and ran them all concurrently, so past its
capacity each request waited behind all the others (the signed voice webhook: p99 13 ms at
200/s, 530 ms at 300/s, 28 s and connection errors at 400/s). With it, a request that finds
``limit`` requests in flight is answered at once with 503, ``Retry-After`` and the JSON error
body, without reading its body or touching the database; the requests accepted keep their
latency. For Twilio a 503 on the voice webhook means "use the fallback URL".

A burst is not overload: ten webhooks that arrive in the same 10 ms (a load test, a campaign's
calls answered together) must not lose the two that find eight in flight. So a request that
finds the budget spent may wait, first come first served, while fewer than ``max_waiting``
others wait and for at most ``max_wait_seconds``; past either bound it is refused. Accepted
latency stays bounded by that wait plus the handler's own time.

Two budgets, both trio ``CapacityLimiter`` taken with ``acquire_on_behalf_of_nowait`` (never
queued): requests, and the operator's probes (``/api/health``, ``/readyz``, ``/version``) with a
small budget of their own, so a process shedding load can still be seen. ``/api/events``
streams are long-lived and bounded by their own caps (api/event_hub.py), so they take neither.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, final

import trio

__all__ = ["PROBE_PATHS", "PROBES_IN_FLIGHT", "RETRY_AFTER_SECONDS", "STREAM_PATHS", "LoadShedder", "ShedStatistics"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROBE_PATHS: Final = frozenset({"/api/health", "/readyz", "/version"})
STREAM_PATHS: Final = frozenset({"/api/events"})
PROBES_IN_FLIGHT: Final = 8  # an operator's curl and a load balancer's checks, not a flood
RETRY_AFTER_SECONDS: Final = 1  # the overload of one process passes in seconds or needs another process
_BODY: Final = json.dumps({"error": {
    "code": "overloaded",
    "message": "the server is at capacity; retry later",
    "details": {"retry_after_seconds": RETRY_AFTER_SECONDS},
}}).encode()


@final
@dataclass(frozen=True)
class ShedStatistics:
    in_flight: int
    limit: int
    waiting: int
    probes_in_flight: int
    shed: int


@final
class LoadShedder:
    """Wraps an ASGI app (``app.asgi_app = LoadShedder(app.asgi_app, limit=…)``).

    Args:
        app: the wrapped ASGI callable.
        limit: HTTP requests allowed in the handlers at once (``API_MAX_IN_FLIGHT``).
        max_waiting: requests that may wait for a place at once (``API_MAX_WAITING``); 0 refuses
            at once.
        max_wait_seconds: the longest a request waits for a place (``API_MAX_WAIT_MS``).
        probe_limit: the probes' own budget (never waited for).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        max_waiting: int = 0,
        max_wait_seconds: float = 0.0,
        probe_limit: int = PROBES_IN_FLIGHT,
    ) -> None:
        self.app = app
        self._requests = trio.CapacityLimiter(limit)
        self._probes = trio.CapacityLimiter(probe_limit)
        self._max_waiting = max_waiting
        self._max_wait = max_wait_seconds
        self._waiting = 0
        self._shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, or refuse it at once when its budget is spent. Cancellation and
        errors of the wrapped app propagate; the token is returned either way."""
        if scope["type"] != "http" or scope["path"] in STREAM_PATHS:
            await self.app(scope, receive, send)
            return
        limiter = self._probes if scope["path"] in PROBE_PATHS else self._requests
        token = object()
        try:
            limiter.acquire_on_behalf_of_nowait(token)
        except trio.WouldBlock:
            if limiter is self._probes or not await self._wait_for_place(token):
                self._shed += 1
                await _refuse(send)
                return
        try:
            await self.app(scope, receive, send)
        finally:
            limiter.release_on_behalf_of(token)

    async def _wait_for_place(self, token: object) -> bool:
        """True once ``token`` holds a place; False when too many wait or the wait runs out.
        Cancellation: the place is not taken (trio's acquire is atomic)."""
        if self._waiting >= self._max_waiting:
            return False
        self._waiting += 1
        try:
            with trio.move_on_after(self._max_wait):
                await self._requests.acquire_on_behalf_of(token)
                return True
            return False
        finally:
            self._waiting -= 1

    def statistics(self) -> ShedStatistics:
        return ShedStatistics(
            in_flight=self._requests.borrowed_tokens,
            limit=int(self._requests.total_tokens),
            waiting=self._waiting,
            probes_in_flight=self._probes.borrowed_tokens,
            shed=self._shed,
        )


async def _refuse(send: Send) -> None:
    # Connection: close — the unread body of this request must not stall the keep-alive
    # connection, and a client that is flooding us should reconnect.
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(_BODY)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": _BODY, "more_body": False})
