"""E.164 phone numbers (pure)."""

from __future__ import annotations

import re

__all__ = ["E164", "normalize_e164"]

E164 = re.compile(r"\+[1-9]\d{6,14}")
_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_e164(raw: str) -> str | None:
    """``"+1 (555) 010-0000"`` → ``"+15550100000"``; ``None`` when not an E.164 number."""
    candidate = _SEPARATORS.sub("", raw or "")
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    return candidate if E164.fullmatch(candidate) else None
