"""Secrets at rest: email passwords and business webhook secrets (Fernet, from ``cryptography``).

``SecretBox.from_settings`` uses DATA_ENCRYPTION_KEY — one or more Fernet keys, comma-separated,
the first encrypting and every one decrypting (add the new key first to rotate, re-save, then
drop the old one) — or, when it is unset, a key derived from SECRET_KEY (HKDF-SHA256), so a
development stack needs no extra setting. The plain text never leaves this module but through
``decrypt``, and never appears in a log or an API answer.
"""

from __future__ import annotations

import base64
from typing import final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.settings import Settings

__all__ = ["DecryptError", "SecretBox"]


class DecryptError(ValueError):
    """A stored secret cannot be decrypted with the configured keys (wrong or rotated-out key)."""


@final
class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        if settings.data_encryption_keys:
            return cls([key.encode() for key in settings.data_encryption_keys])
        return cls([derive_key(settings.secret_key.reveal())])

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Raises ``DecryptError`` when no configured key opens ``token``."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError) as exc:
            raise DecryptError("stored secret cannot be decrypted with DATA_ENCRYPTION_KEY") from exc


def derive_key(secret_key: str) -> bytes:
    """A Fernet key derived from SECRET_KEY (the default when DATA_ENCRYPTION_KEY is unset)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"prosaas secrets at rest v1").derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)
