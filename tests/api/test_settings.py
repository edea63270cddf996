from __future__ import annotations

import pytest

from api.errors import SettingsError
from api.settings import DEV_SECRET_KEY, Settings


def test_defaults_are_development_with_sqlite_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.port == 5000 and settings.database_url == "sqlite:///var/prosaas.db"
    assert settings.secret_key.reveal() == DEV_SECRET_KEY and "dev-only" not in repr(settings)


def test_every_invalid_variable_is_listed_at_once() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"API_PORT": "http", "DATABASE_URL": "mysql://x", "REDIS_URL": "localhost",
                           "TWILIO_ACCOUNT_SID": "nope", "BAILEYS_NUM_SHARDS": "0"})
    text = str(err.value)
    for name in ("API_PORT", "DATABASE_URL", "REDIS_URL", "TWILIO_ACCOUNT_SID", "BAILEYS_NUM_SHARDS"):
        assert name in text


def test_production_refuses_to_start_without_its_secrets() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"APP_ENV": "production"})
    assert {p.split(":")[0] for p in err.value.problems} == {
        "SECRET_KEY", "INTERNAL_SECRET", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"
    }
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "short", "INTERNAL_SECRET": "i",
                           "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "https://x.test"})


def test_postgres_urls_use_psycopg2_and_shards_get_default_urls() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgres://u@h/db", "BAILEYS_NUM_SHARDS": "3",
                                  "BAILEYS_SHARD_2_URL": "http://wa-two:3300/"})
    assert settings.database_url == "postgresql+psycopg2://u@h/db"
    assert settings.baileys_shard_urls == ("http://baileys:3300", "http://wa-two:3300", "http://baileys-3:3300")


def test_secrets_never_show_in_repr() -> None:
    settings = Settings.from_env({"INTERNAL_SECRET": "s3cret-value", "TWILIO_AUTH_TOKEN": "tok-value",
                                  "PUBLIC_BASE_URL": "https://x.test"})
    assert "s3cret-value" not in repr(settings) and "tok-value" not in repr(settings)


def test_session_timeouts_are_read_and_bounded() -> None:
    assert (Settings.from_env({}).session_idle_seconds, Settings.from_env({}).session_max_age_seconds) == (1800, 28800)
    settings = Settings.from_env({"SESSION_IDLE_SECONDS": "600", "SESSION_MAX_AGE_SECONDS": "3600"})
    assert (settings.session_idle_seconds, settings.session_max_age_seconds) == (600, 3600)
    with pytest.raises(SettingsError, match="SESSION_IDLE_SECONDS"):
        Settings.from_env({"SESSION_IDLE_SECONDS": "5"})
