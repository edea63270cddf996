"""Turn-taking shared by every brain (pure: no trio, no sockets, no Redis).

- ``TurnDetector``: WebRTC VAD + calibrated energy floor → speech onset (barge-in), end of
  turn, short noises ignored; stricter while the agent talks (its own echo); optionally a
  candidate end after a short pause that the brain may accept at once (``end_turn``).
- ``PlaybackTracker``: marks → how much of the agent's utterance the caller heard.
- ``Menu`` / ``DigitEntry``: the DTMF menu and keypad number entry.
- ``TurnMetrics``: per-turn response split (endpointing vs brain), barge-in latency,
  talk/listen time.
"""

from __future__ import annotations

from callengine.turns.detector import (
    NoiseIgnored,
    PauseState,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnEvent,
    TurnPaused,
)
from callengine.turns.menu import DEFAULT_MENU, DigitEntry, Menu
from callengine.turns.metrics import TurnMetrics
from callengine.turns.playback import MARK_EVERY_MS, PlaybackTracker, Played, truncate_text

__all__ = [
    "DEFAULT_MENU",
    "MARK_EVERY_MS",
    "DigitEntry",
    "Menu",
    "NoiseIgnored",
    "PauseState",
    "Played",
    "PlaybackTracker",
    "SpeechStarted",
    "TurnConfig",
    "TurnDetector",
    "TurnEnded",
    "TurnEvent",
    "TurnMetrics",
    "TurnPaused",
    "truncate_text",
]
