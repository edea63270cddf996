"""The plain-HTTP part of the calls port (pure): parse a request head, build responses.

trio-websocket answers any non-upgrade request with 400 before a handler runs, so the server
reads the request head itself first (bounded in size and time), answers ``GET /health`` and
refusals here, and hands upgrades to trio-websocket with the bytes it has read replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import orjson

__all__ = ["HeadError", "Request", "find_head_end", "parse_head", "response"]

MAX_HEAD_BYTES = 16 * 1024


class HeadError(ValueError):
    """The bytes are not an HTTP/1.1 request head we accept; ``status`` says how to answer."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # path plus query, as sent
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def is_websocket_upgrade(self) -> bool:
        return (
            "upgrade" in self.headers.get("connection", "").lower()
            and self.headers.get("upgrade", "").lower() == "websocket"
        )

    @property
    def subprotocols(self) -> list[str]:
        raw = self.headers.get("sec-websocket-protocol", "")
        return [p.strip() for p in raw.split(",") if p.strip()]


def find_head_end(buffer: bytes | bytearray) -> int:
    """Index just past the blank line that ends the head, or -1."""
    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def parse_head(head: bytes) -> Request:
    """Parse a request head (request line + headers, ending with a blank line).

    Raises:
        HeadError: 400 for anything malformed, 505 for a version other than HTTP/1.1.
    """
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HeadError(400, "undecodable request head") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise HeadError(400, "malformed request line")
    method, target, version = parts
    if version != "HTTP/1.1":
        raise HeadError(505, f"unsupported HTTP version {version}")
    if not target.startswith("/"):
        raise HeadError(400, "request target must be an absolute path")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HeadError(400, f"malformed header line {line[:40]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return Request(method, target, headers)


def response(
    status: int,
    body: object,
    *,
    extra_headers: list[tuple[str, str]] | None = None,
    head_only: bool = False,
) -> bytes:
    """A complete ``Connection: close`` response with a JSON body."""
    payload = orjson.dumps(body)
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Cache-Control: no-store",
        "Connection: close",
    ]
    lines += [f"{name}: {value}" for name, value in extra_headers or []]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + payload


def error_body(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message}}
