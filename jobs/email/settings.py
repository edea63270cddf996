"""Email sync configuration: the only module of ``jobs.email`` that reads ``os.environ``.

Read per job (cheap) rather than at import, so a worker picks up the environment it was
started with and tests may set it. docs/ARCHITECTURE.md §8 and the README list the variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import final

from contracts.envvars import EnvReader, float_range, int_range

__all__ = ["EmailSettings"]


def _ca_file(raw: str) -> Path | None:
    if not raw:
        return None
    path = Path(raw)
    if not path.is_file():
        raise ValueError("expected a readable PEM file of CA certificates")
    return path


@final
@dataclass(frozen=True, slots=True)
class EmailSettings:
    """Attributes:
        batch_size: Messages fetched and stored per transaction (EMAIL_SYNC_BATCH).
        ca_file: Extra CA certificates trusted besides the system's (EMAIL_CA_FILE), for a
            self-hosted server with its own CA.
        timeout_seconds: Socket timeout for connecting and for each IMAP read
            (EMAIL_IMAP_TIMEOUT_SECONDS).
        backoff_cap_seconds: The longest wait between tries of a failing account
            (EMAIL_BACKOFF_MAX_SECONDS).
    """

    batch_size: int = 100
    ca_file: Path | None = None
    timeout_seconds: float = 30.0
    backoff_cap_seconds: int = 6 * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmailSettings:
        """Raises:
            ValueError: listing every invalid variable.
        """
        reader = EnvReader(os.environ if environ is None else environ)
        settings = cls(
            batch_size=reader.get("EMAIL_SYNC_BATCH", int_range(1, 5000), 100),
            ca_file=reader.get("EMAIL_CA_FILE", _ca_file, None),
            timeout_seconds=reader.get("EMAIL_IMAP_TIMEOUT_SECONDS", float_range(1, 600), 30.0),
            backoff_cap_seconds=reader.get("EMAIL_BACKOFF_MAX_SECONDS", int_range(60, 7 * 86_400), 6 * 3600),
        )
        if reader.problems:
            raise ValueError("invalid email sync settings: " + "; ".join(reader.problems))
        return settings
