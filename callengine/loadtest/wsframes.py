"""Minimal RFC 6455 client side: HTTP/1.1 upgrade, frame encoding, frame parsing.

Pure module (no trio, no sockets). The client masks with an all-zero key: legal (RFC 6455
§5.3 only requires the MASK bit and a key), and it makes masked bytes equal plain bytes, so
frames can be pre-built and no per-frame XOR is needed. Server frames are parsed by header only.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, NamedTuple

from callengine.loadtest.errors import WebSocketProtocolError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameReader",
    "UpgradeResponse",
    "accept_key",
    "build_upgrade_request",
    "client_frame",
    "close_payload",
    "parse_close_payload",
    "parse_response_head",
    "text_frame_header",
]

OP_CONT: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA
_WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ZERO_MASK: Final = b"\x00\x00\x00\x00"
# Largest server message we accept (Twilio-style media is < 100 KB; anything huge is a bug).
MAX_MESSAGE_BYTES: Final = 16 * 1024 * 1024
_TEXT_SMALL: Final = tuple(bytes((0x81, 0x80 | n)) + _ZERO_MASK for n in range(126))


def text_frame_header(length: int) -> bytes:
    """Return the FIN+TEXT, MASK-bit, zero-key header for a payload of ``length`` bytes."""
    if length < 126:
        return _TEXT_SMALL[length]
    if length < 65536:
        return b"\x81\xfe" + struct.pack("!H", length) + _ZERO_MASK
    return b"\x81\xff" + struct.pack("!Q", length) + _ZERO_MASK


def client_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """Encode one complete (FIN) client frame with a zero masking key."""
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 65536:
        head = bytes((first, 0xFE)) + struct.pack("!H", n)
    else:
        head = bytes((first, 0xFF)) + struct.pack("!Q", n)
    return head + _ZERO_MASK + payload


def close_payload(code: int, reason: str = "") -> bytes:
    """Build a close frame body: 2-byte code + UTF-8 reason."""
    return struct.pack("!H", code) + reason.encode("utf-8")[:123]


def parse_close_payload(payload: bytes) -> tuple[int | None, str]:
    """Return ``(code, reason)`` from a close frame body (code None when absent: 1005)."""
    if len(payload) < 2:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", "replace")


class Frame(NamedTuple):
    """A complete message or control frame from the server."""

    opcode: int
    payload: bytes


class FrameReader:
    """Incremental parser for unmasked server frames; reassembles fragmented messages."""

    __slots__ = ("_buf", "_frag", "_frag_op")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._frag = bytearray()
        self._frag_op: int | None = None

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return every frame they complete.

        Raises:
            WebSocketProtocolError: On masked server frames, fragmented control frames,
                bad continuation or oversized messages.
        """
        buf = self._buf
        buf += data
        out: list[Frame] = []
        pos = 0
        end = len(buf)
        while end - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            n = b1 & 0x7F
            hlen = 2
            if n == 126:
                if end - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                hlen = 4
            elif n == 127:
                if end - pos < 10:
                    break
                n = struct.unpack_from("!Q", buf, pos + 2)[0]
                hlen = 10
            if b1 & 0x80:
                raise WebSocketProtocolError("server sent a masked frame")
            if n > MAX_MESSAGE_BYTES:
                raise WebSocketProtocolError(f"frame of {n} bytes is too large")
            if end - pos - hlen < n:
                break
            start = pos + hlen
            payload = bytes(buf[start : start + n])
            pos = start + n
            opcode = b0 & 0x0F
            fin = b0 & 0x80
            if opcode >= 0x8:
                if not fin or n > 125:
                    raise WebSocketProtocolError("fragmented or oversized control frame")
                out.append(Frame(opcode, payload))
            elif opcode == OP_CONT:
                if self._frag_op is None:
                    raise WebSocketProtocolError("continuation without a started message")
                self._frag += payload
                if len(self._frag) > MAX_MESSAGE_BYTES:
                    raise WebSocketProtocolError("message too large")
                if fin:
                    out.append(Frame(self._frag_op, bytes(self._frag)))
                    self._frag_op = None
                    self._frag.clear()
            else:
                if self._frag_op is not None:
                    raise WebSocketProtocolError("new message before the previous one finished")
                if fin:
                    out.append(Frame(opcode, payload))
                else:
                    self._frag_op = opcode
                    self._frag += payload
        if pos:
            del buf[:pos]
        return out


def accept_key(key: str) -> str:
    """Return the ``Sec-WebSocket-Accept`` value a server must send for ``key``."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _WS_GUID).digest()).decode("ascii")


def build_upgrade_request(
    host: str,
    path: str,
    key: str,
    *,
    subprotocols: Iterable[str] = ("audio.twilio.com",),
    extra_headers: Mapping[str, str] | None = None,
) -> bytes:
    """Build the HTTP/1.1 GET that asks for a WebSocket upgrade."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    protos = ", ".join(subprotocols)
    if protos:
        lines.append(f"Sec-WebSocket-Protocol: {protos}")
    for name, value in (extra_headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True, slots=True)
class UpgradeResponse:
    """The status line and headers of the server's answer to the upgrade request.

    Attributes:
        status: HTTP status code (101 on success).
        reason: Reason phrase.
        headers: Lower-cased header names to values (last one wins).
    """

    status: int
    reason: str
    headers: Mapping[str, str]


def parse_response_head(head: bytes) -> UpgradeResponse:
    """Parse an HTTP/1.1 response head (without the final blank line).

    Raises:
        WebSocketProtocolError: If the status line is malformed.
    """
    text = head.decode("latin-1")
    status_line, _, rest = text.partition("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise WebSocketProtocolError(f"bad HTTP status line: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in rest.split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return UpgradeResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)
