"""Regenerate the recorded Twilio sessions in ``tests/fixtures/twilio/*.jsonl``.

The fixtures are committed; run this only to change them::

    apt-get install -y espeak-ng          # real speech (falls back to synthetic speech without it)
    python scripts/make_fixtures.py [--out tests/fixtures/twilio]

Each session is a realistic caller: espeak-ng speech rendered at 8 kHz, μ-law encoded, with
low-level line noise everywhere (Twilio streams 20 ms frames continuously, silence included),
arrival jitter on ``t_ms``, and Twilio-shaped messages (see callengine/loadtest/session.py).
Output is deterministic for a given espeak-ng version.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import warnings
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callengine.loadtest.audio import SAMPLE_RATE, mulaw_frames, noise_pcm, speech_pcm  # noqa: E402
from callengine.loadtest.session import FRAME_MS, build_session, dump_session  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

__all__ = ["FIXTURES", "main"]

MAX_FIXTURE_BYTES: Final = 300 * 1024
# Speech is normalised to this peak (≈ -9 dBFS), typical of a PSTN caller after Twilio's AGC.
_SPEECH_PEAK: Final = 11000


@dataclass(frozen=True)
class Say:
    """A spoken phrase."""

    text: str
    voice: str = "en-us"
    speed: int = 165


@dataclass(frozen=True)
class Quiet:
    """Line noise only, for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Fixture:
    """One session to generate: a script of phrases and pauses plus timed events."""

    name: str
    description: str
    script: tuple[Say | Quiet, ...]
    dtmf: tuple[tuple[float, str], ...] = ()  # (seconds into the stream, digit)
    marks: tuple[tuple[float, str], ...] = ()  # (seconds, name): echoes recorded from a live call
    noise_level: float = 30.0
    custom_parameters: dict[str, str] = field(default_factory=lambda: {"business_id": "1"})


FIXTURES: Final = (
    Fixture(
        "appointment",
        "speech, a 3 s silence, speech: a caller books an appointment and leaves a name and number",
        (
            Quiet(0.6),
            Say("Hi, I'd like to book an appointment for next Tuesday morning."),
            Quiet(3.0),
            Say("My name is Dana Levi, my number is five five five, one two three four."),
            Quiet(1.0),
        ),
    ),
    Fixture(
        "dtmf_menu",
        "a short request, then DTMF 2 for the menu and an order number 1 0 4 #",
        (Quiet(0.8), Say("Hello, I'm calling about my order."), Quiet(5.2), Say("Thanks."), Quiet(1.0)),
        dtmf=((3.6, "2"), (5.2, "1"), (5.6, "0"), (6.0, "4"), (6.5, "#")),
    ),
    Fixture(
        "barge_in",
        "the caller interrupts the bot's reply: a question, a short pause, then speech over the bot",
        (
            Quiet(0.5),
            Say("Hi, I have a question about my last bill."),
            Quiet(0.9),
            Say("Sorry, wait, wait. Actually, I want to cancel my subscription.", speed=185),
            Quiet(2.0),
            Say("Yes, that's right, cancel it."),
            Quiet(1.0),
        ),
        marks=((3.4, "greeting-end"),),
    ),
    Fixture(
        "long_silence",
        "a caller says hello, stays silent for 10 s, then asks if anyone is there",
        (Quiet(0.5), Say("Hello?"), Quiet(10.0), Say("Hello, is anyone there?"), Quiet(1.0)),
    ),
    Fixture(
        "noisy_line",
        "a short question on a noisy line (higher noise floor)",
        (
            Quiet(0.7),
            Say("What time do you close today?", voice="en-gb"),
            Quiet(2.5),
            Say("Okay, thank you, bye."),
            Quiet(1.0),
        ),
        noise_level=120.0,
    ),
)


def _espeak(text: str, voice: str, speed: int) -> bytes | None:
    """Render ``text`` with espeak-ng as 16-bit PCM at 8 kHz, or None without espeak-ng."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "say.wav"
        subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, capture_output=True)
        with wave.open(str(path), "rb") as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            pcm = wav.readframes(wav.getnframes())
    if channels != 1:
        pcm = audioop.tomono(pcm, width, 0.5, 0.5)
    if width != 2:
        pcm = audioop.lin2lin(pcm, width, 2)
    if rate != SAMPLE_RATE:
        pcm, _ = audioop.ratecv(pcm, 2, 1, rate, SAMPLE_RATE, None)
    peak = audioop.max(pcm, 2) or 1
    return audioop.mul(pcm, 2, _SPEECH_PEAK / peak)


def render(fx: Fixture, rng: random.Random) -> list[bytes]:
    """Render a fixture's script to 20 ms μ-law frames with line noise throughout."""
    pcm = bytearray()
    for part in fx.script:
        if isinstance(part, Quiet):
            pcm += noise_pcm(part.seconds, rng, fx.noise_level)
            continue
        speech = _espeak(part.text, part.voice, part.speed)
        if speech is None:  # no espeak-ng: a speech-like stand-in of similar length
            speech = speech_pcm(0.07 * len(part.text), rng)
        pcm += audioop.add(speech, noise_pcm(len(speech) / 2 / SAMPLE_RATE, rng, fx.noise_level)[: len(speech)], 2)
    return mulaw_frames(bytes(pcm))


def _sid(rng: random.Random, prefix: str) -> str:
    return f"{prefix}{rng.getrandbits(128):032x}"


def main(argv: list[str] | None = None) -> int:
    """Generate every fixture; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python scripts/make_fixtures.py",
        description=__doc__.split("\n\n")[0],
        epilog="Reads no environment variables; uses espeak-ng when installed (synthetic speech without it).",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests/fixtures/twilio")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if shutil.which("espeak-ng") is None:
        print("warning: espeak-ng not found; using synthetic speech", file=sys.stderr)
    for index, fx in enumerate(FIXTURES):
        rng = random.Random(1000 + index)
        frames = render(fx, rng)
        session = build_session(
            fx.name,
            fx.description,
            frames,
            dtmf=[(s * 1000.0, d) for s, d in fx.dtmf],
            marks=[(s * 1000.0, n) for s, n in fx.marks],
            custom_parameters=fx.custom_parameters,
            start_delay_ms=round(rng.uniform(20.0, 60.0), 1),
            jitter_ms=3.0,
            rng=rng,
            stream_sid=_sid(rng, "MZ"),
            call_sid=_sid(rng, "CA"),
            account_sid=_sid(rng, "AC"),
        )
        data = dump_session(session)
        if len(data) > MAX_FIXTURE_BYTES:
            print(f"error: {fx.name} is {len(data)} bytes (> {MAX_FIXTURE_BYTES})", file=sys.stderr)
            return 1
        path = args.out / f"{fx.name}.jsonl"
        path.write_bytes(data)
        print(f"{path}: {len(frames) * FRAME_MS / 1000:.1f} s, {len(frames)} frames, {len(data) // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
