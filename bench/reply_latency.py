"""Reply time of the offline receptionist: caller's end of speech → first reply audio.

``python -m bench.reply_latency`` runs the real calls service (``CALLS_BRAIN=receptionist``,
its recognition worker processes) against synthetic callers played by the load harness
(``callengine.loadtest``), and reads the call records back from queue ``high``:

- **smooth**: ``--smooth-calls`` callers (default 16) whose calls start one per second, so
  turns seldom end together;
- **burst**: ``--burst-calls`` callers (default 64) in groups of ``--group`` (default 8):
  the calls of a group start together and their answers end within a few seconds of each
  other (different voices and speeds); groups start ``--group-spacing`` seconds apart.

Each caller (espeak-ng, 8 voices/speeds, line noise) answers the dialogue: a need, a first
name, "yes" to the spell-back, "no" to the caller ID, ten digits, "yes" to the read-back. Half
of them pause mid-sentence for 300-500 ms ("i need … support", "my name is … david", the
number in groups "five five five … one two three … four five six seven"). Answers start
0.5-1 s after the agent's question would end with the old 700 ms pause and a generous
recognition time, so a faster reply never makes a caller talk over it.

As in every suite the engine's event loop is pinned to CPU 0 and the harness to CPU 1; the
recognition worker processes (which would inherit CPU 0) are given both cores, as deployed
(``--workers-on-cpu0`` keeps them on CPU 0 like the ``receptionist`` suite).

Reported per scenario: reply time p50/p90/p99 (caller's last voiced frame → first audio of
the answer queued; and → first audio of any kind, the "one moment" filler included), per
question kind; its parts (endpointing pause, recognition wait, decode); turns ended early;
fillers played; and **mid-sentence cut-offs**: sentences of the caller heard as more than one
turn (a sentence ended at one of its internal pauses shows up as two turns).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import engine, health_peaks, private_redis, run_harness
from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction
from callengine.brains.receptionist.setup import parse_setup
from callengine.brains.receptionist.tts import espeak_command, wav_to_ulaw
from callengine.loadtest.audio import mulaw_frames, noise_pcm
from callengine.loadtest.session import build_session, dump_session

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

AGENT_VOICE, AGENT_SPEED = "en-us", 180  # the brain's defaults: prompt lengths must match
OLD_PAUSE_S = 0.7
LATENCY_S = 1.2  # generous: callers never answer before a slow reply
PROMPT_GAP_S = 0.2
CALLER_PEAK = 11000
TAIL_S = 2.0
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class Caller:
    voice: str
    speed: int
    noise: float
    need: str
    name: str
    number: str  # ten digits
    pauses: bool  # pauses mid-sentence


CALLERS = (
    Caller("en-us", 160, 15, "i need support", "david", "2065550198", False),
    Caller("en-gb", 150, 30, "sales please", "robert", "3125550147", True),
    Caller("en-us+f3", 170, 60, "i want sales", "michael", "4155550123", False),
    Caller("en-us+m3", 140, 15, "i need support", "james", "7185550111", True),
    Caller("en-us", 175, 90, "support", "linda", "6175550100", False),
    Caller("en-gb", 165, 15, "i need sales", "thomas", "2125550166", True),
    Caller("en-us+f2", 155, 60, "support please", "emily", "5035550177", False),
    Caller("en-us", 150, 30, "i need support", "sarah", "9175550133", True),
)


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


def _parts(c: Caller) -> list[tuple[str, list[str]]]:
    """Each answer as (what the dialogue hears, its pieces said with a pause between)."""
    digits = [DIGIT_WORDS[int(d)] for d in c.number]
    if c.pauses:
        need_words = c.need.split()
        need = [" ".join(need_words[:-1]), need_words[-1]] if len(need_words) > 1 else [c.need]
        name = ["my name is", c.name]
        number = [" ".join(digits[:3]), " ".join(digits[3:6]), " ".join(digits[6:])]
    else:
        need, name, number = [c.need], [c.name], [" ".join(digits)]
    return [
        (c.need, need),
        (" ".join(name), name),
        ("yes", ["yes"]),
        ("no", ["no"]),
        (" ".join(digits), number),
        ("yes", ["yes"]),
    ]


def render(c: Caller, seed: int, cache: dict[tuple[str, str, int], bytes]) -> tuple[list[bytes], list[list[float]]]:
    """The caller's side: 20 ms μ-law frames and their sentences ``[start_s, end_s, pieces]``."""
    rng = random.Random(seed)
    dialogue = Dialogue(parse_setup(None, caller="+15551230000"))
    agent_end = 0.3 + _agent_seconds(dialogue.start(), cache)
    speech: list[tuple[float, bytes]] = []
    sentences: list[list[float]] = []
    for heard, pieces in _parts(c):
        at = agent_end + rng.uniform(0.5, 1.0)
        start = at
        for k, piece in enumerate(pieces):
            pcm = _trimmed(_espeak(piece, c.voice, c.speed, cache))
            pcm = audioop.mul(pcm, 2, CALLER_PEAK / (audioop.max(pcm, 2) or 1))
            speech.append((at, pcm))
            at += len(pcm) / 16000
            if k < len(pieces) - 1:
                at += rng.uniform(0.3, 0.5)  # the mid-sentence pause
        sentences.append([start, at, len(pieces)])
        actions = dialogue.heard(heard)
        agent_end = at + OLD_PAUSE_S + LATENCY_S + _agent_seconds(actions, cache)
    assert dialogue.ended, "the simulated dialogue did not finish"
    duration = agent_end + TAIL_S
    pcm = bytearray(noise_pcm(duration, rng, c.noise))
    for at, audio in speech:
        begin = int(at * 8000) * 2
        end = min(len(pcm), begin + len(audio))
        pcm[begin:end] = audioop.add(bytes(pcm[begin:end]), audio[: end - begin], 2)
    return mulaw_frames(bytes(pcm)), sentences


def write_sessions(work: Path, calls: int, delays: list[float]) -> tuple[list[str], list[list[list[float]]]]:
    """One session file per call (its start delay differs); returns the harness arguments and
    each profile's sentences."""
    cache: dict[tuple[str, str, int], bytes] = {}
    rendered = [render(c, 4000 + k, cache) for k, c in enumerate(CALLERS)]
    args: list[str] = []
    for i in range(calls):
        k = i % len(CALLERS)
        frames, _ = rendered[k]
        session = build_session(
            f"reply-{i}", f"profile {k}", frames,
            custom_parameters={"business_id": "1", "from": f"+1555123000{k}"},
            start_delay_ms=30.0 + delays[i] * 1000, jitter_ms=2.0, rng=random.Random(i),
        )
        path = work / f"reply-{i}.jsonl"
        path.write_bytes(dump_session(session))
        args += ["--session", str(path)]
    return args, [s for _, s in rendered]


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


def analyse(records: list[dict[str, Any]], sentences: list[list[list[float]]]) -> dict[str, Any]:
    reply: list[float] = []
    first_audio: list[float] = []
    by_kind: dict[str, list[float]] = {}
    ended_early: list[float] = []
    parts: dict[str, list[float]] = {"endpoint_ms": [], "asr_wait_ms": [], "asr_decode_ms": []}
    early = fillers = turns = cutoffs = paused_sentences = 0
    for record in records:
        profile = int((record.get("from") or "0")[-1])
        entries = [e for e in record.get("transcript") or [] if e.get("speaker") == "caller" and "expect" in e]
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
        for start, end, pieces in sentences[profile]:
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
        "cutoffs": cutoffs,
        "callback_number_right": sum(
            (r.get("brain_summary") or {}).get("lead", {}).get("callback_number") == CALLERS[int((r.get("from") or "0")[-1])].number
            for r in records
        ),
    }


def run_scenario(redis_url: str, work: Path, *, calls: int, delays: list[float], env: dict[str, str],
                 dump: Path | None = None, workers_on_all_cpus: bool = True) -> dict[str, Any]:
    import redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    sessions, sentences = write_sessions(work, calls, delays)
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
    out = analyse(records, sentences)
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
        workers_on_all_cpus: bool = True) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if smooth_calls:
        print(f"replies: smooth, {smooth_calls} callers one second apart", flush=True)
        results["smooth"] = run_scenario(redis_url, work, calls=smooth_calls,
                                         delays=[float(i) for i in range(smooth_calls)], env=env,
                                         dump=dump and dump / "smooth-records.json",
                                         workers_on_all_cpus=workers_on_all_cpus)
        print("  " + line(results["smooth"]), flush=True)
    if burst_calls:
        print(f"replies: burst, {burst_calls} callers in groups of {group}, {group_spacing:g} s apart", flush=True)
        delays = [(i // group) * group_spacing + (i % group) * 0.05 for i in range(burst_calls)]
        results["burst"] = run_scenario(redis_url, work, calls=burst_calls, delays=delays, env=env,
                                        dump=dump and dump / "burst-records.json",
                                        workers_on_all_cpus=workers_on_all_cpus)
        print("  " + line(results["burst"]), flush=True)
    return results


_NO_RUN: dict[str, Any] = {"failed": None, "underruns": None, "harness_lateness_p99_ms": None,
                           "recognition_waiting_peak": None}


def line(r: dict[str, Any]) -> str:
    rep, first = r["reply_ms"], r["first_audio_ms"]
    kinds = ", ".join(f"{k} {v['p50']}/{v['p90']}" for k, v in r["reply_ms_by_expect"].items())
    return (f"{r['calls']} calls, {r['turns']} turns: reply p50/p90/p99 {rep['p50']}/{rep['p90']}/{rep['p99']} ms "
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
    args = p.parse_args(argv)
    env = dict(item.split("=", 1) for item in args.env)
    if args.analyse:
        cache: dict[tuple[str, str, int], bytes] = {}
        sentences = [render(c, 4000 + k, cache)[1] for k, c in enumerate(CALLERS)]
        for name in ("smooth", "burst"):
            path = args.analyse / f"{name}-records.json"
            if path.exists():
                print(f"{name}: " + line(analyse(json.loads(path.read_text()), sentences) | _NO_RUN))
        return 0
    with tempfile.TemporaryDirectory() as tmp, private_redis(Path(tmp)) as redis_url:
        results = run(redis_url, Path(tmp), smooth_calls=args.smooth_calls, burst_calls=args.burst_calls,
                      group=args.group, group_spacing=args.group_spacing, env=env,
                      dump=args.dump, workers_on_all_cpus=not args.workers_on_cpu0)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
