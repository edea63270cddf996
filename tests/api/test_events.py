from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import trio

from api.app import create_app
from api.errors import SettingsError
from api.settings import Settings
from tests.api.conftest import login, make_tenant


async def read_stream(client: Any, until: bytes, *, headers: dict[str, str] | None = None, after_connect: Any = None) -> str:
    """Open /api/events, run ``after_connect`` once connected, read until ``until``, disconnect.

    Quart's test connection waits on exit for a body end that an endless stream never sends,
    so the surrounding scope is cancelled once the client has disconnected.
    """
    data = b""
    with trio.CancelScope() as scope, trio.fail_after(20):
        async with client.request("/api/events", headers=headers or {}) as conn:
            await conn.send_complete()
            while b": connected" not in data:
                data += await conn.receive()
            if after_connect is not None:
                after_connect()
            while until not in data:
                data += await conn.receive()
            await conn.disconnect()
            scope.cancel()
    return data.decode()


async def test_events_stream_only_the_callers_business(app: Any, db: Any, redis_client: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    client = app.test_client()
    await login(client, a.agent_email)

    def publish() -> None:
        for fields in (
            {"type": "call_started", "call_sid": "CA-b", "business_id": str(b.business_id)},
            {"type": "barge_in", "call_sid": "CA-a", "business_id": str(a.business_id)},
            {"type": "call_started", "call_sid": "CA-a", "business_id": str(a.business_id)},
            {"type": "call_ended", "call_sid": "CA-a", "business_id": str(a.business_id), "reason": "stopped"},
        ):
            redis_client.xadd("calls:events", fields)

    text = await read_stream(client, b"event: call_ended", after_connect=publish)
    assert "event: call_started" in text and '"call_sid":"CA-a"' in text
    assert "CA-b" not in text and "barge_in" not in text
    assert text.index("call_started") < text.index("call_ended")


async def test_events_resume_after_last_event_id(app: Any, db: Any, redis_client: Any) -> None:
    a = make_tenant(db, 1)
    first = redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-1", "business_id": str(a.business_id)})
    redis_client.xadd("calls:events", {"type": "call_ended", "call_sid": "CA-1", "business_id": str(a.business_id)})
    client = app.test_client()
    await login(client, a.agent_email)
    text = await read_stream(client, b"event: call_ended", headers={"Last-Event-ID": first})
    assert "event: call_started" not in text


async def test_events_require_login(client: Any) -> None:
    assert (await client.get("/api/events")).status_code == 401


class OpenStream:
    """One ``/api/events`` connection read in the background, its text kept as it arrives."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.text = ""
        self.ended = False
        self._changed = trio.Event()

        self._reading = trio.CancelScope()

    async def run(self) -> None:
        # As in read_stream: disconnect, then cancel around the connection (its exit waits
        # for a body end an open stream never sends).
        with trio.CancelScope() as outer:
            async with self.client.request("/api/events") as conn:
                await conn.send_complete()
                with self._reading:
                    try:
                        while True:
                            self.text += (await conn.receive()).decode()
                            self._changed.set()
                            self._changed = trio.Event()
                    except trio.EndOfChannel:
                        self.ended = True
                        self._changed.set()
                if not self.ended:
                    await conn.disconnect()
                    outer.cancel()

    def stop(self) -> None:
        self._reading.cancel()

    async def wait_for(self, needle: str) -> None:
        while needle not in self.text:
            await self._changed.wait()

    async def wait_ended(self) -> None:
        while not self.ended:
            await self._changed.wait()


async def open_streams(nursery: Any, client: Any, n: int) -> list[OpenStream]:
    streams = [OpenStream(client) for _ in range(n)]
    for stream in streams:  # one at a time, so "oldest" is well defined
        nursery.start_soon(stream.run)
        await stream.wait_for(": connected")
    return streams


def stop_all(*groups: list[OpenStream]) -> None:
    for group in groups:
        for stream in group:
            stream.stop()


@pytest.fixture
async def capped(api_settings: Settings) -> AsyncIterator[Any]:
    """The app with 2 streams per user and 3 per business."""
    application = create_app(replace(api_settings, events_max_streams_per_user=2, events_max_streams_per_business=3))
    async with application.test_app() as test_app:
        yield test_app
    application.extensions["prosaas"].close()


async def test_a_users_third_stream_closes_their_oldest_with_the_reason(capped: Any, db: Any, redis_client: Any) -> None:
    a = make_tenant(db, 1)
    agent, owner = capped.test_client(), capped.test_client()
    await login(agent, a.agent_email)
    await login(owner, a.owner_email)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            first, second = await open_streams(nursery, agent, 2)
            (colleague,) = await open_streams(nursery, owner, 1)
            (third,) = await open_streams(nursery, agent, 1)
            await first.wait_for("event: closed")
            assert 'data: {"reason": "too_many_streams_for_user"}' in first.text
            redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-x", "business_id": str(a.business_id)})
            for stream in (second, third, colleague):
                await stream.wait_for("CA-x")
                assert "event: closed" not in stream.text
            await first.wait_ended()
            assert "CA-x" not in first.text
            stop_all([second, third, colleague])


async def test_a_business_over_its_cap_closes_its_oldest_stream_not_another_business(
    capped: Any, db: Any, redis_client: Any
) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    agent, owner, other = capped.test_client(), capped.test_client(), capped.test_client()
    await login(agent, a.agent_email)
    await login(owner, a.owner_email)
    await login(other, b.agent_email)
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            elsewhere = await open_streams(nursery, other, 2)
            agents = await open_streams(nursery, agent, 2)
            owners = await open_streams(nursery, owner, 2)  # the business's 4th stream: over its cap of 3
            oldest = agents[0]
            await oldest.wait_for("event: closed")
            assert 'data: {"reason": "too_many_streams_for_business"}' in oldest.text
            redis_client.xadd("calls:events", {"type": "call_started", "call_sid": "CA-b", "business_id": str(b.business_id)})
            for stream in elsewhere:
                await stream.wait_for("CA-b")
                assert "event: closed" not in stream.text
            assert "event: closed" not in agents[1].text + owners[0].text + owners[1].text
            stop_all(elsewhere, agents, owners)


async def test_readiness_and_requests_answer_while_many_streams_are_open(api_settings: Settings, db: Any, redis_client: Any) -> None:
    # 60 streams: more than trio's default thread limiter (40), the Redis pool (32) and the
    # database pool (5) that streams used to hold or starve.
    application = create_app(replace(api_settings, events_max_streams_per_user=100, events_max_streams_per_business=100))
    a = make_tenant(db, 1)
    async with application.test_app() as app:
        client = app.test_client()
        await login(client, a.agent_email)
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                streams = await open_streams(nursery, client, 60)
                ready = await client.get("/readyz")
                assert ready.status_code == 200, await ready.get_data(as_text=True)
                leads = await client.get("/api/leads")
                assert leads.status_code == 200
                assert application.extensions["prosaas"].extras["event_hub"].statistics().open_streams == 60
                redis_client.xadd("calls:events", {"type": "call_ended", "call_sid": "CA-y", "business_id": str(a.business_id)})
                for stream in (streams[0], streams[-1]):
                    await stream.wait_for("CA-y")
                stop_all(streams)
    application.extensions["prosaas"].close()


def test_one_account_cannot_reach_the_process_wide_stream_cap() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"EVENTS_MAX_STREAMS": "50", "EVENTS_MAX_STREAMS_PER_USER": "50",
                           "EVENTS_MAX_STREAMS_PER_BUSINESS": "60"})
    assert any(p.startswith("EVENTS_MAX_STREAMS_PER_USER:") for p in caught.value.problems)
    assert any(p.startswith("EVENTS_MAX_STREAMS_PER_BUSINESS:") for p in caught.value.problems)
    assert Settings.from_env({}).events_max_streams_per_user < Settings.from_env({}).events_max_streams


async def test_a_stream_opened_before_logout_ends_with_the_session(
    app: Any, db: Any, redis_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live event stream is a request of its session too: once the session is ended (here by
    logging out everywhere from another browser), the stream closes with ``session_ended``
    at its next check instead of streaming on for as long as it stays open."""
    from api.routes import events as events_route

    monkeypatch.setattr(events_route, "SESSION_RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(events_route, "KEEPALIVE_SECONDS", 0.2)
    a = make_tenant(db, 1)
    watcher, other = app.test_client(), app.test_client()
    await login(watcher, a.agent_email)
    headers = await login(other, a.agent_email)

    connected = trio.Event()
    seen: dict[str, str] = {}

    async def watch() -> None:
        seen["text"] = await read_stream(watcher, b"session_ended", after_connect=connected.set)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watch)
        await connected.wait()
        assert (await other.post("/api/auth/logout-everywhere", headers=headers)).status_code == 200
    text = seen["text"]
    assert 'event: closed\ndata: {"reason": "session_ended"}' in text
    assert (await watcher.get("/api/auth/me")).status_code == 401
