"""The receptionist's name question on synthetic callers who answer in sentences.

    python -m bench.name_accuracy [--calls 124] [--json out.json]

A caller of ``python -m bench.asr_accuracy`` says only the bare name. Real callers say "my
name is Sarah", "this is Sarah", "Sarah here", "yes, it's Sarah"… (issue #15: "got the first
name wrong about half the time"). Here each caller (an espeak-ng voice, speed and line-noise
level, rotated as in ``bench.asr_accuracy``; one of the common first names) answers the name
question with one of ``CARRIERS``; the ones marked held out are not written word for word in
the name grammar, as a caller would not read it either. The real ``Dialogue`` then runs: every
caller turn is synthesised, sent through the telephone line (8 kHz, noise, μ-law) and decoded
with the grammar of what the dialogue expects, carrying the caller's channel as the brain
does. The caller behaves as a person would: "yes" to their own name spelled back and "no" to
any other, the bare name (a little slower) when asked again, and the letters ("s, a, r, a,
h") when asked to spell.

Reported, over the callers: the first name spelled back right the first time, the name stored
(``Lead.name``) right at the end of the dialogue, no name stored, a wrong name stored, and a
name the caller *refused* stored (must be 0), plus the caller turns the name took.
Deterministic: the same espeak-ng gives the same figures.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.asr_accuracy import VOICES, espeak_for, speech, synthetic_parser
from bench.decode_cache import CachedRecognizer
from callengine.brains.receptionist.asr import Recognizer
from callengine.brains.receptionist.dialogue import Dialogue, State
from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    Expect,
    intent_grammar,
    read_yes_no,
)
from callengine.brains.receptionist.setup import parse_setup

# (sentence, held out of the grammar). The bare name and the carriers first.
CARRIERS = (
    ("my name is {n}", False), ("{n}", False), ("this is {n}", False), ("it's {n}", False),
    ("i'm {n}", False), ("{n} here", False), ("yes it's {n}", False), ("uh my name is {n}", False),
    ("hi this is {n}", False), ("hi, my name's {n}", False), ("you can call me {n}", True),
    ("hello, {n} speaking", False), ("my first name is {n}", True), ("oh hi, it's {n}, thanks", True),
)  # fmt: skip
YESES = ("yes", "yeah", "correct", "yes that's right")
NOES = ("no", "no that's wrong", "nope")
REPEAT_SLOWER = 15  # words per minute slower each time the caller says it again
MAX_TURNS = 12  # a dialogue that asks more than this about the name is itself a failure


@dataclass
class Outcome:
    name: str
    carrier: str
    first_try: bool = False
    stored: str | None = None
    refused: list[str] = field(default_factory=list)
    turns: int = 0
    spelled: bool = False
    yes_no_misheard: int = 0  # a "no" heard as yes or a "yes" as no (or as nothing)
    heard: list[str] = field(default_factory=list)  # the candidates spelled back
    said: list[tuple[str, str | None]] = field(default_factory=list)  # (said, decoded) per turn


def letters(name: str) -> str:
    return ", ".join(name.lower())  # "s, a, r, a, h": espeak-ng says letter names


def run_caller(exe: str, recognizer: CachedRecognizer, i: int, names: list[str]) -> Outcome:
    rng = random.Random(5000 + i)  # per caller: its line noise does not depend on the others
    voice, speed, noise = VOICES[i % len(VOICES)]
    name = names[(i * 7) % len(names)]  # stride: neighbours in the list sound nothing alike
    carrier, _ = CARRIERS[i % len(CARRIERS)]
    out = Outcome(name, carrier)
    dialogue = Dialogue(parse_setup(None, caller="+15551230000"), names=tuple(names))
    dialogue.start()
    # The need turn comes first on a call: it sets the caller's channel as in the brain.
    need = speech(exe, "sales please", voice, speed, noise, rng)
    channel = recognizer.recognize(need, intent_grammar(["sales", "support"])).channel
    dialogue.pressed("1")
    asked = 0
    while dialogue.state not in (State.NUMBER, State.ENTER_NUMBER, State.DONE):
        if out.turns >= MAX_TURNS:
            break
        expect = dialogue.expect
        slower = speed - REPEAT_SLOWER * min(asked, 3)
        if expect is Expect.NAME:
            text = carrier.format(n=name) if asked == 0 else name
            asked += 1
        elif expect is Expect.YES_NO:
            candidate = (dialogue.candidate or "").lower()
            if not out.heard:
                out.first_try = candidate == name
            out.heard.append(candidate)
            if candidate == name:
                text = YESES[i % len(YESES)]
            else:
                out.refused.append(candidate)
                text = NOES[len(out.refused) % len(NOES)]
        else:
            out.spelled = True
            text = letters(name)
            asked += 1
        pcm = speech(exe, text, voice, slower, noise, rng)
        heard = recognizer.recognize(pcm, dialogue.grammar(), channel)
        again = dialogue.second_pass_grammar(heard.text)
        if again is not None:
            heard = recognizer.recognize(pcm, again, channel)
        channel = heard.channel
        out.said.append((text, heard.text))
        if expect is Expect.YES_NO and read_yes_no(heard.text) is not (text in YESES):
            out.yes_no_misheard += 1
        out.turns += 1
        dialogue.heard(heard.text)
    out.stored = dialogue.lead.name.lower() if dialogue.lead.name else None
    return out


def measure(exe: str, count: int, *, verbose: bool = False, cache: Path | None = None) -> dict[str, object]:
    names = list(dict.fromkeys(COMMON_NAMES))
    recognizer = CachedRecognizer(Recognizer(size=1), cache)
    outcomes = [run_caller(exe, recognizer, i, names) for i in range(count)]
    recognizer.save()
    if verbose:
        for o in outcomes:
            mark = "✓" if o.stored == o.name else "✗"
            print(f"{mark} {o.name:12} stored {o.stored}: " + " | ".join(f"{s!r}→{h!r}" for s, h in o.said))
    by_carrier: dict[str, list[int]] = {}
    for o in outcomes:
        row = by_carrier.setdefault(o.carrier, [0, 0, 0])
        row[0] += 1
        row[1] += o.first_try
        row[2] += o.stored == o.name
    confusions = Counter((o.name, o.heard[0] if o.heard else "-") for o in outcomes if not o.first_try)
    turns = sorted(o.turns for o in outcomes)
    return {
        "calls": count,
        "first_try": sum(o.first_try for o in outcomes),
        "right_in_dialogue": sum(o.stored == o.name for o in outcomes),
        "no_name": sum(o.stored is None for o in outcomes),
        "wrong_stored": sum(o.stored is not None and o.stored != o.name for o in outcomes),
        "refused_stored": sum(o.stored is not None and o.stored in o.refused for o in outcomes),
        "spelled": sum(o.spelled for o in outcomes),
        "spelled_right": sum(o.spelled and o.stored == o.name for o in outcomes),
        "yes_no_misheard": sum(o.yes_no_misheard for o in outcomes),
        "turns_p50": turns[len(turns) // 2],
        "turns_max": turns[-1],
        "held_out": {
            "calls": sum(1 for o in outcomes if dict(CARRIERS)[o.carrier]),
            "first_try": sum(o.first_try for o in outcomes if dict(CARRIERS)[o.carrier]),
            "right_in_dialogue": sum(o.stored == o.name for o in outcomes if dict(CARRIERS)[o.carrier]),
        },
        "by_carrier": {
            c: {"calls": r[0], "first_try": r[1], "right_in_dialogue": r[2]} for c, r in by_carrier.items()
        },
        "confusions": [[want, got, n] for (want, got), n in confusions.most_common(12)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = synthetic_parser("python -m bench.name_accuracy", __doc__, 124)
    parser.add_argument("--verbose", action="store_true", help="print every caller's turns")
    args = parser.parse_args(argv)
    exe = espeak_for(args.calls)
    if isinstance(exe, int):
        return exe
    r = measure(exe, args.calls, verbose=args.verbose, cache=args.cache)
    n = args.calls

    def line(label: str, k: object) -> None:
        assert isinstance(k, int)
        print(f"  {label:34} {k:4}/{n} ({k / n:.0%})")

    print(f"{n} synthetic callers saying their first name in a sentence:")
    line("first name right at the first try", r["first_try"])
    line("first name right within the dialogue", r["right_in_dialogue"])
    line("no name stored", r["no_name"])
    line("a wrong name stored", r["wrong_stored"])
    line("a name the caller refused stored", r["refused_stored"])
    line("asked to spell", r["spelled"])
    line("  … and right after spelling", r["spelled_right"])
    print(f"  spell-back answers misheard: {r['yes_no_misheard']}")
    print(f"  caller turns on the name: p50 {r['turns_p50']}, max {r['turns_max']}")
    held = r["held_out"]
    assert isinstance(held, dict)
    print(
        f"  carriers held out of the grammar: first try {held['first_try']}/{held['calls']}, "
        f"within the dialogue {held['right_in_dialogue']}/{held['calls']}"
    )
    print("per carrier (callers, first try, within the dialogue):")
    for carrier, row in r["by_carrier"].items():  # type: ignore[attr-defined]
        print(f"  {carrier:28} {row['calls']:3} {row['first_try']:4} {row['right_in_dialogue']:4}")
    print("first-try confusions (wanted → heard first, '-' = nothing usable):")
    for want, got, k in r["confusions"]:  # type: ignore[attr-defined]
        print(f"  {want} → {got}: {k}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
