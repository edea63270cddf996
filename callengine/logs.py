"""Logging set-up: readable lines in development, one JSON object per line in production.

A call binds its ``call_sid`` and ``stream_sid`` once (``CallLogger``); every line it logs then
carries them. Nothing logs per frame.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import orjson

__all__ = ["CallLogger", "configure_logging"]

CONTEXT_FIELDS = ("call_sid", "stream_sid")


class CallLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger with the call's ids bound once."""

    def __init__(self, logger: logging.Logger, **context: str) -> None:
        super().__init__(logger, context)

    def bind(self, **context: str) -> None:
        assert isinstance(self.extra, dict)
        self.extra.update(context)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


class ReadableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(
            f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if hasattr(record, name)
        )
        line = "%s %-7s %s: %s%s" % (
            self.formatTime(record, "%H:%M:%S"),
            record.levelname,
            record.name,
            record.getMessage(),
            f" [{context}]" if context else "",
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                doc[name] = getattr(record, name)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def configure_logging(level: str, *, json_lines: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
