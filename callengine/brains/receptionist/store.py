"""Reads the call setup the API stored in Redis (``calls:setup:{call_sid}``, DESIGN.md §2).

redis-py is synchronous: ``SetupStore.get`` runs in a worker thread (see ``brain.py``) with
short socket timeouts, so a slow Redis delays only this call's greeting, never the event loop.
"""

from __future__ import annotations

from typing import final

import redis

from callengine import keys
from callengine.errors import map_redis_errors

__all__ = ["SetupStore"]

REDIS_TIMEOUT_SECONDS = 1.0  # the caller is waiting for the greeting


@final
class SetupStore:
    def __init__(self, redis_url: str) -> None:
        self._client = redis.Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )

    def get(self, call_sid: str) -> bytes | None:
        """The setup JSON, or None when the API stored none (blocking).

        Raises:
            ReportingError: If Redis cannot be reached.
        """
        with map_redis_errors():
            value = self._client.get(keys.call_setup(call_sid))
        return value if isinstance(value, bytes) else None

    def close(self) -> None:
        self._client.close()
