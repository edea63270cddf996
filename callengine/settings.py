"""The calls service's configuration: the only module that reads ``os.environ``.

``Settings.from_env()`` parses every variable once at start-up into a frozen object and raises
one ``SettingsError`` that lists every missing or invalid variable, so an operator fixes them
all in one go instead of one per restart.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import final

from callengine.admission import DEFAULT_MAX_PENDING
from callengine.brains.openai_realtime.settings import OpenAIRealtimeSettings
from callengine.brains.receptionist.settings import ReceptionistSettings
from callengine.errors import SettingsError
from contracts.envvars import CommonSettings, EnvReader, Secret, stream_url
from contracts.envvars import boolean as _bool
from contracts.envvars import choice as _choice
from contracts.envvars import float_range as _float_range
from contracts.envvars import int_range as _int_range

__all__ = ["Secret", "Settings"]

BRAINS = ("echo", "openai_realtime", "receptionist")


@final
@dataclass(frozen=True)
class Settings:
    """Everything the calls service reads from its environment (README lists each variable)."""

    app_env: str = "development"
    log_level: str = "INFO"
    host: str = "0.0.0.0"
    port: int = 5050
    max_concurrent_calls: int = 50
    drain_timeout_seconds: float = 60.0
    redis_url: str = "redis://127.0.0.1:6379/0"
    public_base_url: str = ""
    twilio_auth_token: Secret = field(default_factory=lambda: Secret(""))
    internal_secret: Secret = field(default_factory=lambda: Secret(""))
    brain: str = "receptionist"
    # Twilio sends ``start`` 20-40 ms after ``connected`` (tests/fixtures/twilio/*.jsonl): 2 s
    # is 50 times that, and bounds how long a handshake that never starts holds a pending slot.
    start_timeout_seconds: float = 2.0
    max_pending_starts: int = DEFAULT_MAX_PENDING
    inbound_silence_seconds: float = 20.0
    max_call_seconds: float = 3600.0
    outbound_chunk_ms: int = 100
    outbound_lead_ms: int = 200
    echo_pause_ms: int = 400
    max_message_bytes: int = 64 * 1024
    spool_dir: Path = Path("var/spool/calls")
    recordings_dir: Path = Path("var/recordings")
    record_calls: bool = False
    capture_dir: Path | None = None
    turn_pause_ms: int = 700
    # Each brain's own settings, read by its package (README: one table per brain).
    receptionist: ReceptionistSettings = field(default_factory=ReceptionistSettings)
    openai_realtime: OpenAIRealtimeSettings = field(default_factory=OpenAIRealtimeSettings)
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def public_stream_url(self) -> str:
        """The ``wss://`` URL Twilio signs for the WebSocket handshake (empty when unset)."""
        return stream_url(self.public_base_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse ``environ`` (default ``os.environ``).

        Raises:
            SettingsError: listing every missing or invalid variable.
        """
        env = os.environ if environ is None else environ
        reader = EnvReader(env)
        get, problems = reader.get, reader.problems

        common = CommonSettings.read(reader, signed="the public wss:// URL")
        capture = env.get("CAPTURE_DIR", "").strip()
        settings = cls(
            app_env=common.app_env,
            log_level=common.log_level,
            host=get("CALLS_HOST", str, "0.0.0.0"),
            port=get("CALLS_PORT", _int_range(0, 65535), 5050),
            max_concurrent_calls=get("MAX_CONCURRENT_CALLS", _int_range(1, 100_000), 50),
            drain_timeout_seconds=get("DRAIN_TIMEOUT_SECONDS", _float_range(0, 86_400), 60.0),
            redis_url=common.redis_url,
            public_base_url=common.public_base_url,
            twilio_auth_token=common.twilio_auth_token,
            internal_secret=common.internal_secret,
            brain=get("CALLS_BRAIN", _choice(BRAINS), "receptionist"),
            start_timeout_seconds=get("CALLS_START_TIMEOUT_SECONDS", _float_range(0.1, 600), 2.0),
            max_pending_starts=get(
                "CALLS_MAX_PENDING_STARTS", _int_range(1, 100_000), DEFAULT_MAX_PENDING
            ),
            inbound_silence_seconds=get(
                "CALLS_INBOUND_SILENCE_SECONDS", _float_range(1, 3600), 20.0
            ),
            max_call_seconds=get("CALLS_MAX_CALL_SECONDS", _float_range(1, 86_400), 3600.0),
            outbound_chunk_ms=get("CALLS_OUTBOUND_CHUNK_MS", _int_range(20, 1000, step=20), 100),
            outbound_lead_ms=get("CALLS_OUTBOUND_LEAD_MS", _int_range(0, 5000), 200),
            echo_pause_ms=get("CALLS_ECHO_PAUSE_MS", _int_range(100, 5000, step=20), 400),
            max_message_bytes=get("CALLS_MAX_MESSAGE_BYTES", _int_range(1024, 1 << 24), 65536),
            spool_dir=get("CALLS_SPOOL_DIR", Path, Path("var/spool/calls")),
            recordings_dir=get("RECORDINGS_DIR", Path, Path("var/recordings")),
            record_calls=get("CALLS_RECORD", _bool, False),
            capture_dir=Path(capture) if capture else None,
            turn_pause_ms=get("CALLS_TURN_PAUSE_MS", _int_range(200, 5000, step=20), 700),
            receptionist=ReceptionistSettings.read(reader),
            openai_realtime=OpenAIRealtimeSettings.read(reader),
            instance_id=get(
                "CALLS_INSTANCE_ID", str, f"{socket.gethostname()}-{os.getpid()}"
            ),
        )
        if settings.brain == "openai_realtime" and not settings.openai_realtime.api_key:
            problems.append("OPENAI_API_KEY: required when CALLS_BRAIN=openai_realtime")
        if problems:
            raise SettingsError(problems)
        return settings
