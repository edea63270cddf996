"""μ-law ↔ PCM16 conversions and frame energy (pure; audioop on C speed).

``audioop`` is in the standard library up to Python 3.12 (deprecated since 3.11, PEP 594) and
comes from the ``audioop-lts`` package on 3.13+; the import is the only place that knows.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # 3.11/3.12 warn that the stdlib module goes away in 3.13; audioop-lts replaces it there.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

__all__ = [
    "BYTES_PER_SECOND",
    "FRAME_BYTES",
    "FRAME_MS",
    "SAMPLE_RATE",
    "SILENCE_BYTE",
    "pcm_to_ulaw",
    "rms",
    "silence",
    "ulaw_to_pcm",
]

SAMPLE_RATE = 8000
BYTES_PER_SECOND = 8000  # μ-law: one byte per sample
FRAME_MS = 20  # Twilio's inbound cadence
FRAME_BYTES = 160
SILENCE_BYTE = 0xFF  # μ-law encoding of 0


def ulaw_to_pcm(ulaw: bytes) -> bytes:
    """Decode μ-law bytes to little-endian 16-bit PCM."""
    return audioop.ulaw2lin(ulaw, 2)


def pcm_to_ulaw(pcm: bytes) -> bytes:
    """Encode 16-bit PCM to μ-law."""
    return audioop.lin2ulaw(pcm, 2)


def rms(pcm: bytes) -> int:
    """Root-mean-square energy of a PCM16 fragment (0..32767)."""
    return int(audioop.rms(pcm, 2))


def silence(duration_ms: int) -> bytes:
    """μ-law silence of ``duration_ms``."""
    return bytes([SILENCE_BYTE]) * (duration_ms * BYTES_PER_SECOND // 1000)
