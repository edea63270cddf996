"""Receptionist recognition accuracy on synthetic callers, wider than the 22 recorded sessions.

    python -m bench.asr_accuracy [--calls 124] [--json out.json]

Each caller (an espeak-ng voice, speed and line-noise level, rotated over ten of each) answers
the receptionist's three spoken questions: a need ("sales please", "i need help", "leave a
message", …), one of the name grammar's first names, and a yes to the spell-back. Every turn
goes the way a call's audio does (8 kHz, background noise, μ-law and back, quiet around the
words) and is decoded in-process with the grammar the dialogue would use, carrying the
caller's channel from turn to turn as the brain does. A wrong name is followed, as in the
dialogue, by the caller's "no" to the spell-back and the name said again (a little slower),
decoded without the names already refused, up to three tries (a recognition measure: the
dialogue itself now asks for the spelling after the first "no", which
``python -m bench.name_accuracy`` measures). A first name turn that holds no name is decoded
again as a bare name, as the brain does (``Dialogue.second_pass_grammar``). Prints the rate
per question and the commonest confusions. Deterministic: the same espeak-ng gives the same
figures.

The recorded sessions (tests/fixtures/receptionist) are too few to tell a grammar change that
helps from one that only moves errors around: a keyword that fixes one of them can cost four
callers here (measured: "quote" for sales, intent 108 → 104 of 124).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.decode_cache import CachedRecognizer
from callengine.audio.mulaw import pcm_to_ulaw, ulaw_to_pcm
from callengine.brains.receptionist.asr import Heard, Recognizer
from callengine.brains.receptionist.dialogue import Dialogue
from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    intent_grammar,
    name_grammar,
    read_intent,
    read_name,
    read_yes_no,
    yes_no_grammar,
)
from callengine.brains.receptionist.setup import parse_setup
from callengine.brains.receptionist.tts import espeak_command, wav_to_ulaw
from callengine.brains.receptionist.understanding import classify, decide, need_lm
from callengine.loadtest.audio import noise_pcm

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

VOICES = (
    ("en-us", 160, 15), ("en-gb", 150, 60), ("en-us+f3", 170, 120), ("en-gb-scotland", 150, 60),
    ("en-gb-x-rp", 160, 15), ("en-029", 150, 60), ("en-us+m3", 140, 15), ("en-us+f2", 155, 200),
    ("en-us+m2", 175, 90), ("en-us+f4", 165, 30),
)  # fmt: skip
NEEDS = (
    ("sales please", "sales"), ("i need support", "support"), ("support", "support"),
    ("sales", "sales"), ("i want to leave a message", "message"), ("i need help", "support"),
    ("i want sales", "sales"), ("leave a message", "message"),
)  # fmt: skip
YESES = ("yes", "yeah", "correct", "yes that's right")
INTENTS = ("sales", "support", "message")
MENU = [  # the business the need decision is taken for: the default menu's intents
    {"digit": "1", "label": "sales", "intent": "sales"},
    {"digit": "2", "label": "support", "intent": "support"},
    {"digit": "0", "label": "leave a message", "intent": "message"},
]
PEAK = 11000  # the recorded sessions' caller level
LEAD_S, TAIL_S = 0.12, 0.3  # quiet kept around a turn (the turn detector keeps ~120 ms before)
NAME_TRIES = 3  # the name said up to three times
RETRIED = f"name within {NAME_TRIES} tries"
REPEAT_SLOWER = 15  # words per minute: a caller saying their name again


@dataclass(frozen=True)
class Turn:
    question: str  # intent | name | yes
    pcm: bytes
    want: str
    again: tuple[bytes, ...] = ()  # the same answer said again, for a second and third try


def speech(exe: str, text: str, voice: str, speed: int, noise: float, rng: random.Random) -> bytes:
    wav = subprocess.run(espeak_command(exe, text, voice, speed), capture_output=True, check=True).stdout
    words = ulaw_to_pcm(wav_to_ulaw(wav))
    words = audioop.mul(words, 2, PEAK / (audioop.max(words, 2) or 1))
    line = noise_pcm(len(words) / 16000, rng, noise)[: len(words)]
    pcm = noise_pcm(LEAD_S, rng, noise) + audioop.add(words, line, 2) + noise_pcm(TAIL_S, rng, noise)
    return ulaw_to_pcm(pcm_to_ulaw(pcm))  # the telephone line's companding


def callers(exe: str, count: int) -> list[list[Turn]]:
    names = list(dict.fromkeys(COMMON_NAMES))
    result = []
    for i in range(count):
        rng = random.Random(1000 + i)  # per caller: adding a turn changes no other caller's noise
        voice, speed, noise = VOICES[i % len(VOICES)]
        need, intent = NEEDS[i % len(NEEDS)]
        name = names[i % len(names)]
        say = YESES[i % len(YESES)]
        result.append(
            [
                Turn("intent", speech(exe, need, voice, speed, noise, rng), intent),
                Turn(
                    "name",
                    speech(exe, name, voice, speed, noise, rng),
                    name,
                    tuple(
                        speech(exe, name, voice, speed - REPEAT_SLOWER * k, noise, rng)
                        for k in range(1, NAME_TRIES)
                    ),
                ),
                Turn("yes", speech(exe, say, voice, speed, noise, rng), "yes"),
            ]
        )
    return result


def heard_as(question: str, text: str | None, names: list[str]) -> str:
    if question == "intent":
        return read_intent(text, INTENTS) or "-"
    if question == "name":
        return (read_name(text, names) or "-").lower()
    answer = read_yes_no(text)
    return "-" if answer is None else ("yes" if answer else "no")


def measure(calls: list[list[Turn]], cache: Path | None = None) -> dict[str, object]:
    names = list(dict.fromkeys(COMMON_NAMES))
    grammars = {
        "intent": intent_grammar(INTENTS),
        "name": name_grammar(names),
        "yes": yes_no_grammar(),
    }
    recognizer = CachedRecognizer(Recognizer(size=1), cache)
    right: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    decisions: Counter[str] = Counter()
    business = Dialogue(parse_setup(json.dumps({"menu": MENU}), caller="+15551230000"))
    model = need_lm(business.vocabulary)
    for call in calls:
        channel: str | None = None
        for turn in call:
            heard = recognizer.recognize(turn.pcm, grammars[turn.question], channel)
            if turn.question == "intent":  # the whole decision, as the dialogue takes it
                decisions[need_outcome(business, recognizer, turn, heard, model, channel)] += 1
            if turn.question == "name" and read_name(heard.text, names) is None:
                # the brain's second pass (Dialogue.second_pass_grammar): again as a bare name
                heard = recognizer.recognize(turn.pcm, name_grammar(names, sentence=False), channel)
            channel = heard.channel
            got = heard_as(turn.question, heard.text, names)
            if got == turn.want:
                right[turn.question] += 1
                if turn.question == "name":
                    right[RETRIED] += 1
                continue
            confusions[(turn.want, got)] += 1
            refused = {got}
            for pcm in turn.again:  # "no" to the spell-back, then the name again
                choices = [n for n in names if n not in refused]
                heard = recognizer.recognize(pcm, name_grammar(choices, sentence=False), channel)
                channel = heard.channel
                got = heard_as(turn.question, heard.text, choices)
                if got == turn.want:
                    right[RETRIED] += 1
                    break
                refused.add(got)
    recognizer.save()
    questions = [*grammars, RETRIED]
    return {
        "calls": len(calls),
        "right": {q: right[q] for q in questions},
        "rates": {q: round(right[q] / len(calls), 3) for q in questions},
        "confusions": [[want, got, n] for (want, got), n in confusions.most_common(12)],
        "need_decisions": dict(decisions),
    }


def need_outcome(
    business: Dialogue, recognizer: CachedRecognizer, turn: Turn, heard: Heard, model: str, channel: str | None
) -> str:
    """What the dialogue does with the need turn: the keyword decode, the need model's (from
    the same channel), the n-best and the speech time (the turn without its quiet)."""
    sentence = recognizer.recognize(turn.pcm, model, channel).text or ""
    keyword = read_intent(heard.text, INTENTS)
    seconds = len(turn.pcm) / 16000 - LEAD_S - TAIL_S
    rival = business.rival(keyword, heard.alternatives)
    decision = decide(keyword, classify(sentence, business.vocabulary), rival, seconds)
    if decision.intent is None:
        return "not understood"
    right = "right" if decision.intent == turn.want else "wrong"
    return f"asked about the {right} need" if decision.ask else f"taken {right}"


def synthetic_parser(prog: str, doc: str | None, calls: int) -> argparse.ArgumentParser:
    """The command line the synthetic-caller benches share: --calls, --json and --cache."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(doc or "").split("\n\n")[0],
        epilog="Reads no environment variables; needs espeak-ng (apt-get install -y espeak-ng).",
    )
    parser.add_argument("--calls", type=int, default=calls, help=f"synthetic callers (default {calls})")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument(
        "--cache", type=Path, metavar="FILE",
        help="keep every decode in FILE and reuse it on the next run (bench/decode_cache.py)",
    )  # fmt: skip
    return parser


def espeak_for(calls: int) -> str | int:
    """espeak-ng's path, or the exit status after saying why the bench cannot run."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        print("error: espeak-ng is not installed (apt-get install -y espeak-ng)", file=sys.stderr)
        return 1
    if calls < 1:
        print("error: --calls must be at least 1", file=sys.stderr)
        return 2
    return exe


def main(argv: list[str] | None = None) -> int:
    args = synthetic_parser("python -m bench.asr_accuracy", __doc__, 124).parse_args(argv)
    exe = espeak_for(args.calls)
    if isinstance(exe, int):
        return exe
    result = measure(callers(exe, args.calls), args.cache)
    rights = result["right"]
    assert isinstance(rights, dict)
    print(f"{args.calls} synthetic callers, right answers per question:")
    for question, n in rights.items():
        print(f"  {question:22} {n:4}/{args.calls} ({n / args.calls:.0%})")
    decisions = result["need_decisions"]
    assert isinstance(decisions, dict)
    print("need turns through the dialogue's decision (keyword grammar + need model + n-best):")
    for outcome, n in sorted(decisions.items()):
        print(f"  {outcome:28} {n:4}/{args.calls}")
    print("commonest confusions (wanted → heard, '-' = nothing usable):")
    for want, got, n in result["confusions"]:  # type: ignore[union-attr]
        print(f"  {want} → {got}: {n}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
