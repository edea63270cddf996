"""Per-business brain choice: the call setup's ``brain`` names who answers (docs/ARCHITECTURE.md §4).

``SelectingBrain`` stands in for the real brain from the upgrade on. When the call starts it
reads the call setup the API stored (``calls:setup:{call_sid}``) — the only read of it per
call — parses it with the contract's reader (``contracts.call_setup``), logs its problems once,
picks the brain it names — or ``CALLS_BRAIN`` when it names none, an unknown one, or one this
process cannot run (no ``OPENAI_API_KEY``) — and hands that brain the parsed setup in
``CallInfo.setup``. Frames that arrive while the setup is
being read (a few milliseconds; at most the read deadline) go nowhere: the brain has not
spoken yet, so there is nothing to barge in on.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, final

from callengine.settings import BRAINS
from contracts.call_setup import SetupReading, read_setup

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import trio

    from callengine.brains.base import Brain, BrainFactory, CallInfo
    from callengine.events import Command, InboundEvent, MediaReceived

__all__ = ["BrainChoice", "SelectingBrain", "SelectingFactory", "SetupSource", "brain_named_in"]

log = logging.getLogger(__name__)


class SetupSource(Protocol):
    async def load(self, call_sid: str) -> bytes | None: ...


def brain_named_in(reading: SetupReading) -> str | None:
    """The brain a call setup names, if it names a known one (pure)."""
    name = reading.setup.brain
    return name if name in BRAINS else None


@final
class BrainChoice:
    """The process's brain factories by name. The default is built at once (its errors stop
    the service at start); others lazily, and one that cannot be built here (no vendor key)
    is reported once and its calls get the default."""

    def __init__(self, default: str, build: Callable[[str], BrainFactory]) -> None:
        self.default = default
        self._build = build
        self._factories: dict[str, BrainFactory | None] = {default: build(default)}

    def factory(self, name: str | None) -> tuple[str, BrainFactory]:
        if name is not None and name not in self._factories:
            try:
                self._factories[name] = self._build(name)
            except Exception as exc:  # noqa: BLE001 - a business's choice must not end calls
                log.warning("brain %s is unavailable here (%s); its calls use %s",
                            name, exc, self.default)
                self._factories[name] = None
        factory = self._factories.get(name) if name is not None else None
        if factory is None or name is None:
            default = self._factories[self.default]
            assert default is not None
            return self.default, default
        return name, factory

    def statistics(self) -> dict[str, Any]:
        """The shared load of every brain built so far that reports one (``/health``)."""
        load: dict[str, Any] = {}
        for name, factory in self._factories.items():
            statistics = getattr(factory, "statistics", None)
            if statistics is not None:
                load[name] = statistics()
        return load


@final
class SelectingFactory:
    """``BrainFactory`` of ``SelectingBrain``s; ``statistics()`` is the brains' load."""

    def __init__(self, choice: BrainChoice, setups: SetupSource) -> None:
        self.choice = choice
        self._setups = setups

    def __call__(self) -> SelectingBrain:
        return SelectingBrain(self.choice, self._setups)

    def statistics(self) -> dict[str, Any]:
        return {"default": self.choice.default, "load": self.choice.statistics()}


def _no_commands(frame: MediaReceived) -> Sequence[Command]:
    return ()


@final
class SelectingBrain:
    """A Brain that becomes the brain the call's setup names, once the call has started."""

    def __init__(self, choice: BrainChoice, setups: SetupSource) -> None:
        self._choice = choice
        self._setups = setups
        self._inner: Brain | None = None
        self._on_media: Callable[[MediaReceived], Sequence[Command]] = _no_commands

    @property
    def name(self) -> str:
        return self._inner.name if self._inner is not None else self._choice.default

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        return self._on_media(frame)

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        reading = read_setup(await self._setups.load(call.call_sid))
        if reading.problems:
            log.warning("call %s: call setup problems (defaults used): %s",
                        call.call_sid, "; ".join(reading.problems))
        named = brain_named_in(reading)
        name, factory = self._choice.factory(named)
        inner = factory()
        self._inner = inner
        self._on_media = inner.on_media
        if named is not None and named != name:
            log.info("call %s: setup names brain %s, using %s", call.call_sid, named, name)
        await inner.run(replace(call, setup=reading), inbound, commands)

    def summary(self) -> dict[str, Any]:
        return self._inner.summary() if self._inner is not None else {}
