"""Load shedding (api/shedding.py): past ``API_MAX_IN_FLIGHT`` requests get 503 at once, the
probes keep their own budget, and requests succeed again once the held ones finish."""

from __future__ import annotations

import json
from dataclasses import replace

import trio

from api.app import create_app
from api.settings import Settings


async def test_past_the_in_flight_limit_requests_are_refused_at_once(api_settings: Settings) -> None:
    application = create_app(replace(api_settings, max_in_flight=2))
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
                assert (stats.in_flight, stats.limit, stats.shed) == (2, 2, 1)
                release.set()
            assert answers == [200, 200]
            after = await client.get("/api/auth/me")
            assert after.status_code == 401  # accepted again: not logged in, not shed


def test_the_in_flight_limit_is_read_from_the_environment() -> None:
    assert Settings.from_env({"API_MAX_IN_FLIGHT": "7"}).max_in_flight == 7
    assert Settings.from_env({}).max_in_flight == 8

