"""Server-side sessions: a cookie is only as good as its row in ``user_session``.

Each test replays a cookie captured earlier (as an attacker who copied it would) from a client
without a cookie jar, so nothing the server sends back (a cleared cookie) can hide a session
that is still alive on the server.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.db.models import User, UserSession, utcnow
from api.security import CSRF_HEADER
from tests.api.conftest import make_admin, make_tenant

PASSWORD = "correct horse battery staple"


class Stolen:
    """A session cookie and its CSRF token, replayed by a client that keeps no cookies."""

    def __init__(self, app: Any, cookie: str, csrf: str) -> None:
        self.client = app.app.test_client(use_cookies=False)
        self.cookie, self.csrf = cookie, csrf

    async def me(self) -> int:
        resp = await self.client.get("/api/auth/me", headers={"Cookie": self.cookie})
        return int(resp.status_code)

    async def create_lead(self, phone: str) -> int:
        resp = await self.client.post(
            "/api/leads", json={"phone_e164": phone}, headers={"Cookie": self.cookie, CSRF_HEADER: self.csrf}
        )
        return int(resp.status_code)


async def steal(app: Any, email: str) -> Stolen:
    """Log in on a fresh client and keep what its cookie jar would hold."""
    resp = await app.test_client().post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
    return Stolen(app, cookie, (await resp.get_json())["csrf_token"])


async def login_as(client: Any, email: str) -> dict[str, str]:
    resp = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    return {CSRF_HEADER: (await resp.get_json())["csrf_token"]}


def user_id(db: Session, email: str) -> int:
    db.expire_all()
    found = db.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


async def test_a_cookie_captured_before_logout_is_refused_after_it(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    stolen = await steal(app, tenant.owner_email)
    assert await stolen.me() == 200
    assert await stolen.create_lead("+15551110001") == 201
    resp = await stolen.client.post("/api/auth/logout", headers={"Cookie": stolen.cookie, CSRF_HEADER: stolen.csrf})
    assert resp.status_code == 200
    assert await stolen.me() == 401
    assert await stolen.create_lead("+15551110002") == 401
    db.expire_all()
    assert db.scalars(select(UserSession)).all() == []


async def test_logout_ends_only_that_session(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    kept, ended = await steal(app, tenant.owner_email), await steal(app, tenant.owner_email)
    await ended.client.post("/api/auth/logout", headers={"Cookie": ended.cookie, CSRF_HEADER: ended.csrf})
    assert (await ended.me(), await kept.me()) == (401, 200)


async def test_changing_your_password_ends_your_other_sessions_but_not_this_one(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    other = await steal(app, tenant.agent_email)
    client = app.test_client()
    headers = await login_as(client, tenant.agent_email)
    uid = user_id(db, tenant.agent_email)
    resp = await client.patch(f"/api/users/{uid}", json={"password": "a brand new password"}, headers=headers)
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    assert await other.me() == 401
    assert (await client.get("/api/auth/me")).status_code == 200


async def test_an_admin_changing_a_password_ends_every_session_of_that_user(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    agent = await steal(app, tenant.agent_email)
    owner = app.test_client()
    headers = await login_as(owner, tenant.owner_email)
    resp = await owner.patch(f"/api/users/{user_id(db, tenant.agent_email)}", json={"password": "reset by the owner"},
                             headers=headers)
    assert resp.status_code == 200
    assert await agent.me() == 401
    assert (await owner.get("/api/auth/me")).status_code == 200


async def test_deactivation_ends_the_sessions_for_good(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    agent = await steal(app, tenant.agent_email)
    owner = app.test_client()
    headers = await login_as(owner, tenant.owner_email)
    uid = user_id(db, tenant.agent_email)
    assert (await owner.patch(f"/api/users/{uid}", json={"is_active": False}, headers=headers)).status_code == 200
    assert await agent.me() == 401
    # Reactivating the account does not bring the old cookie back to life.
    assert (await owner.patch(f"/api/users/{uid}", json={"is_active": True}, headers=headers)).status_code == 200
    assert await agent.me() == 401
    assert (await owner.get("/api/auth/me")).status_code == 200


async def test_a_session_idle_longer_than_the_idle_timeout_ends(app: Any, db: Session, api_settings: Any) -> None:
    tenant = make_tenant(db, 1)
    idle = api_settings.session_idle_seconds
    stale, fresh = await steal(app, tenant.owner_email), await steal(app, tenant.agent_email)
    now = utcnow()
    db.execute(update(UserSession).where(UserSession.user_id == user_id(db, tenant.owner_email))
               .values(last_seen_at=now - timedelta(seconds=idle + 5)))
    db.execute(update(UserSession).where(UserSession.user_id == user_id(db, tenant.agent_email))
               .values(last_seen_at=now - timedelta(seconds=idle - 30)))
    db.commit()
    assert await stale.me() == 401
    assert await fresh.me() == 200
    # The request that was seen moved last_seen_at forward: the session lives another idle period.
    db.expire_all()
    seen = db.scalar(select(UserSession.last_seen_at).where(UserSession.user_id == user_id(db, tenant.agent_email)))
    assert seen is not None and seen >= now - timedelta(seconds=1)
    assert len(db.scalars(select(UserSession)).all()) == 1  # the expired row is gone


async def test_a_session_older_than_the_absolute_lifetime_ends_even_if_active(
    app: Any, db: Session, api_settings: Any
) -> None:
    tenant = make_tenant(db, 1)
    stolen = await steal(app, tenant.owner_email)
    db.execute(update(UserSession).values(created_at=utcnow() - timedelta(seconds=api_settings.session_max_age_seconds + 5),
                                          last_seen_at=utcnow()))
    db.commit()
    assert await stolen.me() == 401


async def test_log_out_everywhere_ends_every_session_of_the_caller_only(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    elsewhere, colleague = await steal(app, tenant.owner_email), await steal(app, tenant.agent_email)
    client = app.test_client()
    headers = await login_as(client, tenant.owner_email)
    resp = await client.post("/api/auth/logout-everywhere", headers=headers)
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    assert await resp.get_json() == {"ended": 2}
    assert (await client.get("/api/auth/me")).status_code == 401
    assert await elsewhere.me() == 401
    assert await colleague.me() == 200


async def test_an_admin_ends_the_sessions_of_a_user_of_their_business(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    agent = await steal(app, tenant.agent_email)
    owner = app.test_client()
    headers = await login_as(owner, tenant.owner_email)
    resp = await owner.delete(f"/api/users/{user_id(db, tenant.agent_email)}/sessions", headers=headers)
    assert resp.status_code == 200, await resp.get_data(as_text=True)
    assert await resp.get_json() == {"ended": 1}
    assert await agent.me() == 401
    assert (await owner.get("/api/auth/me")).status_code == 200
    # The agent can log in again: the account is untouched.
    assert (await steal(app, tenant.agent_email)) is not None


async def test_ending_sessions_is_tenancy_and_role_checked(app: Any, db: Session) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    root = make_admin(db)
    b_agent, a_owner = await steal(app, b.agent_email), await steal(app, a.owner_email)
    b_agent_id, a_owner_id = user_id(db, b.agent_email), user_id(db, a.owner_email)

    owner_a = app.test_client()
    headers = await login_as(owner_a, a.owner_email)
    resp = await owner_a.delete(f"/api/users/{b_agent_id}/sessions", headers=headers)
    assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "user_not_found"
    assert await b_agent.me() == 200

    agent_a = app.test_client()
    headers = await login_as(agent_a, a.agent_email)
    resp = await agent_a.delete(f"/api/users/{a_owner_id}/sessions", headers=headers)
    assert resp.status_code == 403
    assert await a_owner.me() == 200

    admin = app.test_client()
    headers = await login_as(admin, root)
    resp = await admin.delete(f"/api/users/{b_agent_id}/sessions", headers=headers)
    assert resp.status_code == 200 and await resp.get_json() == {"ended": 1}
    assert await b_agent.me() == 401


async def test_ending_sessions_needs_the_csrf_header(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    agent = await steal(app, tenant.agent_email)
    owner = app.test_client()
    await login_as(owner, tenant.owner_email)
    resp = await owner.delete(f"/api/users/{user_id(db, tenant.agent_email)}/sessions")
    assert resp.status_code == 403 and (await resp.get_json())["error"]["code"] == "csrf_failed"
    assert (await owner.post("/api/auth/logout-everywhere")).status_code == 403
    assert await agent.me() == 200


async def test_an_unknown_user_id_is_404_not_500(app: Any, db: Session) -> None:
    make_tenant(db, 1)
    root = make_admin(db)
    admin = app.test_client()
    headers = await login_as(admin, root)
    for uid in (999, 99999999999999999999):
        resp = await admin.delete(f"/api/users/{uid}/sessions", headers=headers)
        assert resp.status_code == 404, (uid, resp.status_code)


async def test_logging_in_again_ends_the_session_the_browser_had(app: Any, db: Session) -> None:
    tenant = make_tenant(db, 1)
    client = app.test_client()
    first = await client.post("/api/auth/login", json={"email": tenant.owner_email, "password": PASSWORD})
    old = Stolen(app, first.headers["Set-Cookie"].split(";", 1)[0], (await first.get_json())["csrf_token"])
    assert await old.me() == 200
    await login_as(client, tenant.agent_email)
    assert await old.me() == 401
    assert (await client.get("/api/auth/me")).status_code == 200
    db.expire_all()
    assert len(db.scalars(select(UserSession)).all()) == 1
