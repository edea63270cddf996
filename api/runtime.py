"""The API's dependencies, built once by ``create_app`` and reached through ``current_runtime()``.

SQLAlchemy and redis-py are synchronous, so each call runs in a worker thread under its own
``CapacityLimiter`` sized to its pool (docs/ARCHITECTURE.md §12.1): a slow database cannot starve
Redis calls, and no request ever waits for a pool checkout inside a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast, final

import trio
from quart import current_app
from redis import Redis, RedisError
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.db.engine import make_engine, make_session_factory, session_scope
from api.errors import Unavailable

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from api.settings import Settings

__all__ = ["Runtime", "current_runtime", "make_redis"]

T = TypeVar("T")
log = logging.getLogger(__name__)
DB_RETRY_AFTER_SECONDS = 5  # a restarting database is usually back within seconds
REDIS_SOCKET_TIMEOUT_SECONDS = 2.0  # webhooks answer Twilio within its 15 s; Redis must be fast
EXTENSION = "prosaas"


def make_redis(url: str, *, pool_size: int, decode_responses: bool = True) -> Redis:
    """The API's Redis client; RQ's (``Runtime.queue_redis``) must not decode: RQ stores bytes."""
    # Two quick retries instead of redis-py 8's ten: a webhook must answer Twilio well within
    # its 15 s even when Redis is black-holed (each try is bounded by the socket timeout).
    return Redis.from_url(
        url,
        max_connections=pool_size,
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), retries=2),
        decode_responses=decode_responses,
    )


@final
@dataclass
class Runtime:
    """Clients and limiters shared by every request of one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: Redis
    db_limiter: trio.CapacityLimiter
    redis_limiter: trio.CapacityLimiter
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, *, redis_client: Redis | None = None) -> Runtime:
        engine = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            redis=redis_client or make_redis(settings.redis_url, pool_size=settings.redis_pool_size),
            db_limiter=trio.CapacityLimiter(settings.db_pool_size),
            redis_limiter=trio.CapacityLimiter(settings.redis_pool_size),
        )

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in a thread inside one transaction (commit on success).

        Cancellation waits for the thread (threads cannot be cancelled; the Postgres
        statement_timeout bounds it).

        Raises:
            Unavailable: the database cannot be reached or used (``database_unavailable``, with
                Retry-After); the one place where driver connection errors become a 503.
            Exception: anything else ``fn`` raises, unchanged.
        """

        def work() -> T:
            with session_scope(self.sessions) as session:
                return fn(session, *args)

        try:
            return await trio.to_thread.run_sync(work, limiter=self.db_limiter)
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            raise _database_unavailable(exc) from exc
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            raise _database_unavailable(exc) from exc

    async def redis_call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(redis_client, *args)`` in a thread; ``RedisError`` becomes ``Unavailable``."""
        try:
            return await trio.to_thread.run_sync(fn, self.redis, *args, limiter=self.redis_limiter)
        except RedisError as exc:
            raise Unavailable("Redis is unreachable", code="redis_unavailable", details=str(exc),
                              retry_after_seconds=DB_RETRY_AFTER_SECONDS) from exc

    def queue_redis(self) -> Redis:
        """The client the API enqueues jobs with (``jobs.enqueue``), built on first use: RQ keeps
        compressed bytes in Redis, which the decoding ``redis`` client cannot read back."""
        client = self.extras.get("queue_redis")
        if not isinstance(client, Redis):
            client = self.extras["queue_redis"] = make_redis(
                self.settings.redis_url, pool_size=self.settings.redis_pool_size, decode_responses=False
            )
        return client

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()
        for name in ("sse_redis", "queue_redis"):
            extra = self.extras.get(name)
            if isinstance(extra, Redis):
                extra.close()


def _database_unavailable(exc: Exception) -> Unavailable:
    """The 503 for a database that is down, locked or timing out; the driver's text (host,
    port) is logged, never sent to the client."""
    log.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return Unavailable("the database is unavailable; retry shortly", code="database_unavailable",
                       retry_after_seconds=DB_RETRY_AFTER_SECONDS)


def current_runtime() -> Runtime:
    return cast(Runtime, current_app.extensions[EXTENSION])
