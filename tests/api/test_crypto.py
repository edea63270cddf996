"""Secrets at rest (api/crypto.py): round trip, key rotation, a wrong key, settings errors."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from api.crypto import DecryptError, SecretBox
from api.errors import SettingsError
from api.settings import Settings


def test_round_trip_never_stores_the_plain_text() -> None:
    box = SecretBox.from_settings(Settings.from_env({}))
    token = box.encrypt("hunter2")
    assert "hunter2" not in token
    assert box.decrypt(token) == "hunter2"


def test_default_key_follows_secret_key() -> None:
    one = SecretBox.from_settings(Settings.from_env({"SECRET_KEY": "a" * 40}))
    other = SecretBox.from_settings(Settings.from_env({"SECRET_KEY": "b" * 40}))
    with pytest.raises(DecryptError):
        other.decrypt(one.encrypt("pw"))


def test_rotation_new_key_first_still_opens_old_tokens() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = SecretBox.from_settings(Settings.from_env({"DATA_ENCRYPTION_KEY": old}))
    token = before.encrypt("pw")
    after = SecretBox.from_settings(Settings.from_env({"DATA_ENCRYPTION_KEY": f"{new},{old}"}))
    assert after.decrypt(token) == "pw"
    only_new = SecretBox.from_settings(Settings.from_env({"DATA_ENCRYPTION_KEY": new}))
    with pytest.raises(DecryptError):
        only_new.decrypt(token)
    assert only_new.decrypt(after.encrypt("pw2")) == "pw2"


def test_a_malformed_key_is_named_without_its_value() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"DATA_ENCRYPTION_KEY": "not-a-key-value-xyz"})
    assert "DATA_ENCRYPTION_KEY" in str(caught.value)
    assert "not-a-key-value-xyz" not in str(caught.value)
