"""Header-only inspection of server→Twilio messages with ``bytes.find``.

The harness must stay much cheaper than the server, so it never JSON-decodes ``media`` messages
nor base64-decodes their payload: it locates ``"event"``, ``"payload"`` and ``"name"`` by byte
search and derives the audio size from the base64 length. Pure module.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EV_CLEAR", "EV_MARK", "EV_MEDIA", "event_of", "mark_name", "payload_bytes", "string_value"]

EV_MEDIA: Final = b"media"
EV_MARK: Final = b"mark"
EV_CLEAR: Final = b"clear"
_WS: Final = b" \t\r\n"


def _value_start(buf: bytes, key: bytes, start: int = 0) -> int:
    """Return the index just after the opening quote of ``key``'s string value, or -1.

    ``key`` includes its quotes (``b'"event"'``). Occurrences not followed by ``:`` (a string
    *value* equal to the key name) are skipped.
    """
    n = len(buf)
    i = buf.find(key, start)
    while i >= 0:
        j = i + len(key)
        while j < n and buf[j] in _WS:
            j += 1
        if j < n and buf[j] == 0x3A:  # ':'
            j += 1
            while j < n and buf[j] in _WS:
                j += 1
            if j < n and buf[j] == 0x22:  # '"'
                return j + 1
            return -1
        i = buf.find(key, i + 1)
    return -1


def _string_end(buf: bytes, begin: int) -> int:
    """Index of the closing quote of a JSON string starting at ``begin`` (escapes honoured)."""
    end = buf.find(b'"', begin)
    while end > 0 and buf[end - 1] == 0x5C:  # backslash: count the run to see if it is escaped
        k = end - 1
        while k >= begin and buf[k] == 0x5C:
            k -= 1
        if (end - 1 - k) % 2 == 0:
            break
        end = buf.find(b'"', end + 1)
    return end


def string_value(buf: bytes, key: bytes, start: int = 0) -> bytes | None:
    """Return the raw (still JSON-escaped) string value of ``key``, or None."""
    b = _value_start(buf, key, start)
    if b < 0:
        return None
    e = _string_end(buf, b)
    return None if e < 0 else buf[b:e]


def event_of(buf: bytes) -> bytes | None:
    """Return the ``event`` value (``b"media"``, ``b"mark"``, ``b"clear"`` …), or None."""
    return string_value(buf, b'"event"')


def payload_bytes(buf: bytes) -> int:
    """Return the decoded size of ``media.payload`` without decoding it (-1 if absent).

    Base64 carries 3 bytes per 4 characters, minus one byte per ``=`` of padding.
    """
    b = _value_start(buf, b'"payload"')
    if b < 0:
        return -1
    e = buf.find(b'"', b)
    if e < 0:
        return -1
    length = e - b
    pad = 0
    if length and buf[e - 1] == 0x3D:  # '='
        pad = 2 if length > 1 and buf[e - 2] == 0x3D else 1
    return length * 3 // 4 - pad


def mark_name(buf: bytes) -> bytes | None:
    """Return the raw ``mark.name`` string (JSON-escaped, ready to echo verbatim), or None."""
    return string_value(buf, b'"name"')
