"""Regenerate the receptionist's prerecorded prompt clips (used when espeak-ng is missing).

The clips are committed; run this only after changing the default prompts::

    apt-get install -y espeak-ng
    python scripts/make_receptionist_clips.py

Writes ``callengine/brains/receptionist/clips/clips.ulaw`` (8 kHz μ-law, all clips end to end)
and ``clips.json`` (phrase → [offset, length]). Phrases: every default prompt with the default
menu, the fixed pieces of templated prompts, letters, digits and intent words, so that
``ClipBank`` can stitch any default prompt (a name is spelled, not said: names would double
the size).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from callengine.brains.receptionist.dialogue import after_greeting  # noqa: E402
from callengine.brains.receptionist.grammars import INTENT_WORDS  # noqa: E402
from callengine.brains.receptionist.setup import DEFAULT_PROMPTS  # noqa: E402
from callengine.brains.receptionist.tts import CLIPS_DIR, espeak_command, wav_to_ulaw  # noqa: E402
from callengine.turns.menu import Menu  # noqa: E402

VOICE, SPEED = "en-us", 180
SILENT = 0x7F  # μ-law bytes this close to 0xFF/0x7F are silence


def phrases() -> list[str]:
    out: list[str] = []
    menu = Menu().describe()
    for text in DEFAULT_PROMPTS.values():
        if "{" not in text or text.count("{") == 1 and "{menu}" in text:
            out.append(text.format(menu=menu))
            # what follows a business greeting that already asks ("… How can I help you?")
            out.append(after_greeting("?", text.format(menu=menu)))
        for piece in re.split(r"\{[a-z]+\}", text):
            for sentence in re.split(r"(?<=[.?!,])\s+", piece):
                if re.search(r"[a-zA-Z]", sentence):
                    out.append(sentence.strip(" ,"))
    out += [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    out += "zero one two three four five six seven eight nine".split()
    out += [w for words in INTENT_WORDS.values() for w in words]
    out += ["your call", "your message", "the number you called from", "press", "for"]
    return [phrase for phrase in dict.fromkeys(out) if phrase]


def trim(ulaw: bytes) -> bytes:
    quiet = {b for b in range(256) if (b & 0x7F) >= 0x7C}  # |sample| below ~30
    start, end = 0, len(ulaw)
    while start < end and ulaw[start] in quiet:
        start += 1
    while end > start and ulaw[end - 1] in quiet:
        end -= 1
    return ulaw[max(0, start - 160) : end + 160]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python scripts/make_receptionist_clips.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Takes no options and reads no environment variables; needs espeak-ng.",
    ).parse_args(argv)
    exe = shutil.which("espeak-ng")
    if exe is None:
        print("error: espeak-ng is not installed (apt-get install -y espeak-ng)", file=sys.stderr)
        return 1
    audio = bytearray()
    index: dict[str, list[int]] = {}
    for phrase in phrases():
        wav = subprocess.run(espeak_command(exe, phrase, VOICE, SPEED), capture_output=True, check=True).stdout
        clip = trim(wav_to_ulaw(wav))
        index[phrase] = [len(audio), len(clip)]
        audio += clip
    CLIPS_DIR.mkdir(exist_ok=True)
    (CLIPS_DIR / "clips.ulaw").write_bytes(bytes(audio))
    (CLIPS_DIR / "clips.json").write_bytes(orjson.dumps(index, option=orjson.OPT_INDENT_2))
    print(f"{len(index)} clips, {len(audio) / 8000:.0f} s, {len(audio) // 1024} KB in {CLIPS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
