"""Per-business brain choice: the call setup names the brain; CALLS_BRAIN is the fallback."""

from __future__ import annotations

import json
import logging

import pytest
import trio
from trio_websocket import ConnectionClosed

from callengine.brains import brain_factory, named_brain_factory
from callengine.brains.select import BrainChoice, SelectingFactory, brain_named_in
from callengine.brains.setup_store import RedisCallSetup
from callengine.settings import Settings
from contracts import keys
from contracts.call_setup import read_setup
from tests.conftest import start_engine
from tests.fakes.fake_brain import SayThenHangUp
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import SILENCE_FRAME, open_call

SID = "CA" + "5" * 32


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        (b"", None),
        (b"not json", None),
        (b"[1, 2]", None),
        (b'{"brain": 7}', None),
        (b'{"brain": "clippy"}', None),
        (b'{"version": 1, "brain": "receptionist"}', "receptionist"),
        (b'{"brain": "openai_realtime", "extra": {}}', "openai_realtime"),
    ],
)
def test_the_setup_names_a_known_brain_or_none(raw, expected):
    assert brain_named_in(read_setup(raw)) == expected


def test_an_unbuildable_choice_falls_back_to_the_default_once(caplog):
    built: list[str] = []

    def build(name: str):
        built.append(name)
        if name == "openai_realtime":
            raise ValueError("OPENAI_API_KEY is not set")
        return lambda: SayThenHangUp(name.encode())

    choice = BrainChoice("echo", build)
    with caplog.at_level(logging.WARNING):
        assert choice.factory("openai_realtime")[0] == "echo"
        assert choice.factory("openai_realtime")[0] == "echo"
        assert choice.factory("receptionist")[0] == "receptionist"
        assert choice.factory(None)[0] == "echo"
    assert built == ["echo", "openai_realtime", "receptionist"]  # each built once
    assert sum("unavailable" in r.message for r in caplog.records) == 1


def test_the_factory_shows_the_load_of_brains_that_share_work():
    class Shared:  # a factory whose brains share a recogniser, say
        def __call__(self):
            return SayThenHangUp(b"r")

        def statistics(self):
            return {"borrowed": 1, "waiting": 3}

    choice = BrainChoice(
        "echo", lambda name: Shared() if name == "receptionist" else (lambda: SayThenHangUp(b"e"))
    )
    factory = SelectingFactory(choice, setups=None)  # type: ignore[arg-type]
    assert factory.statistics() == {"default": "echo", "load": {}}
    choice.factory("receptionist")  # a call's setup named it: built now
    assert factory.statistics() == {
        "default": "echo", "load": {"receptionist": {"borrowed": 1, "waiting": 3}}
    }


def test_an_unknown_default_stops_the_service_at_start():
    with pytest.raises(ValueError, match="unknown brain"):
        named_brain_factory(Settings(), "clippy")


async def _call_and_record(nursery, settings, shared_redis, setup: dict | None, brains=None):
    if setup is not None:
        shared_redis.set(keys.call_setup(SID), json.dumps(setup), ex=60)
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter, brains=brains or brain_factory(settings, RedisCallSetup(settings.redis_url)))
    async with open_call(server.port, call_sid=SID) as call:
        await call.connected()
        await call.start()
        try:  # half a second of silence: the brain is chosen and speaks (or hangs up)
            await call.frames(SILENCE_FRAME, 25)
            await call.stop()
        except ConnectionClosed:
            pass
    with trio.fail_after(10):
        await reporter.finalized.wait()
    return reporter.records[0]


async def test_the_business_choice_answers_the_call(nursery, settings, shared_redis, monkeypatch):
    # The receptionist is heavy to start; any brain the setup names proves the routing, so
    # the named factory is swapped for a scripted one under that name.
    import callengine.brains as brains_module

    real = brains_module.named_brain_factory

    def named(settings_: Settings, name: str):
        if name == "receptionist":
            return lambda: _Named("receptionist")
        return real(settings_, name)

    monkeypatch.setattr(brains_module, "named_brain_factory", named)
    record = await _call_and_record(
        nursery, settings, shared_redis, {"version": 1, "brain": "receptionist"}
    )
    assert record["brain"] == "receptionist"
    assert record["end_reason"] == "hangup"  # the scripted brain spoke and finished


async def test_without_a_setup_the_default_brain_answers(nursery, settings, shared_redis):
    record = await _call_and_record(nursery, settings, shared_redis, None)
    assert record["brain"] == "echo"


async def test_a_brain_the_process_cannot_run_falls_back(nursery, settings, shared_redis, caplog):
    # No OPENAI_API_KEY here: the business's choice cannot run, the call is still answered.
    with caplog.at_level(logging.WARNING, logger="callengine.brains.select"):
        record = await _call_and_record(
            nursery, settings, shared_redis, {"version": 1, "brain": "openai_realtime"}
        )
    assert record["brain"] == "echo"
    assert any("openai_realtime is unavailable" in r.message for r in caplog.records)


class _Named(SayThenHangUp):
    def __init__(self, name: str) -> None:
        super().__init__(b"\x10" * 800)
        self.name = name


class _CountingSetups:
    """A setup source that counts its reads."""

    def __init__(self, raw: bytes | None) -> None:
        self.raw = raw
        self.loads: list[str] = []

    async def load(self, call_sid: str) -> bytes | None:
        self.loads.append(call_sid)
        return self.raw


class _Remembering(SayThenHangUp):
    """Remembers the CallInfo it was started with."""

    seen: list = []

    async def run(self, call, inbound, commands):
        _Remembering.seen.append(call)
        await super().run(call, inbound, commands)


async def test_the_setup_is_read_once_per_call_and_handed_to_the_brain(nursery, settings):
    raw = json.dumps({"version": 1, "brain": "receptionist", "greeting": "Hi from Acme",
                      "menu": [{"digit": "3", "label": "billing questions", "intent": "billing"}]}).encode()
    setups = _CountingSetups(raw)
    _Remembering.seen = []
    choice = BrainChoice("echo", lambda name: (lambda: _Remembering(b"\x10" * 800)))
    reporter = InMemoryReporter()
    server = await start_engine(nursery, settings, reporter, brains=SelectingFactory(choice, setups))
    async with open_call(server.port, call_sid=SID) as call:
        await call.connected()
        await call.start()
        try:
            await call.frames(SILENCE_FRAME, 25)
            await call.stop()
        except ConnectionClosed:
            pass
    with trio.fail_after(10):
        await reporter.finalized.wait()
    assert setups.loads == [SID]  # one read, by the selecting brain
    [info] = _Remembering.seen
    assert info.setup.found and info.setup.setup.greeting == "Hi from Acme"
    assert info.setup.setup.menu[0].label == "billing questions"
