"""Speech out: espeak-ng rendered to 8 kHz μ-law, or the prerecorded clips in the package.

``Voice.render(text)`` never blocks the event loop: espeak-ng runs as a subprocess
(``trio.run_process``, under a deadline) and the resampling runs in a worker thread. Results
are cached per text (prompts repeat on every call). Without espeak-ng the voice stitches
``clips/`` (made by ``scripts/make_receptionist_clips.py``): the longest known phrase at each
point of the text, word clips for names, letters and digits; words with no clip are skipped
and counted.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import subprocess
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import final

import orjson
import trio

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

from callengine.errors import CallEngineError

__all__ = ["CLIPS_DIR", "ClipBank", "SpeechError", "Voice", "espeak_command", "tone", "wav_to_ulaw"]

log = logging.getLogger(__name__)

CLIPS_DIR = Path(__file__).with_name("clips")
CACHE_ENTRIES = 512  # prompts are shared by every call; names and numbers vary
ESPEAK_TIMEOUT_SECONDS = 5.0
SPEECH_PEAK = 12000  # ≈ -8.7 dBFS: loud enough on a handset, no clipping after μ-law
MAX_PHRASE_WORDS = 24


class SpeechError(CallEngineError):
    """Speech could not be rendered (espeak-ng failed, bad WAV, no clips)."""


def espeak_command(exe: str, text: str, voice: str, speed: int) -> list[str]:
    return [exe, "-v", voice, "-s", str(speed), "--stdout", text]


def wav_to_ulaw(wav: bytes) -> bytes:
    """A RIFF/WAVE PCM16 mono file (espeak-ng's output) → 8 kHz μ-law, peak-normalised.

    Raises:
        SpeechError: If ``wav`` is not 16-bit mono PCM WAV.
    """
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise SpeechError("not a WAV file")
    pos = 12
    rate = bits = channels = 0
    data = b""
    while pos + 8 <= len(wav):
        chunk, size = wav[pos : pos + 4], int.from_bytes(wav[pos + 4 : pos + 8], "little")
        body = wav[pos + 8 : pos + 8 + size] if chunk != b"data" else wav[pos + 8 :]
        if chunk == b"fmt ":
            channels = int.from_bytes(body[2:4], "little")
            rate = int.from_bytes(body[4:8], "little")
            bits = int.from_bytes(body[14:16], "little")
        elif chunk == b"data":
            data = body  # espeak-ng streaming to stdout leaves the size unset: take the rest
            break
        pos += 8 + size + (size & 1)
    if bits != 16 or channels != 1 or rate <= 0:
        raise SpeechError(f"expected 16-bit mono PCM, got {bits}-bit, {channels} channels")
    data = data[: len(data) // 2 * 2]
    if rate != 8000:
        data, _ = audioop.ratecv(data, 2, 1, rate, 8000, None)
    peak = audioop.max(data, 2) if data else 0
    if peak:
        data = audioop.mul(data, 2, SPEECH_PEAK / peak)
    return audioop.lin2ulaw(data, 2)


def tone(ms: int = 300, hz: int = 1000) -> bytes:
    """A beep (before a recorded message)."""
    n = ms * 8
    samples = (int(8000 * math.sin(2 * math.pi * hz * i / 8000)) for i in range(n))
    pcm = b"".join(s.to_bytes(2, "little", signed=True) for s in samples)
    return audioop.lin2ulaw(pcm, 2)


_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def words_of(text: str) -> list[str]:
    """Lower-case words; each digit becomes its word ("5 5" → five five), as it is spoken."""
    words: list[str] = []
    for token in re.findall(r"[a-z']+|[0-9]", text.lower()):
        words.append(_DIGITS[int(token)] if token.isdigit() else token)
    return words


@final
class ClipBank:
    """Prerecorded μ-law clips: ``clips.json`` (phrase → [offset, length]) + ``clips.ulaw``."""

    def __init__(self, directory: Path = CLIPS_DIR) -> None:
        index_path, audio_path = directory / "clips.json", directory / "clips.ulaw"
        try:
            index = orjson.loads(index_path.read_bytes())
            self._audio = audio_path.read_bytes()
        except (OSError, orjson.JSONDecodeError) as exc:
            raise SpeechError(f"cannot load the prompt clips in {directory}: {exc}") from exc
        self._index: dict[tuple[str, ...], tuple[int, int]] = {
            tuple(words_of(phrase)): (int(span[0]), int(span[1])) for phrase, span in index.items()
        }
        self.gap = b"\xff" * 800  # 100 ms between stitched clips
        self.missing_words = 0

    def render(self, text: str) -> bytes:
        words = words_of(text)
        out: list[bytes] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                span = self._index.get(tuple(words[i : i + n]))
                if span is not None:
                    out.append(self._audio[span[0] : span[0] + span[1]])
                    i += n
                    break
            else:
                self.missing_words += 1
                i += 1
        return self.gap.join(out)


@final
class Voice:
    """Renders text to 8 kHz μ-law, cached; espeak-ng when available, else clips."""

    def __init__(
        self,
        *,
        engine: str = "auto",
        voice: str = "en-us",
        speed: int = 180,
        clips_dir: Path = CLIPS_DIR,
    ) -> None:
        exe = shutil.which("espeak-ng") if engine in ("auto", "espeak") else None
        if engine == "espeak" and exe is None:
            raise SpeechError("RECEPTIONIST_TTS=espeak but espeak-ng is not installed")
        self._exe = exe
        self._voice = voice
        self._speed = speed
        self._clips = ClipBank(clips_dir) if exe is None else None
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self.engine = "espeak-ng" if exe is not None else "clips"

    async def render(self, text: str) -> bytes:
        """μ-law audio for ``text``.

        Cancellation: safe; a cancelled espeak-ng subprocess is killed by trio.

        Raises:
            SpeechError: If espeak-ng fails or times out.
        """
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        if self._exe is None:
            assert self._clips is not None
            audio = self._clips.render(text)
        else:
            cmd = espeak_command(self._exe, text, self._voice, self._speed)
            try:
                with trio.fail_after(ESPEAK_TIMEOUT_SECONDS):
                    done = await trio.run_process(cmd, capture_stdout=True, capture_stderr=True)
            except (OSError, trio.TooSlowError, subprocess.CalledProcessError) as exc:
                raise SpeechError(f"espeak-ng failed: {exc!r}") from exc
            audio = await trio.to_thread.run_sync(wav_to_ulaw, done.stdout)
        self._cache[text] = audio
        if len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return audio
