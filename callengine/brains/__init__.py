"""Brains: what talks to the caller. ``brain_factory(settings)`` picks one by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callengine.brains.base import Brain, BrainFactory, CallInfo
from callengine.brains.echo import EchoBrain

if TYPE_CHECKING:
    from callengine.settings import Settings

__all__ = ["Brain", "BrainFactory", "CallInfo", "EchoBrain", "brain_factory"]


def brain_factory(settings: Settings) -> BrainFactory:
    """A zero-argument constructor for the configured brain (one brain per call)."""
    if settings.brain == "echo":
        pause_ms = settings.echo_pause_ms
        return lambda: EchoBrain(pause_ms=pause_ms)
    if settings.brain == "openai_realtime":
        from callengine.brains.openai_realtime import openai_realtime_factory

        return openai_realtime_factory(settings)
    if settings.brain == "receptionist":
        from callengine.brains.receptionist import receptionist_factory

        return receptionist_factory(settings)
    raise ValueError(f"unknown brain {settings.brain!r}")
