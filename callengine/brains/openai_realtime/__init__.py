"""The ``openai_realtime`` brain: OpenAI's Realtime API over WebSocket, μ-law in and out.

Pure core: ``protocol`` (the event codec), ``conversation`` (turns, tools, barge-in,
watchdog clock), ``playout`` (what the caller heard, from marks), ``config`` (settings, call
setup, instructions). Shell: ``brain`` (trio-websocket); the call setup arrives in ``CallInfo``
(read once per call by ``callengine.brains.select``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from callengine.brains.openai_realtime.brain import OpenAIRealtimeBrain
from callengine.brains.openai_realtime.clips import load_apology
from callengine.brains.openai_realtime.config import CallSetup, RealtimeConfig

if TYPE_CHECKING:
    from callengine.brains.base import BrainFactory
    from callengine.settings import Settings

__all__ = [
    "CallSetup",
    "OpenAIRealtimeBrain",
    "RealtimeConfig",
    "openai_realtime_factory",
]


def openai_realtime_factory(settings: Settings) -> BrainFactory:
    """Build the per-process parts once (config, apology clip)."""
    config = RealtimeConfig.from_settings(settings)
    apology = load_apology()
    return lambda: OpenAIRealtimeBrain(config, apology)
