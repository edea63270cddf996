"""E.164 phone numbers, checked with Google's libphonenumber (``phonenumbers``).

Every number that enters the system (API bodies, Twilio's ``From``/``To``, the seed, the
calls service's records) goes through ``normalize_e164``. The input must be written in ASCII:
``phonenumbers`` itself folds other scripts' digits (``١``, full-width ``１``) into ASCII, so
``+1555111001١`` would otherwise be stored as a different, valid-looking number.
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["E164", "normalize_e164"]

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SEPARATORS = re.compile(r"[ \-().]")
MAX_RAW_LENGTH = 32  # "+1 (555) 010-0000 " and friends; libphonenumber is not fed essays


def normalize_e164(raw: str) -> str | None:
    """``"+1 (555) 010-0000"`` → ``"+15550100000"``; ``None`` when not an E.164 number.

    A number must be *possible* for its country code (libphonenumber's length rules), not
    *valid*: the reserved 555-01xx range used in demos and tests is not assigned to anyone.
    """
    if not raw or len(raw) > MAX_RAW_LENGTH or not raw.isascii():
        return None
    candidate = _SEPARATORS.sub("", raw)
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    if not E164.fullmatch(candidate):
        return None
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
