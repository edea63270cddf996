"""Errors of the calls service.

Hierarchy::

    CallEngineError
    ├── SettingsError         invalid or missing environment (lists every problem)
    ├── ProtocolError         a Twilio message we cannot accept (code + reason for the close)
    ├── AdmissionRefused      a handshake refused before the upgrade (reason counted)
    └── ReportingError        Redis unreachable or refusing (translated from redis-py)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = [
    "AdmissionRefused",
    "CallEngineError",
    "ProtocolError",
    "ReportingError",
    "SettingsError",
    "map_redis_errors",
]


class CallEngineError(Exception):
    """Base class of every error the calls service raises on purpose."""


class SettingsError(CallEngineError):
    """The environment is unusable; ``problems`` names each bad variable."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))


class ProtocolError(CallEngineError):
    """An inbound Twilio message broke the protocol.

    Attributes:
        reason: a short human text that goes into the WebSocket close frame and the log.
        code: the WebSocket close code (see ``events.CloseCode``).
    """

    def __init__(self, reason: str, code: int = 4001) -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason)


class AdmissionRefused(CallEngineError):
    """A call was refused before the WebSocket upgrade (``reason`` is a RefusalReason)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ReportingError(CallEngineError):
    """Redis could not be reached or refused a command."""


@contextmanager
def map_redis_errors() -> Iterator[None]:
    """Translate redis-py errors into ``ReportingError`` at the Redis boundary."""
    import redis.exceptions

    try:
        yield
    except (redis.exceptions.RedisError, OSError) as exc:
        raise ReportingError(f"{type(exc).__name__}: {exc}") from exc
