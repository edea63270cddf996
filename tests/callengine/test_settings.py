from __future__ import annotations

import pytest

from callengine.errors import SettingsError
from callengine.settings import Secret, Settings


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert s.port == 5050 and s.max_concurrent_calls == 50 and s.brain == "receptionist"
    assert not s.twilio_auth_token and s.public_stream_url == ""


def test_every_problem_is_listed_at_once():
    with pytest.raises(SettingsError) as err:
        Settings.from_env(
            {"CALLS_PORT": "http", "MAX_CONCURRENT_CALLS": "0", "CALLS_RECORD": "maybe", "APP_ENV": "prod"}
        )
    text = str(err.value)
    for name in ("CALLS_PORT", "MAX_CONCURRENT_CALLS", "CALLS_RECORD", "APP_ENV"):
        assert name in text
    assert len(err.value.problems) == 4


def test_production_requires_its_secrets():
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"APP_ENV": "production"})
    names = " ".join(err.value.problems)
    assert "TWILIO_AUTH_TOKEN" in names and "INTERNAL_SECRET" in names and "PUBLIC_BASE_URL" in names


def test_signature_needs_a_public_url_and_maps_it_to_wss():
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"TWILIO_AUTH_TOKEN": "t"})
    s = Settings.from_env({"TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://calls.example.com/"})
    assert s.public_stream_url == "wss://calls.example.com/ws/twilio"


def test_secrets_do_not_show_in_repr():
    s = Settings.from_env({"INTERNAL_SECRET": "hunter2"})
    assert "hunter2" not in repr(s)
    assert s.internal_secret == Secret("hunter2") and s.internal_secret.reveal() == "hunter2"


def test_chunk_size_must_be_whole_frames():
    with pytest.raises(SettingsError, match="multiple of 20"):
        Settings.from_env({"CALLS_OUTBOUND_CHUNK_MS": "30"})
