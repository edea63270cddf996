"""``api.ranges``: RFC 9110 byte ranges, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.ranges import UNSATISFIABLE, WHOLE, ByteRange, if_range_matches, parse_range, select_range

SIZE = 10_284
ETAG = '"5f3a-282c"'
MODIFIED = datetime(2026, 12, 6, 20, 0, 0, tzinfo=UTC)
MODIFIED_HTTP = "Sun, 06 Dec 2026 20:00:00 GMT"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", ByteRange(0, 100)),
        ("bytes=100-199", ByteRange(100, 200)),
        ("bytes=100-", ByteRange(100, SIZE)),
        ("bytes=-100", ByteRange(SIZE - 100, SIZE)),  # suffix: the last 100 bytes
        ("bytes=-20000", ByteRange(0, SIZE)),  # a suffix longer than the file is the whole file
        ("bytes=0-20000", ByteRange(0, SIZE)),  # the end is clamped
        ("bytes=10283-10283", ByteRange(SIZE - 1, SIZE)),
        ("bytes=0-99999999999999999999", ByteRange(0, SIZE)),
        ("bytes=0-" + "9" * 5000, ByteRange(0, SIZE)),  # beyond int()'s digit limit
        ("BYTES=5-9", ByteRange(5, 10)),  # the unit is case-insensitive
        ("bytes=005-009", ByteRange(5, 10)),
        ("bytes=5-9,", ByteRange(5, 10)),  # empty list elements are allowed
        (" bytes=5-9 ", ByteRange(5, 10)),
    ],
)
def test_one_satisfiable_range(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=10284-",  # starts at the end
        "bytes=10284-10300",
        "bytes=99999999999999999999-",
        "bytes=" + "9" * 5000 + "-",
        "bytes=-0",  # an empty suffix
        "bytes=20000-30000, 40000-",
    ],
)
def test_unsatisfiable_ranges(header: str) -> None:
    assert parse_range(header, SIZE) is UNSATISFIABLE


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5-4",  # last before first: invalid, so the field is ignored
        "bytes=1-2-3",
        "bytes=٠-٩",  # non-ASCII digits are not DIGIT
        "bytes=+5-9",
        "bytes=5 - 9",
        "items=0-9",  # a unit we do not know
        "by tes=0-9",
        "bytes=0-9, 20-29",  # several ranges: the whole file (no multipart/byteranges)
        "bytes=0-9, 99999-",  # several, one satisfiable
        "bytes=0-9, x",  # one invalid spec invalidates the field
    ],
)
def test_ignored_ranges_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, SIZE) is WHOLE


def test_an_empty_file_is_sent_whole() -> None:
    assert parse_range("bytes=0-10", 0) is WHOLE
    assert parse_range("bytes=-10", 0) is WHOLE


def test_content_range() -> None:
    assert ByteRange(0, 100).content_range(SIZE) == f"bytes 0-99/{SIZE}"
    assert ByteRange(0, 100).length == 100


@pytest.mark.parametrize(
    ("if_range", "matches"),
    [
        (ETAG, True),
        (f"W/{ETAG}", False),  # a weak tag never matches (strong comparison)
        ('"other"', False),
        (MODIFIED_HTTP, True),
        ("Sun, 06 Dec 2026 20:00:01 GMT", False),
        ("Sun, 06 Dec 2026 19:59:59 GMT", False),
        ("yesterday", False),
        ("", False),
        ("Sun, 99 Foo 2026 25:61:61 GMT", False),
    ],
)
def test_if_range(if_range: str, matches: bool) -> None:
    assert if_range_matches(if_range, ETAG, MODIFIED) is matches


def test_select_range_honours_if_range() -> None:
    kw = {"etag": ETAG, "last_modified": MODIFIED}
    assert select_range("bytes=0-9", ETAG, SIZE, **kw) == ByteRange(0, 10)  # type: ignore[arg-type]
    assert select_range("bytes=0-9", '"stale"', SIZE, **kw) is WHOLE  # type: ignore[arg-type]
    assert select_range("bytes=0-9", MODIFIED_HTTP, SIZE, **kw) == ByteRange(0, 10)  # type: ignore[arg-type]
    assert select_range("bytes=99999-", '"stale"', SIZE, **kw) is WHOLE  # type: ignore[arg-type]
    assert select_range(None, ETAG, SIZE, **kw) is WHOLE  # type: ignore[arg-type]
