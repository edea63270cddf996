"""HTTP byte ranges (RFC 9110 §14): which bytes of a representation of ``size`` bytes to send.

Pure: no Quart, no I/O. ``select_range`` turns the request's ``Range`` and ``If-Range`` into one
of three answers:

* ``WHOLE``: send everything with 200. The Range is absent, not ``bytes``, syntactically
  invalid (ignored, §14.2), names several ranges (we do not build multipart/byteranges: the
  whole file is allowed and always correct), or ``If-Range`` does not match (§13.1.5); an empty
  representation is also sent whole.
* ``ByteRange(start, stop)``: send ``[start, stop)`` with 206; the end is clamped to the size,
  a suffix range ``-N`` is the last N bytes (the whole file when N exceeds it).
* ``UNSATISFIABLE``: 416 with ``Content-Range: bytes */size`` (every range starts past the end,
  or is an empty suffix).

Numbers of any length are read without ``int`` ever failing (Python refuses to parse more than
4,300 digits): anything longer than ``MAX_DIGITS`` is simply larger than any file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Final, final

__all__ = ["UNSATISFIABLE", "WHOLE", "ByteRange", "Outcome", "if_range_matches", "parse_range", "select_range"]

MAX_DIGITS = 18  # 10**18 bytes is an exabyte: a longer number is past the end of any file
_BEYOND = 10**MAX_DIGITS
# range-spec (§14.1.1): int-range "first-[last]" or suffix-range "-length"; DIGIT is ASCII only.
_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class Outcome(Enum):
    WHOLE = "whole"
    UNSATISFIABLE = "unsatisfiable"


WHOLE: Final = Outcome.WHOLE
UNSATISFIABLE: Final = Outcome.UNSATISFIABLE


@final
@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` (inclusive) to ``stop`` (exclusive); never empty, never past the end."""

    start: int
    stop: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{size}"


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= MAX_DIGITS else _BEYOND


def parse_range(header: str | None, size: int) -> ByteRange | Outcome:
    """The bytes a ``Range`` header asks for out of ``size`` (RFC 9110 §14.1.2, §14.2)."""
    if header is None or size <= 0:
        return WHOLE
    unit, sep, range_set = header.strip().partition("=")
    if not sep or not _TOKEN.fullmatch(unit) or unit.lower() != "bytes":
        return WHOLE  # no range unit we understand: ignore the field (§14.2)
    specs = [part.strip(" \t") for part in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # #rule: empty list elements are allowed
    if not specs:
        return WHOLE
    satisfiable: list[ByteRange] = []
    for spec in specs:
        match = _SPEC.fullmatch(spec)
        if match is None:
            return WHOLE
        first, last = match.groups()
        if first:
            start = _number(first)
            end = _number(last) if last else None
            if end is not None and end < start:
                return WHOLE  # an invalid int-range makes the whole field invalid
            if start < size:
                stop = size if end is None else min(end + 1, size)
                satisfiable.append(ByteRange(start, stop))
        elif last:
            suffix = _number(last)
            if suffix > 0:
                satisfiable.append(ByteRange(max(size - suffix, 0), size))
        else:
            return WHOLE  # "-" alone
    if not satisfiable:
        return UNSATISFIABLE
    if len(specs) > 1:
        return WHOLE
    return satisfiable[0]


def if_range_matches(if_range: str, etag: str, last_modified: datetime) -> bool:
    """Whether an ``If-Range`` validator still names this representation (RFC 9110 §13.1.5).

    An entity tag matches by strong comparison (a weak ``W/"…"`` tag never does); a date
    matches only if it equals ``last_modified`` to the second. Anything else does not match.
    """
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and not etag.startswith("W/") and value == etag
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when == last_modified.astimezone(UTC).replace(microsecond=0)


def select_range(
    range_header: str | None, if_range: str | None, size: int, *, etag: str, last_modified: datetime
) -> ByteRange | Outcome:
    """What to send for this request: ``parse_range``, unless ``If-Range`` no longer matches
    (then the whole representation, §13.1.5). ``If-Range`` without ``Range`` is ignored."""
    if range_header is None:
        return WHOLE
    if if_range is not None and not if_range_matches(if_range, etag, last_modified):
        return WHOLE
    return parse_range(range_header, size)
