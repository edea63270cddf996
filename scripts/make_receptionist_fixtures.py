"""Regenerate the receptionist's recorded caller sessions in ``tests/fixtures/receptionist/``.

The fixtures are committed; run this only to change them::

    apt-get install -y espeak-ng
    python scripts/make_receptionist_fixtures.py

Each session is one caller (an espeak-ng voice and speed, a background-noise level) answering
the receptionist: a need (spoken, or a menu key), a message when they chose to leave one,
a first name, "yes" to the spell-back, and the callback number (yes/1 for the caller ID, or
typed on the keypad). The caller's timing comes from simulating the receptionist's own
dialogue with the default prompts rendered by espeak-ng: each answer starts a short, varied gap
after the question would end (or, in barge-in sessions, over the question). The expected lead
of every session is in ``expected.json``. Sessions are bzip2-compressed JSONL (``bunzip2 -k`` gives the plain file) (the replay
format of ``callengine/loadtest/session.py``).
"""

from __future__ import annotations

import argparse
import bz2
import random
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction  # noqa: E402
from callengine.brains.receptionist.setup import parse_setup  # noqa: E402
from callengine.brains.receptionist.tts import espeak_command, wav_to_ulaw  # noqa: E402
from callengine.loadtest.audio import mulaw_frames, noise_pcm  # noqa: E402
from callengine.loadtest.session import build_session, dump_session  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

OUT = Path(__file__).resolve().parents[1] / "tests/fixtures/receptionist"
AGENT_VOICE, AGENT_SPEED = "en-us", 180  # the brain's defaults: prompt lengths must match
PAUSE_S = 0.7  # CALLS_TURN_PAUSE_MS default
LATENCY_S = 0.5  # recognition + synthesis, generous on a busy 2-core machine
PROMPT_GAP_S = 0.2
CALLER_PEAK = 11000
TAIL_S = 1.5


@dataclass(frozen=True)
class Caller:
    name: str
    voice: str
    speed: int
    noise: float
    need: str  # words, or "dtmf:N"
    intent: str
    first_name: str
    name_words: str
    number: str  # "yes", "dtmf:1" or "dtmf:5551234567"
    caller_id: str = "+15551230000"
    message: str = ""
    barge_in: bool = False


CALLERS = (
    Caller("c01_sales_plain", "en-us", 160, 15, "sales please", "sales", "David", "david", "yes"),
    Caller("c02_support_gb", "en-gb", 150, 15, "i need support", "support", "Robert", "robert", "dtmf:1"),
    Caller("c03_dtmf_sales", "en-us+f3", 170, 60, "dtmf:1", "sales", "Michael", "my name is michael", "yes"),
    Caller("c04_dtmf_support_typed", "en-us+m3", 140, 15, "dtmf:2", "support", "James", "james", "dtmf:2065550198"),
    Caller("c05_message_speech", "en-us", 150, 15, "i want to leave a message", "message", "Linda", "linda", "yes",
           message="Hi, this is about the invoice you sent last week, please call me back."),
    Caller("c06_message_dtmf", "en-gb", 160, 120, "dtmf:0", "message", "Thomas", "thomas", "dtmf:1",
           message="I would like to change my appointment to Friday afternoon."),
    Caller("c07_support_noisy", "en-us", 165, 250, "support", "support", "Daniel", "daniel", "yes"),
    Caller("c08_sales_noisy_f", "en-us+f2", 155, 200, "sales", "sales", "Emily", "emily", "dtmf:1"),
    Caller("c09_barge_sales", "en-us", 175, 15, "sales", "sales", "Paul", "paul", "yes", barge_in=True),
    Caller("c10_barge_dtmf", "en-us+m2", 160, 60, "dtmf:2", "support", "Kevin", "kevin", "dtmf:1", barge_in=True),
    Caller("c11_fast_support", "en-us", 190, 15, "support please", "support", "Mark", "mark", "yes"),
    Caller("c12_slow_sales", "en-gb", 125, 15, "i want sales", "sales", "Laura", "laura", "dtmf:3125550147"),
    Caller("c13_scot_support", "en-gb-scotland", 150, 60, "support", "support", "John", "john", "yes"),
    Caller("c14_typed_number", "en-us+f3", 160, 120, "sales please", "sales", "Karen", "karen", "dtmf:4155550123"),
    Caller("c15_message_noisy", "en-us+m3", 150, 200, "dtmf:0", "message", "Steven", "steven", "dtmf:1",
           message="Please send me the price list for the large order."),
    Caller("c16_rp_sales", "en-gb-x-rp", 160, 15, "sales", "sales", "Anna", "anna", "yes"),
    Caller("c17_help_support", "en-us", 150, 90, "i need help", "support", "Jessica", "jessica", "dtmf:1"),
    Caller("c18_barge_support", "en-gb", 170, 120, "support", "support", "Nancy", "nancy", "yes", barge_in=True),
    Caller("c19_dtmf_all", "en-us+f4", 160, 15, "dtmf:1", "sales", "Maria", "maria", "dtmf:7185550111"),
    Caller("c20_quote_sales", "en-us", 165, 60, "i need a quote", "sales", "Lisa", "lisa", "yes"),
    Caller("c21_scot_message", "en-gb-scotland", 140, 15, "leave a message", "message", "Peter", "peter", "yes",
           message="The delivery did not arrive today."),
    Caller("c22_caribbean_support", "en-029", 150, 60, "support", "support", "Sarah", "sarah", "dtmf:1"),
)


def espeak(text: str, voice: str, speed: int) -> bytes:
    exe = shutil.which("espeak-ng")
    assert exe is not None
    wav = subprocess.run(espeak_command(exe, text, voice, speed), capture_output=True, check=True).stdout
    return audioop.ulaw2lin(wav_to_ulaw(wav), 2)


def agent_seconds(actions: list[SayAction | HangUpAction]) -> float:
    texts = [a.text for a in actions if isinstance(a, SayAction)]
    total = sum(len(espeak(t, AGENT_VOICE, AGENT_SPEED)) / 2 / 8000 for t in texts)
    total += PROMPT_GAP_S * max(0, len(texts) - 1)
    if any(isinstance(a, SayAction) and a.tone for a in actions):
        total += 0.3 + PROMPT_GAP_S
    return total


def caller_speech(text: str, c: Caller) -> bytes:
    pcm = espeak(text, c.voice, c.speed)
    peak = audioop.max(pcm, 2) or 1
    return audioop.mul(pcm, 2, CALLER_PEAK / peak)


def make(c: Caller, rng: random.Random) -> tuple[list[bytes], list[tuple[float, str]], float]:
    """Render the caller's side; returns (frames, dtmf (ms, digit), duration)."""
    dialogue = Dialogue(parse_setup(None, caller=c.caller_id))
    speech: list[tuple[float, bytes]] = []
    dtmf: list[tuple[float, str]] = []
    agent_start = 0.3
    agent_end = agent_start + agent_seconds(dialogue.start())
    answers: list[str] = [c.need]
    if c.message:
        answers.append("say:" + c.message)
    answers += [c.name_words, "yes", c.number]
    first = True
    for answer in answers:
        gap = rng.uniform(0.4, 0.9)
        at = agent_start + 2.5 if (c.barge_in and first) else agent_end + gap
        first = False
        if answer.startswith("dtmf:"):
            keys = answer[5:]
            if len(keys) > 1:
                keys += "#"
            actions: list[SayAction | HangUpAction] = []
            for k, key in enumerate(keys):
                dtmf.append(((at + 0.35 * k) * 1000, key))
                actions += dialogue.pressed(key)
            caller_end = at + 0.35 * len(keys)
            agent_start = caller_end + LATENCY_S
        else:
            text = answer.removeprefix("say:")
            audio = caller_speech(text, c)
            speech.append((at, audio))
            caller_end = at + len(audio) / 2 / 8000
            hyp = text.lower() if not text.startswith("say:") else text
            actions = dialogue.heard(hyp if dialogue.expect.value != "free" else text)
            agent_start = caller_end + PAUSE_S + LATENCY_S
        agent_end = agent_start + agent_seconds(actions)
    assert dialogue.ended, f"{c.name}: the simulated dialogue did not finish"
    lead = dialogue.lead
    assert lead.reason == c.intent and lead.name == c.first_name, (c.name, lead)
    duration = agent_end + TAIL_S
    pcm = bytearray(noise_pcm(duration, rng, c.noise))
    for at, audio in speech:
        start = int(at * 8000) * 2
        end = min(len(pcm), start + len(audio))
        pcm[start:end] = audioop.add(bytes(pcm[start:end]), audio[: end - start], 2)
    return mulaw_frames(bytes(pcm)), dtmf, duration


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python scripts/make_receptionist_fixtures.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Takes no options and reads no environment variables; needs espeak-ng.",
    ).parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("error: espeak-ng is not installed (apt-get install -y espeak-ng)", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, str]] = {}
    for index, c in enumerate(CALLERS):
        rng = random.Random(3000 + index)
        frames, dtmf, duration = make(c, rng)
        number = c.number.removeprefix("dtmf:")
        callback = c.caller_id if number in ("yes", "1") else number
        description = (
            f"{c.voice} at {c.speed} wpm, noise {c.noise:g}: need {c.need!r}, name {c.first_name}, "
            f"number {c.number}{', message' if c.message else ''}{', barge-in' if c.barge_in else ''}"
        )
        session = build_session(
            c.name,
            description,
            frames,
            dtmf=dtmf,
            custom_parameters={"business_id": "1", "from": c.caller_id},
            start_delay_ms=30.0,
            jitter_ms=2.0,
            rng=rng,
        )
        data = bz2.compress(dump_session(session), 9)
        (OUT / f"{c.name}.jsonl.bz2").write_bytes(data)
        expected[c.name] = {"intent": c.intent, "name": c.first_name, "callback_number": callback}
        print(f"{c.name}: {duration:.1f} s, {len(data) // 1024} KB")
    (OUT / "expected.json").write_bytes(orjson.dumps(expected, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
