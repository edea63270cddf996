"""Errors raised by the load-testing harness.

Hierarchy::

    LoadTestError                 base for everything the harness raises on purpose
    ├── SessionFormatError        a session JSONL file is malformed (carries ``path``, ``line``)
    ├── ConfigError               invalid CLI/config values (bad --slo, --param, URL, ...)
    ├── WebSocketProtocolError    the server broke RFC 6455 (bad frame, bad handshake reply)
    └── WebhookError              the TwiML webhook answered badly (carries ``status``)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "LoadTestError",
    "SessionFormatError",
    "WebSocketProtocolError",
    "WebhookError",
]


class LoadTestError(Exception):
    """Base class of all harness errors."""


class SessionFormatError(LoadTestError):
    """A recorded session could not be parsed.

    Attributes:
        path: The file being read, if any.
        line: 1-based line number of the offending line, if known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        where = f"{path or '<session>'}:{line}" if line is not None else (path or "<session>")
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


class ConfigError(LoadTestError):
    """An option value is invalid."""


class WebSocketProtocolError(LoadTestError):
    """The server violated the WebSocket protocol."""


class WebhookError(LoadTestError):
    """The voice webhook failed or returned unusable TwiML.

    Attributes:
        status: HTTP status of the webhook response, if one arrived.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
