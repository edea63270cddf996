from __future__ import annotations

from dataclasses import replace
from typing import Any

from api.app import create_app
from api.security import CSRF_HEADER
from tests.api.conftest import PASSWORD, login, make_tenant


async def test_login_sets_an_httponly_signed_cookie_and_me_works(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    resp = await client.post("/api/auth/login", json={"email": tenant.owner_email.upper(), "password": PASSWORD})
    assert resp.status_code == 200
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    body = await resp.get_json()
    assert body["user"]["role"] == "owner" and body["csrf_token"]
    me = await (await client.get("/api/auth/me")).get_json()
    assert me["user"]["email"] == tenant.owner_email and me["csrf_token"] == body["csrf_token"]


async def test_cookie_is_secure_in_production(api_settings: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    app = create_app(replace(api_settings, app_env="production"))
    async with app.test_app() as test_app:
        resp = await test_app.test_client().post("/api/auth/login", json={"email": tenant.owner_email, "password": PASSWORD})
    assert "Secure" in resp.headers["Set-Cookie"]


async def test_wrong_password_and_unknown_user_look_the_same(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    for email, password in ((tenant.owner_email, "wrong"), ("nobody@example.test", PASSWORD)):
        resp = await client.post("/api/auth/login", json={"email": email, "password": password})
        assert resp.status_code == 401
        assert (await resp.get_json())["error"]["code"] == "bad_credentials"


async def test_unauthenticated_requests_get_401(client: Any) -> None:
    for path in ("/api/auth/me", "/api/leads", "/api/calls", "/api/users", "/api/businesses"):
        resp = await client.get(path)
        assert resp.status_code == 401, path


async def test_state_changing_requests_need_the_csrf_header(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    resp = await client.post("/api/leads", json={"phone_e164": "+15551112222"})
    assert resp.status_code == 403 and (await resp.get_json())["error"]["code"] == "csrf_failed"
    resp = await client.post("/api/leads", json={"phone_e164": "+15551112222"}, headers={CSRF_HEADER: "forged"})
    assert resp.status_code == 403
    assert (await client.post("/api/leads", json={"phone_e164": "+15551112222"}, headers=headers)).status_code == 201


async def test_logout_ends_the_session(client: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.owner_email)
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 200
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_login_is_rate_limited_per_account(client: Any, db: Any, redis_client: Any) -> None:
    tenant = make_tenant(db, 1)
    for _ in range(5):
        await client.post("/api/auth/login", json={"email": tenant.owner_email, "password": "wrong"})
    resp = await client.post("/api/auth/login", json={"email": tenant.owner_email, "password": PASSWORD})
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    assert (await resp.get_json())["error"]["details"] == {"scope": "account"}
    # another account from the same address still works
    assert (await client.post("/api/auth/login", json={"email": tenant.agent_email, "password": PASSWORD})).status_code == 200


async def test_login_is_rate_limited_per_ip(client: Any, db: Any) -> None:
    make_tenant(db, 1)
    codes = [
        (await client.post("/api/auth/login", json={"email": f"u{i}@example.test", "password": "x"})).status_code
        for i in range(21)
    ]
    assert codes[:20] == [401] * 20 and codes[20] == 429


async def test_password_change_ends_other_sessions(app: Any, db: Any) -> None:
    tenant = make_tenant(db, 1)
    first, second = app.test_client(), app.test_client()
    await login(first, tenant.agent_email)
    headers = await login(second, tenant.agent_email)
    me = await (await second.get("/api/auth/me")).get_json()
    resp = await second.patch(f"/api/users/{me['user']['id']}", json={"password": "a brand new password"}, headers=headers)
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    assert (await first.get("/api/auth/me")).status_code == 401


async def test_login_body_is_validated(client: Any) -> None:
    resp = await client.post("/api/auth/login", json={"email": "a@b.c", "password": "x", "extra": 1})
    assert resp.status_code == 422
    assert (await resp.get_json())["error"]["details"][0]["field"] == "extra"
    resp = await client.post("/api/auth/login", data="{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and (await resp.get_json())["error"]["code"] == "malformed_json"
    resp = await client.post("/api/auth/login", form={"email": "a@b.c", "password": "x"})
    assert resp.status_code == 400 and (await resp.get_json())["error"]["code"] == "unsupported_media_type"
    for raw in (b"[" * 100_000, b'{"email": "\xee\xff"}'):  # nested too deeply; not UTF-8
        resp = await client.post("/api/auth/login", data=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400 and (await resp.get_json())["error"]["code"] == "malformed_json"


async def test_a_json_value_that_is_not_an_object_is_422(client: Any) -> None:
    resp = await client.post("/api/auth/login", json=["a@b.c", "x"])
    assert resp.status_code == 422
    error = (await resp.get_json())["error"]
    assert error["code"] == "invalid_body" and error["details"][0]["field"] == "(body)"


async def test_authentication_is_checked_before_the_body(client: Any, db: Any) -> None:
    for method, path in (("POST", "/api/leads"), ("PATCH", "/api/leads/1"), ("POST", "/api/users"),
                         ("POST", "/api/calls/outbound"), ("POST", "/api/businesses")):
        for kw in ({"json": {"bogus": 1}}, {"data": "{not json", "headers": {"Content-Type": "application/json"}}):
            resp = await client.open(path, method=method, **kw)
            assert resp.status_code == 401, (method, path, kw, resp.status_code)
    tenant = make_tenant(db, 1)
    headers = await login(client, tenant.agent_email)
    resp = await client.post("/api/businesses", json={"bogus": 1}, headers=headers)
    assert resp.status_code == 403  # the role is checked before the body too


async def test_behind_a_trusted_proxy_the_login_limit_is_per_client_address(api_settings: Any, db: Any) -> None:
    # nginx sets X-Forwarded-For to the peer it saw; the API trusts that one hop
    # (API_TRUSTED_PROXY_HOPS=1), so two clients behind it do not share one bucket, and a
    # client's own X-Forwarded-For entries (left of nginx's) change nothing.
    make_tenant(db, 1)

    async def attempts(test_client: Any, forwarded: str, n: int) -> list[int]:
        return [
            (await test_client.post("/api/auth/login", json={"email": f"u{i}@example.test", "password": "x"},
                                    headers={"X-Forwarded-For": forwarded})).status_code
            for i in range(n)
        ]

    app = create_app(replace(api_settings, trusted_proxy_hops=1))
    async with app.test_app() as test_app:
        c = test_app.test_client()
        assert await attempts(c, "10.0.0.1", 20) == [401] * 20
        assert await attempts(c, "203.0.113.9, 10.0.0.1", 1) == [429]  # a spoofed entry is not trusted
        assert await attempts(c, "10.0.0.2", 1) == [401]  # another client behind the same proxy
    app.extensions["prosaas"].close()

    direct = create_app(api_settings)  # no proxy trusted: the header is the client's own claim
    async with direct.test_app() as test_app:
        c = test_app.test_client()
        assert await attempts(c, "10.0.0.3", 20) == [401] * 20
        assert await attempts(c, "10.0.0.4", 1) == [429]
    direct.extensions["prosaas"].close()
