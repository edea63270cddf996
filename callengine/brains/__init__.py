"""Brains: what talks to the caller.

``brain_factory(settings, setups)`` gives each call a ``SelectingBrain``: the brain its business
chose (the call setup's ``brain``), else ``CALLS_BRAIN``; ``setups`` (built once by the entry
point, ``callengine.brains.setup_store.RedisCallSetup``) is where the setup is read, once per
call. ``named_brain_factory`` builds one brain by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callengine.brains.base import Brain, BrainFactory, CallInfo
from callengine.brains.echo import EchoBrain

if TYPE_CHECKING:
    from callengine.brains.setup_store import CallSetupSource
    from callengine.settings import Settings

__all__ = ["Brain", "BrainFactory", "CallInfo", "EchoBrain", "brain_factory", "named_brain_factory"]


def brain_factory(settings: Settings, setups: CallSetupSource) -> BrainFactory:
    """A zero-argument constructor of the per-call brain, chosen per business at call start
    from the setup ``setups`` gives (read once per call)."""
    from callengine.brains.select import BrainChoice, SelectingFactory

    choice = BrainChoice(settings.brain, lambda name: named_brain_factory(settings, name))
    return SelectingFactory(choice, setups)


def named_brain_factory(settings: Settings, name: str) -> BrainFactory:
    """A zero-argument constructor for the brain called ``name`` (one brain per call).

    Raises:
        ValueError: unknown name, or a brain this process is not configured to run.
    """
    if name == "echo":
        pause_ms = settings.echo_pause_ms
        return lambda: EchoBrain(pause_ms=pause_ms)
    if name == "openai_realtime":
        if not settings.openai_realtime.api_key:
            raise ValueError("OPENAI_API_KEY is not set")
        from callengine.brains.openai_realtime import openai_realtime_factory

        return openai_realtime_factory(settings)
    if name == "receptionist":
        from callengine.brains.receptionist import receptionist_factory

        return receptionist_factory(settings)
    raise ValueError(f"unknown brain {name!r}")
