"""``/api/email-accounts``: CRUD by owners and admins, the write-only password (encrypted at
rest), the sync status, "sync now" through the queue, and tenancy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from api.app import create_app
from api.crypto import SecretBox
from api.db.models import EmailAccount
from api.routes import email_accounts as routes
from api.settings import Settings
from contracts.jobs import SYNC_EMAIL_ACCOUNT
from tests.api.conftest import REDIS_URL, login, make_admin, make_tenant
from tests.conftest import PrivateRedis

SECRET = "imap secret 42"
BODY = {"address": "Sales@Example.test", "imap_host": "imap.example.test", "imap_username": "sales",
        "password": SECRET, "tls_mode": "starttls", "imap_port": 143}


def stored(db: Any, account_id: int) -> EmailAccount:
    db.expire_all()
    row = db.get(EmailAccount, account_id)
    assert row is not None
    return row


async def test_owner_creates_lists_updates_and_deletes_an_account(
    client: Any, db: Any, api_settings: Settings
) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)

    resp = await client.post("/api/email-accounts", json=BODY, headers=headers)
    assert resp.status_code == 201, await resp.get_data(as_text=True)
    created = await resp.get_json()
    assert created["address"] == "sales@example.test" and created["business_id"] == tenant.business_id
    assert created["password_set"] is True and created["mailbox"] == "INBOX" and created["next_sync_at"] is None
    assert SECRET not in await resp.get_data(as_text=True) and "secret" not in created and "password" not in created
    row = stored(db, created["id"])
    assert SECRET not in row.secret_encrypted
    assert SecretBox.from_settings(api_settings).decrypt(row.secret_encrypted) == SECRET

    routes.EmailAccount.model_validate(created)  # the documented shape, no undocumented field
    listed = await (await client.get("/api/email-accounts")).get_json()
    routes.EmailAccountList.model_validate(listed)
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert SECRET not in str(listed)

    resp = await client.post("/api/email-accounts", json={**BODY, "address": "sales@example.TEST"}, headers=headers)
    assert resp.status_code == 409 and (await resp.get_json())["error"]["code"] == "email_account_exists"

    resp = await client.delete(f"/api/email-accounts/{created['id']}", headers=headers)
    assert resp.status_code == 200 and (await resp.get_json()) == {"deleted": created["id"]}
    resp = await client.get(f"/api/email-accounts/{created['id']}")
    assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "email_account_not_found"


async def test_sync_status_is_shown_and_new_credentials_make_the_account_due_at_once(
    client: Any, db: Any, api_settings: Settings
) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    created = await (await client.post("/api/email-accounts", json=BODY, headers=headers)).get_json()
    row = stored(db, created["id"])
    later = datetime.now(UTC) + timedelta(hours=2)
    row.last_error, row.consecutive_failures, row.next_sync_at = "IMAP login failed for sales at x:143", 3, later
    row.last_uid, row.uid_validity, row.last_synced_at = 77, 12345, datetime(2026, 12, 1, tzinfo=UTC)
    db.commit()

    shown = await (await client.get(f"/api/email-accounts/{created['id']}")).get_json()
    assert shown["last_error"] == "IMAP login failed for sales at x:143" and shown["consecutive_failures"] == 3
    assert (shown["last_uid"], shown["uid_validity"]) == (77, 12345)
    assert shown["last_synced_at"] == "2026-12-01T00:00:00+00:00"
    assert datetime.fromisoformat(shown["next_sync_at"]) == later

    resp = await client.patch(f"/api/email-accounts/{created['id']}", json={"password": "new secret"}, headers=headers)
    assert resp.status_code == 200
    updated = await resp.get_json()
    routes.EmailAccount.model_validate(updated)
    assert updated["next_sync_at"] is None and updated["consecutive_failures"] == 0 and updated["last_uid"] == 77
    assert SecretBox.from_settings(api_settings).decrypt(stored(db, created["id"]).secret_encrypted) == "new secret"

    moved = await (await client.patch(f"/api/email-accounts/{created['id']}", json={"mailbox": "Sales"},
                                      headers=headers)).get_json()
    assert (moved["mailbox"], moved["last_uid"], moved["uid_validity"]) == ("Sales", 0, None)

    same = await (await client.patch(f"/api/email-accounts/{created['id']}", json={"sync_interval_seconds": 900},
                                     headers=headers)).get_json()
    assert same["sync_interval_seconds"] == 900 and same["mailbox"] == "Sales"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "tls_mode": "none"}, "tls_mode"),
        ({**BODY, "imap_port": 0}, "imap_port"),
        ({**BODY, "imap_host": "bad host/x"}, "imap_host"),
        ({**BODY, "password": ""}, "password"),
        ({**BODY, "sync_interval_seconds": 5}, "sync_interval_seconds"),
        ({**BODY, "address": "not-an-address"}, "address"),
        ({k: v for k, v in BODY.items() if k != "password"}, "password"),
        ({**BODY, "secret_encrypted": "x"}, "secret_encrypted"),
    ],
)
async def test_invalid_accounts_are_refused_naming_the_field(client: Any, db: Any, body: dict[str, Any], field: str) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.post("/api/email-accounts", json=body, headers=headers)
    error = (await resp.get_json())["error"]
    assert 400 <= resp.status_code < 500 and field in str(error["details"]), error


async def test_an_agent_may_not_see_or_change_email_accounts(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    for method, path in (("GET", "/api/email-accounts"), ("POST", "/api/email-accounts")):
        resp = await client.open(path, method=method, json=BODY, headers=headers)
        assert resp.status_code == 403 and (await resp.get_json())["error"]["code"] == "role_required"


async def test_sync_now_queues_one_job_per_minute(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    created = await (await client.post("/api/email-accounts", json=BODY, headers=headers)).get_json()

    first = await client.post(f"/api/email-accounts/{created['id']}/sync", headers=headers)
    again = await client.post(f"/api/email-accounts/{created['id']}/sync", headers=headers)

    assert first.status_code == again.status_code == 202
    body = await first.get_json()
    routes.SyncQueued.model_validate(body)
    assert body["account_id"] == created["id"] and body == await again.get_json()
    rq_conn = Redis.from_url(REDIS_URL)
    try:
        queue = Queue(SYNC_EMAIL_ACCOUNT.queue, connection=rq_conn, serializer=JSONSerializer)
        assert queue.job_ids == [body["job_id"]]
        job = queue.fetch_job(body["job_id"])
        assert job is not None and job.func_name == SYNC_EMAIL_ACCOUNT.name
        assert job.args == [{"version": 1, "account_id": created["id"]}]
    finally:
        rq_conn.close()

    await client.patch(f"/api/email-accounts/{created['id']}", json={"is_active": False}, headers=headers)
    resp = await client.post(f"/api/email-accounts/{created['id']}/sync", headers=headers)
    assert resp.status_code == 409 and (await resp.get_json())["error"]["code"] == "email_account_inactive"


async def test_a_business_never_sees_or_touches_another_business_s_accounts(client: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    headers = await login(client, a.owner_email)
    mine = await (await client.post("/api/email-accounts", json=BODY, headers=headers)).get_json()
    await client.post("/api/auth/logout", headers=headers)
    headers = await login(client, b.owner_email)
    theirs = await (await client.post("/api/email-accounts", json=BODY, headers=headers)).get_json()
    assert theirs["id"] != mine["id"]  # the same address is fine in another business

    assert [i["id"] for i in (await (await client.get("/api/email-accounts")).get_json())["items"]] == [theirs["id"]]
    url = f"/api/email-accounts/{mine['id']}"
    for method, path, body in (("GET", url, None), ("PATCH", url, {"password": "stolen"}),
                               ("POST", url + "/sync", None), ("DELETE", url, None)):
        resp = await client.open(path, method=method, json=body, headers=headers)
        assert resp.status_code == 404, (method, path, await resp.get_data(as_text=True))
    resp = await client.get(f"/api/email-accounts?business_id={a.business_id}")
    assert resp.status_code == 404
    row = stored(db, mine["id"])
    assert row.business_id == a.business_id and row.is_active
    assert db.scalar(select(EmailAccount.id).where(EmailAccount.id == mine["id"])) == mine["id"]
    assert redis_client.llen(f"rq:queue:{SYNC_EMAIL_ACCOUNT.queue}") == 0


async def test_a_system_admin_names_the_business(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, make_admin(db))
    resp = await client.post("/api/email-accounts", json=BODY, headers=headers)
    assert resp.status_code == 422 and (await resp.get_json())["error"]["code"] == "business_required"
    resp = await client.post(f"/api/email-accounts?business_id={tenant.business_id}", json=BODY, headers=headers)
    assert resp.status_code == 201 and (await resp.get_json())["business_id"] == tenant.business_id


async def test_sync_now_answers_503_when_redis_is_down(db: Any, api_settings: Settings, private_redis: PrivateRedis) -> None:
    tenant = make_tenant(db, 1)
    application = create_app(dataclasses.replace(api_settings, redis_url=private_redis.url))
    try:
        async with application.test_app() as test_app:
            client = test_app.test_client()
            headers = await login(client, tenant.owner_email)
            created = await (await client.post("/api/email-accounts", json=BODY, headers=headers)).get_json()
            private_redis.stop()
            resp = await client.post(f"/api/email-accounts/{created['id']}/sync", headers=headers)
            assert resp.status_code == 503 and (await resp.get_json())["error"]["code"] == "redis_unavailable"
            shown = await client.get(f"/api/email-accounts/{created['id']}")  # the rest still works
            assert shown.status_code == 200
    finally:
        application.extensions["prosaas"].close()
