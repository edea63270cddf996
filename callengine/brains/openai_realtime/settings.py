"""The ``openai_realtime`` brain's own settings: ``OPENAI_API_KEY`` and ``OPENAI_REALTIME_*``.

Parsed once at start-up by the calls service's ``Settings.from_env`` (so one error lists every
bad variable of the service and its brains) and kept as ``Settings.openai_realtime``;
``RealtimeConfig.from_settings`` turns them into the brain's per-process config. The README's
"openai_realtime" table lists each variable; names and defaults do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import final

from contracts.envvars import EnvReader, Secret, boolean, choice, float_range, int_range, token, ws_url

__all__ = ["OPENAI_REALTIME_APIS", "OpenAIRealtimeSettings"]

OPENAI_REALTIME_APIS = ("ga", "beta")  # the GA protocol, or the older OpenAI-Beta: realtime=v1


@final
@dataclass(frozen=True)
class OpenAIRealtimeSettings:
    """The vendor endpoint, model, voice, turn detection and patience of the realtime brain."""

    api_key: Secret = field(default_factory=lambda: Secret(""))
    url: str = "wss://api.openai.com/v1/realtime"
    model: str = "gpt-realtime"
    api: str = "ga"
    voice: str = "alloy"
    transcription_model: str = "gpt-4o-mini-transcribe"
    connect_timeout_seconds: float = 5.0
    connect_attempts: int = 3
    first_audio_seconds: float = 8.0
    vad_threshold: float = 0.5
    vad_prefix_ms: int = 300
    vad_silence_ms: int = 500
    local_barge_in: bool = True

    @classmethod
    def read(cls, reader: EnvReader) -> OpenAIRealtimeSettings:
        """Read the variables; problems go to ``reader.problems`` (the key is never shown)."""
        get = reader.get
        return cls(
            api_key=reader.secret("OPENAI_API_KEY"),
            url=get("OPENAI_REALTIME_URL", ws_url, "wss://api.openai.com/v1/realtime"),
            model=get("OPENAI_REALTIME_MODEL", token, "gpt-realtime"),
            api=get("OPENAI_REALTIME_API", choice(OPENAI_REALTIME_APIS), "ga"),
            voice=get("OPENAI_REALTIME_VOICE", token, "alloy"),
            transcription_model=get("OPENAI_REALTIME_TRANSCRIPTION_MODEL", token, "gpt-4o-mini-transcribe"),
            connect_timeout_seconds=get("OPENAI_REALTIME_CONNECT_TIMEOUT_SECONDS", float_range(0.1, 60), 5.0),
            connect_attempts=get("OPENAI_REALTIME_CONNECT_ATTEMPTS", int_range(1, 10), 3),
            first_audio_seconds=get("OPENAI_REALTIME_FIRST_AUDIO_SECONDS", float_range(0.5, 120), 8.0),
            vad_threshold=get("OPENAI_REALTIME_VAD_THRESHOLD", float_range(0, 1), 0.5),
            vad_prefix_ms=get("OPENAI_REALTIME_VAD_PREFIX_MS", int_range(0, 2000), 300),
            vad_silence_ms=get("OPENAI_REALTIME_VAD_SILENCE_MS", int_range(100, 5000), 500),
            local_barge_in=get("OPENAI_REALTIME_LOCAL_BARGE_IN", boolean, True),
        )
