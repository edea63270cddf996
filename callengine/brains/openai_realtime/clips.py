"""Prompt clips shipped with the brain: the apology played when the vendor fails.

The clip is raw 8 kHz μ-law (what Twilio plays, no header), rendered once with espeak-ng and
committed, so a call can apologise with no vendor, no network and no synthesiser installed.
Regenerate it with ``python -m callengine.brains.openai_realtime.clips`` (needs espeak-ng).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import warnings
import wave
from importlib import resources
from pathlib import Path

from callengine.audio.mulaw import BYTES_PER_SECOND, SAMPLE_RATE, pcm_to_ulaw, silence

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

__all__ = ["APOLOGY_TEXT", "load_apology", "render_ulaw"]

APOLOGY_TEXT = (
    "Sorry, we have a technical problem. Please call back later."
)
APOLOGY_FILE = "apology.ulaw"
LEAD_IN_MS = 200  # a breath of silence so the clip does not start mid-word after a cut
MAX_CLIP_BYTES = 10 * BYTES_PER_SECOND  # a prompt is seconds long; anything bigger is a mistake


def load_apology() -> bytes:
    """The apology clip as μ-law bytes.

    Raises:
        FileNotFoundError: the package was installed without its clip.
        ValueError: the file is empty or implausibly large.
    """
    data = resources.files(__package__).joinpath("clips", APOLOGY_FILE).read_bytes()
    if not 0 < len(data) <= MAX_CLIP_BYTES:
        raise ValueError(f"{APOLOGY_FILE}: {len(data)} bytes is not a prompt clip")
    return data


def render_ulaw(text: str, *, voice: str = "en-us", words_per_minute: int = 180) -> bytes:
    """Synthesise ``text`` with espeak-ng and return 8 kHz μ-law with a short lead-in.

    Raises:
        RuntimeError: espeak-ng is not installed or failed.
    """
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(
            [binary, "-v", voice, "-s", str(words_per_minute), "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise RuntimeError("espeak-ng did not write 16-bit mono audio")
            rate = wav.getframerate()
            pcm = wav.readframes(wav.getnframes())
    pcm, _ = audioop.ratecv(pcm, 2, 1, rate, SAMPLE_RATE, None)
    return silence(LEAD_IN_MS) + pcm_to_ulaw(_trim(pcm))


def _trim(pcm: bytes, frame_bytes: int = 320, floor: int = 60) -> bytes:
    """Drop the synthesiser's leading and trailing silence (20 ms frames under ``floor``)."""
    frames = [pcm[i : i + frame_bytes] for i in range(0, len(pcm), frame_bytes)]
    voiced = [i for i, frame in enumerate(frames) if audioop.rms(frame, 2) > floor]
    if not voiced:
        return b""
    return b"".join(frames[voiced[0] : voiced[-1] + 1])


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m callengine.brains.openai_realtime.clips",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Takes no options and reads no environment variables; needs espeak-ng.",
    ).parse_args(argv)
    target = Path(__file__).with_name("clips") / APOLOGY_FILE
    data = render_ulaw(APOLOGY_TEXT)
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes, {len(data) / BYTES_PER_SECOND:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
