"""OPENAI_* variables: parsed once into Settings, key masked, bad values listed together."""

from __future__ import annotations

import pytest
import trio

from callengine.brains import brain_factory, named_brain_factory
from callengine.brains.openai_realtime import OpenAIRealtimeBrain, RealtimeConfig
from callengine.brains.openai_realtime.protocol import Dialect
from callengine.brains.openai_realtime.settings import OpenAIRealtimeSettings
from callengine.errors import SettingsError
from callengine.events import MediaReceived
from callengine.settings import Secret, Settings

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz"


def test_openai_variables_are_parsed():
    settings = Settings.from_env(
        {
            "CALLS_BRAIN": "openai_realtime",
            "OPENAI_API_KEY": KEY,
            "OPENAI_REALTIME_URL": "ws://127.0.0.1:8765/v1/realtime/",
            "OPENAI_REALTIME_MODEL": "gpt-realtime-mini",
            "OPENAI_REALTIME_API": "beta",
            "OPENAI_REALTIME_VOICE": "cedar",
            "OPENAI_REALTIME_CONNECT_TIMEOUT_SECONDS": "2.5",
            "OPENAI_REALTIME_CONNECT_ATTEMPTS": "4",
            "OPENAI_REALTIME_FIRST_AUDIO_SECONDS": "6",
            "OPENAI_REALTIME_VAD_THRESHOLD": "0.7",
            "OPENAI_REALTIME_VAD_SILENCE_MS": "650",
            "OPENAI_REALTIME_LOCAL_BARGE_IN": "off",
        }
    )
    assert settings.brain == "openai_realtime"
    assert settings.openai_realtime.api_key.reveal() == KEY
    assert KEY not in repr(settings)
    config = RealtimeConfig.from_settings(settings)
    assert config.session_url == "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime-mini"
    assert config.dialect is Dialect.BETA
    assert config.voice == "cedar"
    assert config.connect_timeout_seconds == 2.5
    assert config.connect_attempts == 4
    assert config.first_audio_seconds == 6
    assert config.turn_detection.threshold == 0.7
    assert config.turn_detection.silence_duration_ms == 650
    assert config.local_barge_in is False
    assert KEY not in repr(config)


def test_defaults_point_at_openai():
    config = RealtimeConfig.from_settings(Settings())
    assert config.session_url == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert config.dialect is Dialect.GA
    assert config.local_barge_in is True


def test_the_realtime_brain_needs_a_key_and_bad_values_are_listed_together():
    with pytest.raises(SettingsError) as info:
        Settings.from_env(
            {
                "CALLS_BRAIN": "openai_realtime",
                "OPENAI_REALTIME_URL": "https://api.openai.com/v1/realtime?model=x",
                "OPENAI_REALTIME_API": "v2",
                "OPENAI_REALTIME_MODEL": "gpt realtime",
                "OPENAI_REALTIME_CONNECT_ATTEMPTS": "0",
            }
        )
    text = str(info.value)
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_REALTIME_URL",
        "OPENAI_REALTIME_API",
        "OPENAI_REALTIME_MODEL",
        "OPENAI_REALTIME_CONNECT_ATTEMPTS",
    ):
        assert name in text


def test_the_key_never_appears_in_settings_errors():
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"OPENAI_API_KEY": KEY, "CALLS_PORT": "nope"})
    assert KEY not in str(info.value)


def test_brain_factory_builds_one_realtime_brain_per_call():
    factory = named_brain_factory(Settings(openai_realtime=OpenAIRealtimeSettings(api_key=Secret(KEY))), "openai_realtime")
    first, second = factory(), factory()
    assert isinstance(first, OpenAIRealtimeBrain)
    assert first is not second
    assert first.name == "openai_realtime"


def test_without_a_key_the_realtime_brain_is_refused_at_start():
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        brain_factory(Settings(brain="openai_realtime"), setups=None)  # type: ignore[arg-type]


async def test_caller_audio_waiting_for_the_vendor_keeps_the_latest_second():
    brain = named_brain_factory(Settings(openai_realtime=OpenAIRealtimeSettings(api_key=Secret(KEY))), "openai_realtime")()
    for n in range(60):
        assert brain.on_media(MediaReceived(bytes([n]) * 160, b"", n * 20, n + 1, n + 2)) == ()
    assert brain.summary()["vendor"]["frames_dropped"] == 10
    waiting = []
    while True:
        try:
            waiting.append(brain._audio_rx.receive_nowait()[0][0])  # type: ignore[attr-defined]
        except trio.WouldBlock:
            break
    assert waiting == list(range(10, 60))
