"""The ``receptionist`` brain: the offline default (pocketsphinx in, espeak-ng or clips out).

``receptionist_factory(settings)`` builds the process-wide services once (recogniser pool,
voice) and returns the per-call constructor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, final

from callengine.brains.receptionist.asr import RecognizerPool
from callengine.brains.receptionist.brain import (
    EARLY_PAUSE_MS,
    ReceptionistBrain,
    ReceptionistConfig,
    Services,
    default_threads,
)
from callengine.brains.receptionist.dialogue import Dialogue, Lead
from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    digits_grammar,
    intent_grammar,
    name_grammar,
    spelling_grammar,
    yes_no_grammar,
)
from callengine.brains.receptionist.setup import ReceptionistSetup, parse_setup
from callengine.brains.receptionist.tts import Voice
from callengine.brains.receptionist.understanding import need_lm, vocabulary
from callengine.turns import DEFAULT_MENU, TurnConfig

if TYPE_CHECKING:
    from callengine.brains.base import BrainFactory
    from callengine.settings import Settings

__all__ = [
    "Dialogue",
    "Lead",
    "ReceptionistBrain",
    "ReceptionistConfig",
    "ReceptionistFactory",
    "ReceptionistSetup",
    "Services",
    "build_services",
    "parse_setup",
    "receptionist_config",
    "receptionist_factory",
]


def build_services(settings: Settings) -> Services:
    """The process-wide services; the recognition workers warm up in the background."""
    threads = default_threads(settings.receptionist.asr_threads)
    voice = Voice(
        engine=settings.receptionist.tts,
        voice=settings.receptionist.voice,
        speed=settings.receptionist.speed,
    )
    grammars = [
        intent_grammar(DEFAULT_MENU.values()),
        name_grammar(COMMON_NAMES),
        name_grammar(COMMON_NAMES, sentence=False),  # the second pass of a name turn
        spelling_grammar(COMMON_NAMES),
        yes_no_grammar(),
        digits_grammar(),
        need_lm(vocabulary(DEFAULT_MENU.values())),  # the default menu's need model
    ]
    recognizer = RecognizerPool(workers=threads, grammars=grammars)
    transcriber = RecognizerPool(workers=max(1, threads - 1), grammars=[], niceness=10, full_vocabulary=True)
    recognizer.start()
    if settings.receptionist.transcribe:
        transcriber.start()
    return Services(recognizer, transcriber, voice)


def receptionist_config(settings: Settings) -> ReceptionistConfig:
    return ReceptionistConfig(
        turns=TurnConfig(pause_ms=settings.turn_pause_ms, early_pause_ms=EARLY_PAUSE_MS),
        silence_seconds=settings.receptionist.silence_seconds,
        max_silences=settings.receptionist.max_silences,
        max_retries=settings.receptionist.max_retries,
        transcribe=settings.receptionist.transcribe,
        recordings_dir=settings.recordings_dir,
    )


@final
class ReceptionistFactory:
    """One ``ReceptionistBrain`` per call, sharing the process's services; its
    ``statistics()`` is the recognition load that ``GET /health`` shows."""

    def __init__(self, services: Services, config: ReceptionistConfig) -> None:
        self.services = services
        self._config = config

    def __call__(self) -> ReceptionistBrain:
        return ReceptionistBrain(self.services, self._config)

    def statistics(self) -> dict[str, int]:
        return self.services.statistics()


def receptionist_factory(settings: Settings, services: Services | None = None) -> BrainFactory:
    """One ``ReceptionistBrain`` per call, sharing the process's services."""
    return ReceptionistFactory(services or build_services(settings), receptionist_config(settings))
