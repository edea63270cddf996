"""``GET /api/calls/{id}/recording``: private call audio, never cached."""

from __future__ import annotations

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

