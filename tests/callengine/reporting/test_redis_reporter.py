"""The Redis reporter against real Redis servers (the shared one, and private ones we stop)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import redis
import trio
from rq import Queue
from rq.serializers import JSONSerializer

from callengine.admission import Admission
from callengine.reporting.redis_reporter import open_redis_reporter
from callengine.settings import Settings
from tests.conftest import start_engine
from tests.fakes.twilio_ws import SILENCE_FRAME, SPEECH_FRAME, open_call

SID = "CA" + "5" * 32


@asynccontextmanager
async def running(nursery, settings: Settings):
    admission = Admission(settings.max_concurrent_calls)
    async with open_redis_reporter(settings, admission, version="test") as reporter:
        server = await start_engine(nursery, settings, reporter, admission)
        yield server, reporter


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    with trio.fail_after(timeout):
        while not check():
            await trio.sleep(0.05)


def get_int(client: redis.Redis, key: str) -> int | None:
    value = client.get(key)
    return None if value is None else int(value)


async def test_live_call_is_visible_in_redis_and_finalized(nursery, settings, shared_redis):
    r = shared_redis
    async with running(nursery, settings) as (server, reporter):
        await eventually(lambda: r.get("calls:capacity") == b"10")
        async with open_call(server.port, call_sid=SID) as call:
            await call.connected()
            await call.start({"business_id": "b1"})
            await eventually(lambda: get_int(r, "calls:active_count") == 1)
            assert r.zscore("calls:active", SID) > time.time() * 1000
            assert r.zscore("calls:business:b1:active", SID) is not None
            state = r.hgetall(f"calls:state:{SID}")
            assert state[b"business_id"] == b"b1"
            assert state[b"instance"] == b"test-instance"
            assert state[b"stream_sid"] == call.stream_sid.encode()
            assert 0 < r.ttl(f"calls:state:{SID}") <= 15
            instance = r.hgetall("calls:instance:test-instance")
            assert instance[b"capacity"] == b"10" and instance[b"draining"] == b"0"
            await eventually(  # the next heartbeat writes the instance's counts
                lambda: r.hmget("calls:instance:test-instance", "active", "pending") == [b"1", b"0"]
            )
            await call.frames(SILENCE_FRAME, 5)
            await call.stop()
        await eventually(lambda: get_int(r, "calls:active_count") == 0)
        assert not r.exists(f"calls:state:{SID}")
        # remembered as ended for a day: a replayed stream is refused on every instance
        assert 86_000 < r.ttl(f"calls:ended:{SID}") <= 86_400
        assert await reporter.has_ended(SID)
        assert not await reporter.has_ended("CA" + "0" * 32)
        assert r.zcard("calls:business:b1:active") == 0
        await eventually(lambda: r.llen("rq:queue:high") == 1)
        events = [fields[b"type"] for _, fields in r.xrange("calls:events")]
        assert events == [b"call_started", b"call_ended"]
    # the record waits on queue `high` for a worker (tests/jobs runs finalize_call itself)
    queue = Queue("high", connection=r, serializer=JSONSerializer)
    job = queue.fetch_job(f"finalize-call-{SID}")
    assert job.func_name == "jobs.calls.finalize_call"
    assert job.get_status() == "queued"
    record = job.args[0]
    assert record["call_sid"] == SID and record["business_id"] == "b1"
    assert record["end_reason"] == "stopped"
    assert job.timeout and job.retries_left
    # leaving deregisters the instance
    assert not r.exists("calls:instance:test-instance")
    assert r.get("calls:capacity") == b"0"


async def test_operator_reset_and_crashed_instances_are_corrected(nursery, settings, shared_redis):
    r = shared_redis
    # a call of a crashed instance: its lease expired a second ago
    r.zadd("calls:active", {"CAghost": int(time.time() * 1000) - 1000})
    r.set("calls:active_count", 7)
    async with running(nursery, settings) as (server, _):
        async with open_call(server.port, call_sid=SID) as call:
            await call.connected()
            await call.start()
            await eventually(lambda: get_int(r, "calls:active_count") == 1)
            assert r.zscore("calls:active", "CAghost") is None
            r.set("calls:active_count", 0)  # the runbook's "stuck calls" step
            await eventually(lambda: get_int(r, "calls:active_count") == 1, timeout=3.5)
            await call.stop()
        await eventually(lambda: get_int(r, "calls:active_count") == 0)


async def test_redis_outage_keeps_calls_going_and_loses_nothing(nursery, settings, private_redis):
    settings = replace(settings, redis_url=private_redis.url)
    r = redis.Redis.from_url(private_redis.url)
    try:
        async with running(nursery, settings) as (server, reporter):
            await eventually(lambda: reporter.reachable)
            async with open_call(server.port, call_sid=SID) as call:
                await call.connected()
                await call.start({"business_id": "b2"})
                await eventually(lambda: get_int(r, "calls:active_count") == 1)
                private_redis.stop()
                # the call goes on: it still echoes
                await call.frames(SPEECH_FRAME, 25)
                await call.frames(SILENCE_FRAME, 25)
                assert (await call.receive_until("mark"))[-1]["event"] == "mark"
                await eventually(lambda: not reporter.reachable)
                assert server.health()["redis"]["reachable"] is False
                await call.stop()
            spooled = settings.spool_dir / f"{SID}.json"
            await eventually(lambda: spooled.exists())
            assert json.loads(spooled.read_text())["business_id"] == "b2"
            private_redis.start()
            await eventually(lambda: reporter.reachable, timeout=15)
            await eventually(lambda: not spooled.exists())
            queue = Queue("high", connection=r, serializer=JSONSerializer)
            job = queue.fetch_job(f"finalize-call-{SID}")
            assert job is not None and job.args[0]["call_sid"] == SID
            assert get_int(r, "calls:active_count") == 0
            assert r.get("calls:capacity") == b"10"  # republished after the restart
            events = [f[b"type"] for _, f in r.xrange("calls:events")]
            assert b"call_ended" in events  # buffered while down, published after
    finally:
        r.close()
