"""Reply time of the offline receptionist: caller's end of speech → first reply audio.

``python -m bench.reply_latency`` runs the real calls service (``CALLS_BRAIN=receptionist``,
its recognition worker processes) against synthetic callers played by the load harness
(``callengine.loadtest``), and reads the call records back from queue ``high``:

- **smooth**: ``--smooth-calls`` callers (default 16) whose calls start one per second, so
  turns seldom end together;
- **burst**: ``--burst-calls`` callers (default 64) in groups of ``--group`` (default 8):
  the calls of a group start together and their answers end within a few seconds of each
  other (different voices and speeds); groups start ``--group-spacing`` seconds apart.

Each caller profile (``CALLERS``: espeak-ng, 10 voices/speeds, line noise; needs the default
business offers, sales or support, two of them said in a sentence) answers the dialogue the
way the engine will hear it. ``render`` plays the call through the real ``Dialogue``: the
rendered line (the caller's words, line noise, mid-sentence pauses, μ-law) goes through the
engine's own turn detector, and each turn it cuts is decoded in-process as the brain does
(``asr.Recognizer(size=1)``, from the channel of the caller's turn before;
``dialogue.grammar()``, for a need also the need model, for a name turn without a name the
bare-name second pass). What follows is the question the engine will ask,
and the caller answers it as a person: the need; "yes"/"no" to "Is that about …?"; its need's
key at the keypad menu; the first name ("my name is …" first, the bare name when asked again);
"yes"/"no" to the spelled-back name; the letters when asked to spell it; "no" to the caller
ID, then ten spoken digits; "yes"/"no" to the read-back, and a refused number typed on the
keypad with "#". Half of them pause mid-sentence for 300-500 ms ("i need … support", "my name
is … david", the number in groups "five five five … one two three … four five six seven").
Answers start 0.5-1 s after the agent's question would end with the old 700 ms pause and a
generous recognition time, so a faster reply never makes a caller talk over it.

The prediction does not play the brain's early ends (a turn judged complete at a 240 ms
pause) nor late replies the caller talks over, so a call can still fall out of step: the line reports how many calls the engine
heard exactly as predicted ("in step": every caller turn's ``heard`` as predicted) and how
many ended with the predicted lead (need, name, callback number). ``--verbose`` prints the
predicted dialogues; ``--cache FILE`` keeps the predicted decodes between runs
(``bench.decode_cache``; the prediction takes ~10 s without it).

As in every suite the engine's event loop is pinned to CPU 0 and the harness to CPU 1; the
recognition worker processes (which would inherit CPU 0) are given both cores, as deployed
(``--workers-on-cpu0`` keeps them on CPU 0 like the ``receptionist`` suite).

Reported per scenario: reply time p50/p90/p99 (caller's last voiced frame → first audio of
the answer queued; and → first audio of any kind, the "one moment" filler included), per
question kind; its parts (endpointing pause, recognition wait, decode); turns ended early;
fillers played; and **mid-sentence cut-offs**: sentences of the caller heard as more than one
turn (a sentence ended at one of its internal pauses shows up as two turns); calls in step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench.decode_cache import CachedRecognizer
from bench.procs import engine, health_peaks, private_redis, run_harness
from callengine.audio.mulaw import pcm_to_ulaw, ulaw_to_pcm
from callengine.brains.receptionist.asr import Heard, Recognizer
from callengine.brains.receptionist.dialogue import (
    Dialogue,
    HangUpAction,
    SayAction,
    State,
    speak_number,
    spell,
)
from callengine.brains.receptionist.grammars import COMMON_NAMES, Expect
from callengine.brains.receptionist.setup import parse_setup
from callengine.brains.receptionist.tts import espeak_command, wav_to_ulaw
from callengine.brains.receptionist.understanding import need_lm
from callengine.loadtest.audio import mulaw_frames, noise_pcm
from callengine.loadtest.session import build_session, dump_session
from callengine.turns.detector import LEAD_FRAMES, TAIL_FRAMES, TurnConfig, TurnDetector, TurnEnded

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

AGENT_VOICE, AGENT_SPEED = "en-us", 180  # the brain's defaults: prompt lengths must match
OLD_PAUSE_S = 0.7
LATENCY_S = 1.2  # generous: callers never answer before a slow reply
PROMPT_GAP_S = 0.2
CALLER_PEAK = 11000
TAIL_S = 2.0
TURN_PAUSE_MS = 700  # the engine's CALLS_TURN_PAUSE_MS (its default)
MAX_STEPS = 30  # answers and keypad entries: a dialogue longer than this is a bench bug
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Caller:
    voice: str
    speed: int
    noise: float
    need: str  # "|" marks where a caller who pauses pauses (else before the last word)
    intent: str  # what the need is about: the answer to "Is that about …?" and the menu key
    name: str
    number: str  # ten digits
    pauses: bool  # pauses mid-sentence

    @property
    def said_need(self) -> str:
        return " ".join(self.need.replace("|", " ").split())


CALLERS = (
    Caller("en-us", 160, 15, "i need support", "support", "david", "2065550198", False),
    Caller("en-gb", 150, 30, "sales please", "sales", "robert", "3125550147", True),
    Caller("en-us+f3", 170, 60, "i want sales", "sales", "michael", "4155550123", False),
    Caller("en-us+m3", 140, 15, "i need support", "support", "james", "7185550111", True),
    Caller("en-us", 175, 90, "support", "support", "linda", "6175550100", False),
    Caller("en-gb", 165, 15, "i need sales", "sales", "thomas", "2125550166", True),
    Caller("en-us+f2", 155, 60, "support please", "support", "emily", "5035550177", False),
    Caller("en-us", 150, 30, "i need support", "support", "sarah", "9175550133", True),
    Caller("en-gb", 155, 30, "i'd like to get a quote | for the premium plan", "sales", "maria", "3055550142", True),
    Caller("en-us+f3", 160, 15, "i have a problem with my account", "support", "john", "8165550129", False),
)  # at most ten: a call's profile is the last digit of its caller ID


class Hearing(Protocol):
    """What ``render`` decodes with: ``asr.Recognizer`` (or ``CachedRecognizer``, or a fake)."""

    def recognize(self, pcm8k: bytes, grammar: str | None, channel: str | None = None) -> Heard: ...


@dataclass
class Rendered:
    """One caller profile's call, as the engine should hear it."""

    frames: list[bytes]  # 20 ms μ-law
    sentences: list[list[float]]  # [start_s, end_s, pieces] of every spoken answer
    dtmf: list[tuple[float, str]]  # (stream ms, key)
    heard: list[str | None]  # what the engine should hear, turn by turn (its grammar's decode)
    expects: list[str]  # the question each turn answers (``Expect``), turn by turn
    lead: dict[str, Any]  # the lead the dialogue should end with
    log: list[str] = field(default_factory=list)


def _espeak(text: str, voice: str, speed: int, cache: dict[tuple[str, str, int], bytes]) -> bytes:
    key = (text, voice, speed)
    if key not in cache:
        exe = shutil.which("espeak-ng")
        if exe is None:
            raise SystemExit("bench: espeak-ng is not installed")
        wav = subprocess.run(espeak_command(exe, text, voice, speed), capture_output=True, check=True).stdout
        cache[key] = audioop.ulaw2lin(wav_to_ulaw(wav), 2)
    return cache[key]


def _trimmed(pcm: bytes) -> bytes:
    """Without espeak-ng's leading and trailing silence: the pauses are the script's own."""
    frames = [pcm[i : i + 320] for i in range(0, len(pcm), 320)]
    loud = [k for k, f in enumerate(frames) if audioop.rms(f, 2) > 100]
    return b"".join(frames[loud[0] : loud[-1] + 1]) if loud else pcm


def _agent_seconds(actions: list[SayAction | HangUpAction], cache: dict[tuple[str, str, int], bytes]) -> float:
    texts = [a.text for a in actions if isinstance(a, SayAction)]
    total = sum(len(_espeak(t, AGENT_VOICE, AGENT_SPEED, cache)) / 16000 for t in texts)
    return total + PROMPT_GAP_S * max(0, len(texts) - 1)


def _said(actions: list[SayAction | HangUpAction]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, SayAction))


def _answer(c: Caller, dialogue: Dialogue, said: str, names_said: int) -> list[str]:
    """The caller's answer to the question in ``said`` (the dialogue's state), as the pieces
    said with a pause between (one piece: no pause)."""
    state = dialogue.state
    digits = [DIGIT_WORDS[int(d)] for d in c.number]
    if state in (State.NEED, State.MESSAGE):  # a message the caller never wanted: the need again
        if c.pauses and "|" in c.need:
            return [" ".join(p.split()) for p in c.need.split("|")]
        words = c.said_need.split()
        return [" ".join(words[:-1]), words[-1]] if c.pauses and len(words) > 1 else [c.said_need]
    if state is State.NAME:  # asked again ("just your first name"): the bare name
        return ["my name is", c.name] if c.pauses and names_said == 0 else [c.name]
    if state is State.CLARIFY:
        return ["yes" if dialogue.label(c.intent) in said else "no"]
    if state in (State.CONFIRM_NAME, State.CONFIRM_SPELLING):
        return ["yes" if spell(c.name.capitalize()) in said else "no"]
    if state is State.SPELL_NAME:
        return [", ".join(c.name.lower())]
    if state is State.NUMBER:  # the caller ID is not the number to call back
        return ["no"]
    if state is State.ENTER_NUMBER:
        if c.pauses:
            return [" ".join(digits[:3]), " ".join(digits[3:6]), " ".join(digits[6:])]
        return [" ".join(digits)]
    if state is State.CONFIRM_DIGITS:
        return ["yes" if speak_number(c.number) in said else "no"]
    raise AssertionError(f"no answer for {state}")


class _Line:
    """The caller's side of the line, made as the call goes: noise, and the words mixed in."""

    def __init__(self, rng: random.Random, level: float) -> None:
        self.pcm = bytearray()
        self._rng = rng
        self._level = level
        # the engine's turn detector (the receptionist's pause; its early ends are not played)
        self._detector = TurnDetector(TurnConfig(pause_ms=TURN_PAUSE_MS))
        self._fed = 0  # frames given to it

    def turns(self, until: float) -> list[bytes]:
        """The turns the engine's detector ends on the line up to ``until`` (s), as it hands
        them over: from 120 ms before the onset, with only 240 ms of any pause inside."""
        frames = int(until * 50)
        self.reach(frames / 50 + 1)
        out = []
        for k in range(self._fed, frames):
            pcm = ulaw_to_pcm(pcm_to_ulaw(bytes(self.pcm[k * 320 : (k + 1) * 320])))
            event = self._detector.update(pcm, k / 50)
            if isinstance(event, TurnEnded):
                out.append(event.pcm)
        self._fed = max(self._fed, frames)
        return out

    def reach(self, seconds: float) -> None:
        missing = int(seconds * 8000) - len(self.pcm) // 2
        if missing > 0:
            self.pcm += noise_pcm(missing / 8000, self._rng, self._level)

    def add(self, at: float, audio: bytes) -> None:
        begin = int(at * 8000) * 2
        self.reach((begin + len(audio)) / 16000 + 1)
        self.pcm[begin : begin + len(audio)] = audioop.add(bytes(self.pcm[begin : begin + len(audio)]), audio, 2)

    def heard(self, spans: list[tuple[float, float]]) -> bytes:
        """The turn of the words said in ``spans`` as the engine's turn detector keeps it, through
        the line's μ-law: 20 ms frames from 120 ms before the first word to 240 ms after the
        last, and of a pause inside the turn only its first 240 ms (the detector drops the
        rest: the paused callers' turns came 110-370 ms shorter than their audio until this
        was done the same way, and decoded differently)."""
        frames = [(int(a * 1000) // 20, -(-int(b * 1000) // 20)) for a, b in spans]  # 20 ms frames
        cuts = []
        for k, (first, last) in enumerate(frames):
            end = last + TAIL_FRAMES
            cuts.append((first - LEAD_FRAMES if k == 0 else first, min(end, frames[k + 1][0]) if k + 1 < len(frames) else end))
        self.reach(cuts[-1][1] / 50 + 1)
        pcm = b"".join(bytes(self.pcm[a * 320 : b * 320]) for a, b in cuts)
        return ulaw_to_pcm(pcm_to_ulaw(pcm))


def render(c: Caller, seed: int, cache: dict[tuple[str, str, int], bytes], recognizer: Hearing,
           names: tuple[str, ...], caller_id: str = "+15551230000") -> Rendered:
    """The caller's side of one call, answering the dialogue as the engine will hear it.

    Each spoken answer goes through the engine's turn detector, and each turn it cuts is
    decoded the way the brain decodes it (``dialogue.grammar()`` from the caller's channel of
    the turn before; a need turn also with the need model, a name turn that holds no name again
    as a bare name); the real ``Dialogue`` takes what was heard, and the next answer is the one
    a person gives to the question that follows. ``recognizer``: anything with ``recognize``
    (a scripted one in the tests).
    """
    rng = random.Random(seed)
    line = _Line(random.Random(seed + 100_000), c.noise)
    dialogue = Dialogue(parse_setup(None, caller=caller_id), names=names)
    model = need_lm(dialogue.vocabulary)
    keys = {intent: key for key, intent in dialogue.setup.menu.options.items()}
    start = dialogue.start()
    said = _said(start)
    agent_end = 0.3 + _agent_seconds(start, cache)
    out = Rendered([], [], [], [], [], {})
    channel: str | None = None
    names_said = numbers_said = 0
    for _ in range(MAX_STEPS):
        if dialogue.ended:
            break
        out.log.append(f"agent: {said}")
        at = agent_end + rng.uniform(0.5, 1.0)
        state = dialogue.state
        if state is State.MENU or (state is State.ENTER_NUMBER and numbers_said):
            # the keypad: the need's key, or the number typed after it was misheard
            presses = keys[c.intent] if state is State.MENU else c.number + "#"
            actions: list[SayAction | HangUpAction] = []
            for k, key in enumerate(presses):
                if k:
                    at += rng.uniform(0.2, 0.4)
                out.dtmf.append((round(at * 1000, 1), key))
                actions += dialogue.pressed(key)
            out.log.append(f"caller presses {presses}")
            agent_end = at + LATENCY_S + _agent_seconds(actions, cache)
            said = _said(actions)
            continue
        pieces = _answer(c, dialogue, said, names_said)
        names_said += state is State.NAME
        numbers_said += state is State.ENTER_NUMBER
        begin = at
        spans: list[tuple[float, float]] = []
        for k, piece in enumerate(pieces):
            pcm = _trimmed(_espeak(piece, c.voice, c.speed, cache))
            pcm = audioop.mul(pcm, 2, CALLER_PEAK / (audioop.max(pcm, 2) or 1))
            line.add(at, pcm)
            spans.append((at, at + len(pcm) / 16000))
            at += len(pcm) / 16000
            if k < len(pieces) - 1:
                at += rng.uniform(0.3, 0.5)  # the mid-sentence pause
        out.sentences.append([begin, at, len(pieces)])
        # The turns the engine will cut from it (one, unless a pause ended it early); the
        # prediction follows them. None: the detector would not take it, decoded as said.
        turns = line.turns(at + (TURN_PAUSE_MS + 100) / 1000) or [line.heard(spans)]
        out.log.append(f"caller: {' … '.join(pieces)}" + (f" (heard as {len(turns)} turns)" if len(turns) > 1 else ""))
        actions = []
        for pcm in turns:
            if dialogue.ended:
                break
            heard = recognizer.recognize(pcm, dialogue.grammar(), channel)
            again = dialogue.second_pass_grammar(heard.text)
            if again is not None:
                heard = recognizer.recognize(pcm, again, channel)
            sentence = None
            if dialogue.expect is Expect.INTENT:  # the need model, from the same starting channel
                sentence = recognizer.recognize(pcm, model, channel).text or ""
            channel = heard.channel
            out.heard.append(heard.text)
            out.expects.append(dialogue.expect.value)
            out.log.append(f"  heard {heard.text!r}" + (f" / {sentence!r}" if sentence is not None else ""))
            seconds = spans[-1][1] - spans[0][0] if len(turns) == 1 else None  # as the engine times it
            actions = dialogue.heard(heard.text, sentence=sentence, alternatives=heard.alternatives, seconds=seconds)
        agent_end = at + OLD_PAUSE_S + LATENCY_S + _agent_seconds(actions, cache)
        said = _said(actions)
    assert dialogue.ended, "the simulated dialogue did not finish:\n" + "\n".join(out.log)
    out.log.append(f"agent: {said}")
    line.reach(agent_end + TAIL_S)
    out.frames = mulaw_frames(bytes(line.pcm[: int((agent_end + TAIL_S) * 8000) * 2]))
    out.lead = dialogue.lead.as_dict()
    return out


def caller_id(profile: int) -> str:
    return f"+1555123000{profile}"


def render_all(cache_file: Path | None = None) -> list[Rendered]:
    """Every caller profile, decoded with one in-process recogniser and the names the brain
    offers (``Services.names``: the common names the acoustic model's dictionary knows)."""
    recognizer = Recognizer(size=1)
    names = tuple(recognizer.known_words(list(COMMON_NAMES)))
    hearing = CachedRecognizer(recognizer, cache_file)
    cache: dict[tuple[str, str, int], bytes] = {}
    rendered = [render(c, 4000 + k, cache, hearing, names, caller_id(k)) for k, c in enumerate(CALLERS)]
    hearing.save()
    return rendered


def write_sessions(work: Path, rendered: list[Rendered], calls: int, delays: list[float]) -> list[str]:
    """One session file per call (its start delay differs); returns the harness arguments."""
    args: list[str] = []
    for i in range(calls):
        k = i % len(rendered)
        session = build_session(
            f"reply-{i}", f"profile {k}", rendered[k].frames, dtmf=rendered[k].dtmf,
            custom_parameters={"business_id": "1", "from": caller_id(k)},
            start_delay_ms=30.0 + delays[i] * 1000, jitter_ms=2.0, rng=random.Random(i),
        )
        path = work / f"reply-{i}.jsonl"
        path.write_bytes(dump_session(session))
        args += ["--session", str(path)]
    return args


def _children(pid: int) -> list[tuple[int, list[str]]]:
    """``pid``'s child processes and their /proc stat fields after the name."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append((int(stat.parent.name), fields))
    return out


def _children_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of ``pid``'s child processes: (nice 0, niced)."""
    tick = os.sysconf("SC_CLK_TCK")
    answer = niced = 0.0
    for _, fields in _children(pid):
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[16]) > 0:
            niced += cpu
        else:
            answer += cpu
    return answer, niced


def _pct(values: list[float], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _spread(values: list[float]) -> dict[str, int | None]:
    return {"n": len(values), "p50": _pct(values, 0.5), "p90": _pct(values, 0.9), "p99": _pct(values, 0.99)}


def _speech_ms(entry: dict[str, Any]) -> tuple[float, float]:
    """A caller turn's speech (ms from the call's start): its audio less the detector's
    120 ms lead-in and 240 ms tail."""
    return entry["at_ms"], entry["at_ms"] + max(0, entry["audio_ms"] - 360)


LEAD_KEYS = ("reason", "name", "callback_number")


def analyse(records: list[dict[str, Any]], profiles: list[Rendered]) -> dict[str, Any]:
    reply: list[float] = []
    first_audio: list[float] = []
    by_kind: dict[str, list[float]] = {}
    ended_early: list[float] = []
    parts: dict[str, list[float]] = {"endpoint_ms": [], "asr_wait_ms": [], "asr_decode_ms": []}
    early = fillers = turns = cutoffs = paused_sentences = in_step = heard_as_predicted = lead_as_predicted = 0
    for record in records:
        profile = int((record.get("from") or "0")[-1])
        entries = [e for e in record.get("transcript") or [] if e.get("speaker") == "caller" and "expect" in e]
        # In step: the engine asked the questions render() predicted, in its order, so every
        # answer fitted its question (heard as predicted: word for word, too).
        in_step += [e.get("expect") for e in entries] == profiles[profile].expects
        heard_as_predicted += [e.get("heard") for e in entries] == profiles[profile].heard
        lead = (record.get("brain_summary") or {}).get("lead") or {}
        lead_as_predicted += all(lead.get(k) == profiles[profile].lead.get(k) for k in LEAD_KEYS)
        for entry in entries:
            turns += 1
            if entry.get("reply_ms") is not None:
                reply.append(entry["reply_ms"])
                first_audio.append(entry.get("first_audio_ms", entry["reply_ms"]))
                by_kind.setdefault(entry["expect"], []).append(entry["reply_ms"])
                if entry.get("early"):
                    ended_early.append(entry["reply_ms"])
            for key, values in parts.items():
                if entry.get(key) is not None:
                    values.append(entry[key])
            early += bool(entry.get("early"))
            fillers += bool(entry.get("filler"))
        for start, end, pieces in profiles[profile].sentences:
            if pieces > 1:
                paused_sentences += 1
            # A sentence cut at one of its pauses is heard as two turns or more. (A turn that
            # starts late, over the agent's prompt, is one turn: the caller barged in.)
            overlapping = [e for e in entries if _speech_ms(e)[0] < end * 1000 and _speech_ms(e)[1] > start * 1000]
            cutoffs += max(0, len(overlapping) - 1)
    return {
        "calls": len(records),
        "turns": turns,
        "reply_ms": _spread(reply),
        "first_audio_ms": _spread(first_audio),
        "reply_ms_by_expect": {k: _spread(v) for k, v in sorted(by_kind.items())},
        "reply_ms_ended_early": _spread(ended_early),
        **{k: _spread(v) for k, v in parts.items()},
        "ended_early": early,
        "fillers": fillers,
        "sentences_with_pauses": paused_sentences,
        "in_step": in_step,
        "heard_as_predicted": heard_as_predicted,
        "lead_as_predicted": lead_as_predicted,
        "cutoffs": cutoffs,
        "callback_number_right": sum(
            (r.get("brain_summary") or {}).get("lead", {}).get("callback_number") == CALLERS[int((r.get("from") or "0")[-1])].number
            for r in records
        ),
    }


def run_scenario(redis_url: str, work: Path, rendered: list[Rendered], *, calls: int, delays: list[float],
                 env: dict[str, str], dump: Path | None = None, workers_on_all_cpus: bool = True) -> dict[str, Any]:
    import redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    sessions = write_sessions(work, rendered, calls, delays)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with engine(redis_url, work, CALLS_BRAIN="receptionist", **env) as (pid, port):
        time.sleep(4)  # the recognition workers warm up in the background
        if workers_on_all_cpus:
            # The engine's event loop is pinned to CPU 0 (the harness has CPU 1); its
            # recognition workers inherit that, but deployed they have the machine's cores.
            for child, _ in _children(pid):
                os.sched_setaffinity(child, range(os.cpu_count() or 1))
        before = _children_cpu(pid)
        with health_peaks(port) as peaks:
            res = run_harness(f"ws://127.0.0.1:{port}/ws/twilio", work / f"replies-{calls}.json",
                              server_pid=pid, calls=calls, duration=0, extra=[*sessions, "--ramp", "0.005"])
        after = _children_cpu(pid)
    records = [job.args[0] for job in Queue("high", connection=client, serializer=JSONSerializer).get_jobs()]
    client.close()
    if dump is not None:
        dump.parent.mkdir(parents=True, exist_ok=True)
        dump.write_text(json.dumps(records, indent=1))
    out = analyse(records, rendered)
    turns = max(1, out["turns"])
    out.update({
        # CPU of the engine's worker processes over the run, per caller turn: the answer
        # workers (nice 0) and the niced full-vocabulary transcriber.
        "answer_cpu_ms_per_turn": round((after[0] - before[0]) * 1000 / turns),
        "transcriber_cpu_ms_per_turn": round((after[1] - before[1]) * 1000 / turns),
        "failed": res["calls"]["failed"] + res["calls"]["refused"],
        "underruns": res["outbound"]["underruns"],
        "harness_lateness_p99_ms": res["inbound"]["lateness_ms"].get("p99"),
        "recognition_waiting_peak": peaks.get("receptionist.waiting"),
        "recognition_busy_peak": peaks.get("receptionist.borrowed"),
    })
    return out


def run(redis_url: str, work: Path, *, smooth_calls: int, burst_calls: int, group: int,
        group_spacing: float, env: dict[str, str], dump: Path | None = None,
        workers_on_all_cpus: bool = True, cache_file: Path | None = None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    began = time.monotonic()
    rendered = render_all(cache_file=cache_file)
    print(f"replies: {len(rendered)} caller profiles rendered and decoded in {time.monotonic() - began:.0f} s; "
          "predicted: " + "; ".join(f"{k}: {r.lead['reason']}/{r.lead['name']}/{r.lead['number_source']}"
                                     for k, r in enumerate(rendered)), flush=True)
    if smooth_calls:
        print(f"replies: smooth, {smooth_calls} callers one second apart", flush=True)
        results["smooth"] = run_scenario(redis_url, work, rendered, calls=smooth_calls,
                                         delays=[float(i) for i in range(smooth_calls)], env=env,
                                         dump=dump and dump / "smooth-records.json",
                                         workers_on_all_cpus=workers_on_all_cpus)
        print("  " + line(results["smooth"]), flush=True)
    if burst_calls:
        print(f"replies: burst, {burst_calls} callers in groups of {group}, {group_spacing:g} s apart", flush=True)
        delays = [(i // group) * group_spacing + (i % group) * 0.05 for i in range(burst_calls)]
        results["burst"] = run_scenario(redis_url, work, rendered, calls=burst_calls, delays=delays, env=env,
                                        dump=dump and dump / "burst-records.json",
                                        workers_on_all_cpus=workers_on_all_cpus)
        print("  " + line(results["burst"]), flush=True)
    return results


_NO_RUN: dict[str, Any] = {"failed": None, "underruns": None, "harness_lateness_p99_ms": None,
                           "recognition_waiting_peak": None}


def line(r: dict[str, Any]) -> str:
    rep, first = r["reply_ms"], r["first_audio_ms"]
    kinds = ", ".join(f"{k} {v['p50']}/{v['p90']}" for k, v in r["reply_ms_by_expect"].items())
    return (f"{r['calls']} calls ({r['in_step']} in step, {r['heard_as_predicted']} heard word for word as "
            f"predicted, {r['lead_as_predicted']} leads as predicted), "
            f"{r['turns']} turns: reply p50/p90/p99 {rep['p50']}/{rep['p90']}/{rep['p99']} ms "
            f"(first audio {first['p50']}/{first['p90']}/{first['p99']}); by question p50/p90: {kinds}; "
            f"ended early p50/p90 {r['reply_ms_ended_early']['p50']}/{r['reply_ms_ended_early']['p90']}; "
            f"endpointing p50 {r['endpoint_ms']['p50']}, recognition wait p50/p90 "
            f"{r['asr_wait_ms']['p50']}/{r['asr_wait_ms']['p90']}, decode p50/p90 "
            f"{r['asr_decode_ms']['p50']}/{r['asr_decode_ms']['p90']} ms; ended early {r['ended_early']}, "
            f"fillers {r['fillers']}, cut-offs {r['cutoffs']} ({r['sentences_with_pauses']} sentences with "
            f"pauses); recognition CPU per turn {r.get('answer_cpu_ms_per_turn')} ms (transcriber "
            f"{r.get('transcriber_cpu_ms_per_turn')} ms); callback number right {r['callback_number_right']}/{r['calls']}; failed {r['failed']}, "
            f"underruns {r['underruns']}, harness lateness p99 {r['harness_lateness_p99_ms']} ms, "
            f"recognition waiting peak {r['recognition_waiting_peak']}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.reply_latency", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smooth-calls", type=int, default=16)
    p.add_argument("--burst-calls", type=int, default=64)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--group-spacing", type=float, default=3.0, help="seconds between groups")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra engine environment (e.g. CALLS_TURN_PAUSE_MS=700); repeatable")
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--dump", type=Path, help="write the call records into this directory")
    p.add_argument("--workers-on-cpu0", action="store_true",
                   help="leave the recognition workers on the engine's CPU 0 (the receptionist suite's setup)")
    p.add_argument("--analyse", type=Path, metavar="DIR", help="only analyse the records --dump kept in DIR")
    p.add_argument("--cache", type=Path, metavar="FILE",
                   help="keep the callers' predicted decodes in FILE between runs (bench.decode_cache)")
    p.add_argument("--verbose", action="store_true", help="print each caller profile's predicted dialogue")
    args = p.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    if args.analyse or args.verbose:
        rendered = render_all(cache_file=args.cache)
        if args.verbose:
            for k, r in enumerate(rendered):
                print(f"--- profile {k}: {CALLERS[k]}\n" + "\n".join(r.log))
        if not args.analyse:
            return 0
        for name in ("smooth", "burst"):
            path = args.analyse / f"{name}-records.json"
            if path.exists():
                print(f"{name}: " + line(analyse(json.loads(path.read_text()), rendered) | _NO_RUN))
        return 0
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as redis_url:
        results = run(redis_url, Path(tmp), smooth_calls=args.smooth_calls, burst_calls=args.burst_calls,
                      group=args.group, group_spacing=args.group_spacing, env=env,
                      dump=args.dump, workers_on_all_cpus=not args.workers_on_cpu0, cache_file=args.cache)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
