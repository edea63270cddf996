"""μ-law WAV containers and two-channel interleaving for call recordings (pure).

A recording is a 2-channel 8 kHz μ-law WAV (format tag 7): channel 1 the caller, channel 2
what the caller heard from us. Non-PCM WAVs need a ``fact`` chunk with the sample count.
"""

from __future__ import annotations

import struct

__all__ = ["HEADER_BYTES", "interleave", "wav_header"]

WAVE_FORMAT_MULAW = 7
HEADER_BYTES = 58  # RIFF(12) + fmt with cbSize(26) + fact(12) + data header(8)


def wav_header(frames: int, *, channels: int = 2, rate: int = 8000) -> bytes:
    """Header for ``frames`` sample frames of 8-bit μ-law audio."""
    data_bytes = frames * channels
    fmt = struct.pack(
        "<HHIIHHH", WAVE_FORMAT_MULAW, channels, rate, rate * channels, channels, 8, 0
    )
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", HEADER_BYTES - 8 + data_bytes),
            b"WAVE",
            b"fmt ",
            struct.pack("<I", len(fmt)),
            fmt,
            b"fact",
            struct.pack("<II", 4, frames),
            b"data",
            struct.pack("<I", data_bytes),
        )
    )


def interleave(left: bytes, right: bytes) -> bytes:
    """Interleave two equally long mono μ-law fragments into stereo frames."""
    if len(left) != len(right):
        raise ValueError("channels must be the same length")
    out = bytearray(len(left) * 2)
    out[0::2] = left
    out[1::2] = right
    return bytes(out)
