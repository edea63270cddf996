"""jobs.email.settings: the email sync's variables, every problem reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.email.settings import EmailSettings


def test_defaults() -> None:
    assert EmailSettings.from_env({}) == EmailSettings(batch_size=100, ca_file=None, timeout_seconds=30.0,
                                                       backoff_cap_seconds=21600)


def test_values_are_read(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = EmailSettings.from_env({"EMAIL_SYNC_BATCH": "250", "EMAIL_CA_FILE": str(ca),
                                       "EMAIL_IMAP_TIMEOUT_SECONDS": "5.5", "EMAIL_BACKOFF_MAX_SECONDS": "900"})
    assert settings == EmailSettings(batch_size=250, ca_file=ca, timeout_seconds=5.5, backoff_cap_seconds=900)


def test_every_invalid_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as caught:
        EmailSettings.from_env({"EMAIL_SYNC_BATCH": "0", "EMAIL_CA_FILE": str(tmp_path / "missing.pem"),
                                "EMAIL_IMAP_TIMEOUT_SECONDS": "never", "EMAIL_BACKOFF_MAX_SECONDS": "5"})
    text = str(caught.value)
    for name in ("EMAIL_SYNC_BATCH", "EMAIL_CA_FILE", "EMAIL_IMAP_TIMEOUT_SECONDS", "EMAIL_BACKOFF_MAX_SECONDS"):
        assert name in text, text
