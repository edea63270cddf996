"""Load shedding (api/shedding.py): past ``API_MAX_IN_FLIGHT`` requests wait a bounded time in a
bounded queue (a burst is not overload), then get 503; the probes keep their own budget, and
requests succeed again once the held ones finish."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import trio

from api.app import create_app
from api.settings import Settings
from api.shedding import LoadShedder


async def test_past_the_in_flight_limit_requests_are_refused_at_once(api_settings: Settings) -> None:
    application = create_app(replace(api_settings, max_in_flight=2, max_waiting=0))
    release = trio.Event()
    held: list[int] = []
    entered = trio.Event()

    @application.get("/api/_test/hold")
    async def hold() -> dict[str, bool]:
        held.append(1)
        if len(held) == 2:
            entered.set()
        await release.wait()
        return {"ok": True}

    async with application.test_app() as app:
        client = app.test_client()
        answers: list[int] = []

        async def held_request() -> None:
            answers.append((await client.get("/api/_test/hold")).status_code)

        with trio.fail_after(20):  # a hang guard: a request queued behind the held ones never ends
            async with trio.open_nursery() as nursery:
                nursery.start_soon(held_request)
                nursery.start_soon(held_request)
                await entered.wait()
                refused = await client.get("/api/auth/me")
                assert refused.status_code == 503
                assert refused.headers["Retry-After"] == "1"
                body = json.loads(await refused.get_data(as_text=True))
                assert body["error"]["code"] == "overloaded"
                probe = await client.get("/api/health")  # the probes' own budget
                assert probe.status_code == 200
                stats = application.extensions["prosaas"].extras["shedder"].statistics()
                assert (stats.in_flight, stats.limit, stats.waiting, stats.shed) == (2, 2, 0, 1)
                release.set()
            assert answers == [200, 200]
            after = await client.get("/api/auth/me")
            assert after.status_code == 401  # accepted again: not logged in, not shed


async def test_a_burst_waits_for_a_place_but_the_queue_is_bounded(api_settings: Settings) -> None:
    """Limit 2, one may wait: the third request waits and is served once a place frees; the
    fourth, with one already waiting, is refused at once."""
    application = create_app(replace(api_settings, max_in_flight=2, max_waiting=1, max_wait_ms=10_000))
    releases = [trio.Event() for _ in range(3)]
    entered = [trio.Event() for _ in range(3)]
    count = 0

    @application.get("/api/_test/hold")
    async def hold() -> dict[str, bool]:
        nonlocal count
        n, count = count, count + 1
        entered[n].set()
        await releases[n].wait()
        return {"ok": True}

    async with application.test_app() as app:
        client = app.test_client()
        shedder = application.extensions["prosaas"].extras["shedder"]
        answers: dict[str, int] = {}

        async def ask(name: str, path: str = "/api/_test/hold") -> None:
            answers[name] = (await client.get(path)).status_code

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(ask, "first")
                nursery.start_soon(ask, "second")
                await entered[1].wait()
                nursery.start_soon(ask, "third")  # finds the budget spent: waits
                while shedder.statistics().waiting != 1:
                    await trio.sleep(0.001)
                await ask("fourth", "/api/auth/me")  # one waits already: refused at once
                assert answers["fourth"] == 503
                releases[0].set()  # a place frees: the waiting third gets it
                await entered[2].wait()
                assert shedder.statistics().waiting == 0
                releases[1].set()
                releases[2].set()
            assert (answers["first"], answers["second"], answers["third"]) == (200, 200, 200)
            assert shedder.statistics().shed == 1


async def test_a_request_that_waited_its_whole_time_is_refused(autojump_clock: trio.abc.Clock) -> None:
    """The wait is bounded: with the budget held past ``max_wait_seconds``, the waiter gets 503
    when its time runs out (not when the place frees)."""
    release = trio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    shedder = LoadShedder(app, limit=1, max_waiting=4, max_wait_seconds=0.05)
    statuses: list[tuple[float, int]] = []

    async def request() -> None:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append((trio.current_time(), message["status"]))

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        await shedder({"type": "http", "path": "/api/leads"}, receive, send)

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(request)
        await trio.sleep(0.001)
        nursery.start_soon(request)
        await trio.sleep(1)
        release.set()
    (refused_at, refused), (_, served) = statuses
    assert (refused, served) == (503, 200)
    assert 0.05 <= refused_at - start < 0.06
    assert shedder.statistics().shed == 1


def test_the_in_flight_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env({"API_MAX_IN_FLIGHT": "7"}).max_in_flight == 7
    assert Settings.from_env({}).max_in_flight == 8
    assert Settings.from_env({"API_MAX_WAITING": "0", "API_MAX_WAIT_MS": "20"}).max_waiting == 0
    assert (Settings.from_env({}).max_waiting, Settings.from_env({}).max_wait_ms) == (8, 25)

