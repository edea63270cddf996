"""The receptionist brain's own settings: the ``RECEPTIONIST_*`` environment variables.

Parsed once at start-up by the calls service's ``Settings.from_env`` (so one error lists every
bad variable of the service and its brains) and kept as ``Settings.receptionist``. The README's
"receptionist" table lists each variable; names and defaults are part of the deployment
contract and do not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from contracts.envvars import EnvReader, boolean, choice, float_range, int_range

__all__ = ["RECEPTIONIST_TTS", "ReceptionistSettings"]

RECEPTIONIST_TTS = ("auto", "espeak", "clips")


@final
@dataclass(frozen=True)
class ReceptionistSettings:
    """How the offline receptionist talks, listens and gives up."""

    silence_seconds: float = 6.0  # no answer this long after a question: "Are you still there?"
    max_silences: int = 2  # silences in a row before the polite goodbye
    max_retries: int = 2  # misunderstood answers before the fallback
    tts: str = "auto"
    voice: str = "en-us"  # espeak-ng voice
    speed: int = 180  # espeak-ng words per minute
    asr_threads: int = 0  # 0: one per CPU core
    transcribe: bool = True  # full-vocabulary transcript of each caller turn (background)

    @classmethod
    def read(cls, reader: EnvReader) -> ReceptionistSettings:
        """Read the ``RECEPTIONIST_*`` variables; problems go to ``reader.problems``."""
        get = reader.get
        return cls(
            silence_seconds=get("RECEPTIONIST_SILENCE_SECONDS", float_range(1, 120), 6.0),
            max_silences=get("RECEPTIONIST_MAX_SILENCES", int_range(0, 10), 2),
            max_retries=get("RECEPTIONIST_MAX_RETRIES", int_range(0, 10), 2),
            tts=get("RECEPTIONIST_TTS", choice(RECEPTIONIST_TTS), "auto"),
            voice=get("RECEPTIONIST_VOICE", str, "en-us"),
            speed=get("RECEPTIONIST_SPEED", int_range(80, 400), 180),
            asr_threads=get("RECEPTIONIST_ASR_THREADS", int_range(0, 256), 0),
            transcribe=get("RECEPTIONIST_TRANSCRIBE", boolean, True),
        )
