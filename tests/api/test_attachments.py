"""``/api/attachments``: upload → thumbnail job on a real Redis queue (burst worker) → ready, on
SQLite and PostgreSQL; type sniffing, the size cap (JSON 413, from the test client and from a
real ``python -m api``), dedupe, tenancy and the failure paths end to end."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import redis
from PIL import Image
from quart.datastructures import FileStorage
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from api import responses
from api.app import MAX_BODY_BYTES, create_app
from api.db.models import Attachment
from api.settings import Settings
from contracts.jobs import MAKE_THUMBNAIL
from jobs import db as jobs_db
from tests.api.conftest import REDIS_URL, login, make_admin, make_tenant
from tests.conftest import free_port, wait_for_port
from tests.fakes.burst_worker import run_burst
from tests.jobs import images

ROOT = Path(__file__).resolve().parents[2]


def upload_of(data: bytes, *, name: str = "photo.png", content_type: str = "image/png") -> dict[str, FileStorage]:
    return {"file": FileStorage(io.BytesIO(data), filename=name, content_type=content_type)}


async def upload(client: Any, headers: dict[str, str], data: bytes, path: str = "/api/attachments", **kw: Any) -> Any:
    return await client.post(path, files=upload_of(data, **kw), headers=headers)


@pytest.fixture
def worker(api_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queue]:
    """The thumbnail queue and what its jobs need: the same database and MEDIA_DIR as the API."""
    jobs_db.configure(api_settings.database_url)
    monkeypatch.setenv("MEDIA_DIR", str(api_settings.media_dir))
    connection = redis.Redis.from_url(REDIS_URL)
    yield Queue(MAKE_THUMBNAIL.queue, connection=connection, serializer=JSONSerializer)
    connection.close()
    jobs_db.reset()


async def test_upload_then_the_worker_makes_the_thumbnail(client: Any, db: Any, worker: Queue, api_settings: Settings) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    data = images.jpeg((1200, 600))
    resp = await upload(client, headers, data, name="../../etc/passwd.exe", content_type="text/plain")
    assert resp.status_code == 201, await resp.get_data(as_text=True)
    body = await resp.get_json()
    responses.Attachment.model_validate(body)
    digest = hashlib.sha256(data).hexdigest()
    assert (body["mime"], body["size_bytes"], body["sha256"], body["status"]) == ("image/jpeg", len(data), digest, "pending")
    assert body["thumbnail_url"] is None and body["business_id"] == tenant.business_id
    stored = api_settings.media_dir / str(tenant.business_id) / f"{digest}.jpg"
    assert stored.read_bytes() == data  # named by content, not by the client's file name
    assert worker.job_ids == [f"thumbnail-{body['id']}"]

    pending = await client.get(f"/api/attachments/{body['id']}/thumbnail")
    assert pending.status_code == 404
    assert (await pending.get_json())["error"]["code"] == "thumbnail_not_ready"

    assert run_burst(worker)
    detail = await (await client.get(f"/api/attachments/{body['id']}")).get_json()
    assert (detail["status"], detail["error"]) == ("ready", "")
    assert detail["thumbnail_url"] == f"/api/attachments/{body['id']}/thumbnail"
    thumb = await client.get(detail["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    assert thumb.headers["Cache-Control"] == "private, no-store"
    assert Image.open(io.BytesIO(await thumb.get_data())).size == (320, 160)
    original = await client.get(detail["content_url"])
    assert original.status_code == 200 and original.headers["Content-Type"] == "image/jpeg"
    assert await original.get_data() == data


async def test_bad_files_end_as_failed_with_their_reason(client: Any, db: Any, worker: Queue) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    ids = {}
    for name, data in (("bomb", images.bomb_png()), ("corrupt", images.corrupt_png()),
                       ("truncated", images.truncated_jpeg()), ("pdf", images.pdf())):
        resp = await upload(client, headers, data)
        assert resp.status_code == 201, name
        ids[name] = (await resp.get_json())["id"]
    assert run_burst(worker)
    for name, reason in (("bomb", "image too large"), ("corrupt", "not a valid"), ("truncated", "truncated")):
        detail = await (await client.get(f"/api/attachments/{ids[name]}")).get_json()
        assert detail["status"] == "failed" and reason in detail["error"], (name, detail)
        resp = await client.get(f"/api/attachments/{ids[name]}/thumbnail")
        error = (await resp.get_json())["error"]
        assert resp.status_code == 404 and error["details"] == {"status": "failed"} and reason in error["message"]
    pdf = await (await client.get(f"/api/attachments/{ids['pdf']}")).get_json()
    assert (pdf["mime"], pdf["status"]) == ("application/pdf", "ready") and pdf["thumbnail_url"]


async def test_the_type_comes_from_the_bytes_not_from_the_client(client: Any, db: Any, worker: Queue) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    for data in (b"MZ\x90\x00 an executable", b"<html><script>alert(1)</script>", b"", b"\x89PN"):
        resp = await upload(client, headers, data, name="cat.png", content_type="image/png")
        body = await resp.get_json()
        assert resp.status_code == 415 and body["error"]["code"] == "unsupported_media_type", body
        assert "image/png" in body["error"]["details"]["allowed"]
    resp = await upload(client, headers, images.gif(), name="notes.txt", content_type="text/plain")
    assert (await resp.get_json())["mime"] == "image/gif"
    resp = await upload(client, headers, images.pdf(), name="x.jpg", content_type="image/jpeg")
    assert (await resp.get_json())["mime"] == "application/pdf"
    assert db.scalar(select(func.count()).select_from(Attachment)) == 2


async def test_the_same_bytes_twice_are_stored_once(client: Any, db: Any, worker: Queue, api_settings: Settings) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    data = images.png((64, 64))
    first = await (await upload(client, headers, data)).get_json()
    second = await (await upload(client, headers, data, name="again.png")).get_json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert [p.name for p in (api_settings.media_dir / str(tenant.business_id)).iterdir()] == [f"{first['sha256']}.png"]
    assert run_burst(worker)
    for row in (first, second):
        assert (await (await client.get(f"/api/attachments/{row['id']}")).get_json())["status"] == "ready"


async def test_the_upload_form_is_validated(client: Any, db: Any, worker: Queue) -> None:
    tenant = make_tenant(db, 1)
    resp = await client.post("/api/attachments", files=upload_of(images.png()))
    assert resp.status_code == 401  # no session
    headers = await login(client, tenant.agent_email)
    for kw in ({"form": {"note": "x"}}, {"json": {"file": "abc"}}, {}):
        resp = await client.post("/api/attachments", headers=headers, **kw)
        body = await resp.get_json()
        assert resp.status_code == 422 and body["error"]["code"] == "invalid_body", (kw, body)
        assert any(d["field"] == "file" for d in body["error"]["details"]), body
    resp = await client.post("/api/attachments", headers=headers, files=upload_of(images.png()), form={"extra": "1"})
    assert resp.status_code == 422


@pytest.fixture
async def small_app(api_settings: Settings) -> AsyncIterator[Any]:
    application = create_app(replace(api_settings, max_upload_bytes=4096))
    async with application.test_app() as test_app:
        yield test_app
    application.extensions["prosaas"].close()


async def test_a_file_over_the_cap_is_refused_with_json_naming_the_limit(small_app: Any, db: Any) -> None:
    client = small_app.test_client()
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    for size in (4097, 200_000):  # over the file cap; far over the body limit (refused as it arrives)
        data = b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8)
        resp = await upload(client, headers, data)
        body = await resp.get_json()
        assert resp.status_code == 413 and body["error"]["code"] == "payload_too_large", (size, body)
        assert body["error"]["details"] == {"limit_bytes": 4096} and "4096 bytes (MAX_UPLOAD_BYTES)" in body["error"]["message"]
    assert (await upload(client, headers, images.png((8, 8)))).status_code == 201
    assert db.scalar(select(func.count()).select_from(Attachment)) == 1
    # other routes keep the app's 1 MiB body limit, as JSON too
    resp = await client.post("/api/leads", data=b"x" * (MAX_BODY_BYTES + 1), headers={**headers, "Content-Type": "application/json"})
    assert resp.status_code == 413 and (await resp.get_json())["error"]["details"] == {"limit_bytes": MAX_BODY_BYTES}


async def test_redis_down_refuses_the_upload_and_keeps_no_row(client: Any, app: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    runtime = app.app.extensions["prosaas"]
    runtime.extras["queue_redis"] = redis.Redis(port=free_port(), socket_connect_timeout=0.5, socket_timeout=0.5)
    resp = await upload(client, headers, images.png((16, 16)))
    body = await resp.get_json()
    assert resp.status_code == 503 and body["error"]["code"] == "redis_unavailable" and resp.headers["Retry-After"]
    assert db.scalar(select(func.count()).select_from(Attachment)) == 0


async def test_a_business_never_sees_another_business_attachments(
    client: Any, db: Any, worker: Queue, api_settings: Settings
) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    headers = await login(client, a.agent_email)
    mine = await (await upload(client, headers, images.png((40, 40)))).get_json()
    assert run_burst(worker)
    paths = [f"/api/attachments/{mine['id']}", f"/api/attachments/{mine['id']}/content",
             f"/api/attachments/{mine['id']}/thumbnail"]
    for path in paths:
        assert (await client.get(path)).status_code == 200, path
    await client.post("/api/auth/logout", headers=headers)
    for email in (b.agent_email, b.owner_email):
        headers = await login(client, email)
        for path in paths:
            resp = await client.get(path)
            assert resp.status_code == 404, (email, path)
            assert (await resp.get_json())["error"]["code"] == "attachment_not_found"
            resp = await client.get(path + f"?business_id={a.business_id}")  # naming the other business
            assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "business_not_found"
        await client.post("/api/auth/logout", headers=headers)
    headers = await login(client, make_admin(db))  # a system admin names the business
    for path in paths:
        assert (await client.get(path + f"?business_id={a.business_id}")).status_code == 200, path
        assert (await client.get(path + f"?business_id={b.business_id}")).status_code == 404, path
    resp = await client.post(f"/api/attachments?business_id={b.business_id}", files=upload_of(images.png()), headers=headers)
    assert (await resp.get_json())["business_id"] == b.business_id
    resp = await client.post("/api/attachments?business_id=999", files=upload_of(images.png()), headers=headers)
    assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "business_not_found"
    assert not (api_settings.media_dir / "999").exists()  # nothing stored for a business that does not exist


# --- a real server: Hypercorn's body limit answers JSON, not an HTML page ----------------------


@pytest.fixture
def live_api(tmp_path: Path, redis_client: object) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "REDIS_URL": REDIS_URL,
        "API_PORT": str(port),
        "API_HOST": "127.0.0.1",
        "MEDIA_DIR": str(tmp_path / "media"),
        "MAX_UPLOAD_BYTES": "2048",
        "SEED_OWNER_PASSWORD": "owner password for uploads",
        "SEED_ADMIN_PASSWORD": "admin password for uploads",
        "LOG_LEVEL": "WARNING",
    }
    for module in ("api.migrate", "api.seed"):
        subprocess.run([sys.executable, "-m", module], env=env, cwd=ROOT, check=True, capture_output=True, timeout=60)
    with (tmp_path / "api.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "api"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_for_port(port, proc):
                pytest.fail("python -m api did not start: " + (tmp_path / "api.log").read_text())
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_real_server_answers_json_413_for_a_body_over_the_limit(live_api: str) -> None:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_request = urllib.request.Request(
        live_api + "/api/auth/login", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"email": "owner@demo.prosaas.local", "password": "owner password for uploads"}).encode(),
    )
    with opener.open(login_request, timeout=10) as resp:
        csrf = json.loads(resp.read())["csrf_token"]

    def post(path: str, body: bytes, content_type: str) -> tuple[int, str, Any]:
        request = urllib.request.Request(live_api + path, data=body, method="POST",
                                         headers={"Content-Type": content_type, "X-CSRF-Token": csrf})
        try:
            with opener.open(request, timeout=10) as resp:
                return resp.status, resp.headers["Content-Type"], json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], json.loads(exc.read())

    ok = post("/api/attachments", *multipart(images.png((8, 8))))
    assert ok[0] == 201 and ok[2]["status"] == "pending", ok
    for size in (3000, 500_000):  # over the file cap; over the whole body limit
        status, content_type, body = post("/api/attachments", *multipart(b"\x89PNG\r\n\x1a\n" + b"\0" * size))
        assert (status, content_type) == (413, "application/json"), (size, status, body)
        assert body["error"]["details"] == {"limit_bytes": 2048} and "MAX_UPLOAD_BYTES" in body["error"]["message"]
    status, content_type, body = post("/api/leads", b"[" * (MAX_BODY_BYTES + 10), "application/json")
    assert (status, content_type, body["error"]["details"]) == (413, "application/json", {"limit_bytes": MAX_BODY_BYTES})
