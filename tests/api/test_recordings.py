"""``GET /api/calls/{id}/recording``: private call audio, never cached, byte ranges per RFC 9110
(``api/ranges.py``), every answer checked against the bytes on disk with a Content-Length equal to
the bytes sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.api.conftest import login, make_tenant
from tests.api.test_resources import add_call

SIZE = 10_284  # the size from the issue report


@dataclass
class Recording:
    url: str
    data: bytes


async def recording(client: Any, db: Any, api_settings: Any) -> Recording:
    tenant = make_tenant(db, 1)
    api_settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    data = bytes((i * 7 + i // 256) % 256 for i in range(SIZE))
    path = api_settings.recordings_dir / "CA1.wav"
    path.write_bytes(data)
    call = add_call(db, tenant.business_id, "CA1", recording_path=str(path))
    await login(client, tenant.agent_email)
    return Recording(f"/api/calls/{call.id}/recording", path.read_bytes())


async def test_recordings_are_never_cached(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    for headers in ({}, {"Range": "bytes=0-99"}):
        resp = await client.get(rec.url, headers=headers)
        assert resp.status_code in (200, 206)
        assert resp.headers["Cache-Control"] == "private, no-store", headers
        assert "Expires" not in resp.headers


async def fetch(client: Any, url: str, **headers: str) -> tuple[int, bytes, Any]:
    resp = await client.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    body = await resp.get_data()
    if "Content-Length" in resp.headers:
        assert int(resp.headers["Content-Length"]) == len(body), (headers, resp.headers["Content-Length"], len(body))
    return resp.status_code, body, resp.headers


async def test_ranges_are_served_byte_exact(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    data = rec.data
    cases = {
        "bytes=0-99": (0, 100),
        "bytes=100-199": (100, 200),
        "bytes=10000-": (10_000, SIZE),
        "bytes=-100": (SIZE - 100, SIZE),  # suffix range: the last 100 bytes
        "bytes=-20000": (0, SIZE),
        "bytes=0-20000": (0, SIZE),  # the end is clamped to the file
        "bytes=10283-10283": (SIZE - 1, SIZE),
        "bytes=0-99999999999999999999": (0, SIZE),
        "bytes=500-" + "9" * 5000: (500, SIZE),
    }
    for header, (start, stop) in cases.items():
        status, body, headers = await fetch(client, rec.url, Range=header)
        assert status == 206, (header, status, body[:200])
        assert body == data[start:stop], header
        assert headers["Content-Range"] == f"bytes {start}-{stop - 1}/{SIZE}", header
        assert headers["Content-Type"] == "audio/wav"


async def test_unsatisfiable_ranges_are_416_with_the_size(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    for header in ("bytes=10284-", "bytes=20000-30000", "bytes=99999999999999999999-", "bytes=-0",
                   "bytes=" + "9" * 5000 + "-"):
        status, body, headers = await fetch(client, rec.url, Range=header)
        assert status == 416, (header, status)
        assert headers["Content-Range"] == f"bytes */{SIZE}"
        error = json.loads(body)["error"]
        assert error["code"] == "range_not_satisfiable" and str(SIZE) in error["message"]


async def test_ranges_that_are_ignored_get_the_whole_file(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    for header in ("bytes=0-9, 20-29", "bytes=0-9,99999-", "bytes=5-4", "bytes=abc", "items=0-9", "bytes=",
                   "bytes=٠-٩"):
        status, body, headers = await fetch(client, rec.url, Range=header)
        assert (status, body) == (200, rec.data), header
        assert "Content-Range" not in headers


async def test_whole_file_carries_its_validators(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    status, body, headers = await fetch(client, rec.url)
    assert (status, body) == (200, rec.data)
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"].startswith('"') and headers["Last-Modified"].endswith("GMT")
    assert headers["Content-Disposition"].startswith("attachment")


async def test_if_range_sends_the_whole_file_when_it_no_longer_matches(client: Any, db: Any, api_settings: Any) -> None:
    rec = await recording(client, db, api_settings)
    _, _, headers = await fetch(client, rec.url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    for validator in (etag, modified):
        status, body, _ = await fetch(client, rec.url, Range="bytes=-100", If_Range=validator)
        assert (status, body) == (206, rec.data[-100:]), validator
    for validator in ('"stale"', f"W/{etag}", "Thu, 01 Jan 1970 00:00:00 GMT", "garbage"):
        status, body, _ = await fetch(client, rec.url, Range="bytes=-100", If_Range=validator)
        assert (status, body) == (200, rec.data), validator
    # If-Range does not turn an unsatisfiable range of a changed file into a 416 either.
    status, body, _ = await fetch(client, rec.url, Range="bytes=99999-", If_Range='"stale"')
    assert (status, body) == (200, rec.data)
