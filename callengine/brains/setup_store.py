"""Reading the call setup the API stored at ``calls:setup:{call_sid}`` (I/O shell; every brain
and the per-business brain choice use it; the shape is documented in ``api/call_setup.py``).

redis-py is synchronous: the read runs in a worker thread under a deadline, and any failure
(Redis down, timeout) yields ``None`` so the call goes on with the default setup.
"""

from __future__ import annotations

import logging
from typing import Protocol, final

import redis
import trio

from callengine.errors import ReportingError, map_redis_errors
from contracts import keys

__all__ = ["CallSetupSource", "RedisCallSetup"]

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 1.0


class CallSetupSource(Protocol):
    async def load(self, call_sid: str) -> bytes | None:
        """The raw setup JSON, or None when there is none (or it cannot be read in time)."""
        ...


@final
class RedisCallSetup:
    def __init__(self, url: str, *, timeout: float = REDIS_TIMEOUT_SECONDS) -> None:
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._timeout = timeout

    async def load(self, call_sid: str) -> bytes | None:
        """Cancellation: safe; an abandoned read finishes in its thread and is discarded."""
        key = keys.call_setup(call_sid)
        with trio.move_on_after(self._timeout * 2):
            try:
                value = await trio.to_thread.run_sync(self._get, key, abandon_on_cancel=True)
            except ReportingError as exc:
                log.warning("call setup unreadable, using defaults: %s", exc)
                return None
            return value
        log.warning("call setup read timed out, using defaults")
        return None

    def close(self) -> None:
        self._client.close()

    def _get(self, key: str) -> bytes | None:
        with map_redis_errors():
            value = self._client.get(key)
        assert value is None or isinstance(value, bytes)
        return value
