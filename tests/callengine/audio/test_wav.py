from __future__ import annotations

import struct

import pytest

from callengine.audio.mulaw import pcm_to_ulaw, rms, silence, ulaw_to_pcm
from callengine.audio.wav import HEADER_BYTES, interleave, wav_header


def test_header_describes_stereo_mulaw():
    header = wav_header(800)
    assert len(header) == HEADER_BYTES
    assert header[:4] == b"RIFF" and header[8:12] == b"WAVE"
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", header[20:36])
    assert (tag, channels, rate, byte_rate, align, bits) == (7, 2, 8000, 16000, 2, 8)
    assert header[-8:-4] == b"data" and struct.unpack("<I", header[-4:])[0] == 1600
    assert struct.unpack("<I", header[4:8])[0] == HEADER_BYTES - 8 + 1600


def test_interleave_alternates_channels():
    assert interleave(b"ab", b"XY") == b"aXbY"
    with pytest.raises(ValueError):
        interleave(b"a", b"")


def test_mulaw_round_trip_keeps_energy():
    pcm = b"".join(int(v).to_bytes(2, "little", signed=True) for v in [1000, -1000] * 80)
    back = ulaw_to_pcm(pcm_to_ulaw(pcm))
    assert abs(rms(back) - 1000) < 40
    assert rms(ulaw_to_pcm(silence(20))) == 0
