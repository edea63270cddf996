"""Offline speech recognition with pocketsphinx (synchronous; the brain runs it in threads).

pocketsphinx ships a 16 kHz US English model. Telephone audio is 8 kHz, so each utterance is
upsampled and low-level noise is added above the telephone band: an empty 4-8 kHz band makes
the model's upper filterbank channels meaningless and costs accuracy (measured on espeak-ng
speech: 20/40 → 26/40 answers right).

The telephone band (300-3400 Hz) also drops most of the energy of /s/, /z/, /f/, /th/, /sh/
and /h/, so a word that starts or ends with one ("sales", "help", "yes") sounds to the model
like the word without it. Every word of a small grammar gets extra pronunciations without its
leading or its trailing fricative (measured on the fixtures' intent answers: 11/16 → 15/16
right). Not without both: "sales" as bare "EY L" took "i need help" from support (13 of 15
such callers in ``python -m bench.asr_accuracy``); and not in a large grammar (the first
names): there they did no good (first try 66-69 of 124 either way across two noise draws) and
cost on the retries (a name right within three tries: 92 of 124 with them, 97 without). The
name grammar's carriers ("my name is", "here") make it larger still, so they get none either;
the spelling grammar spells with the 26 letters, which do (only "x" has an edge fricative to
drop and more than two phones).

pocketsphinx keeps the GIL while it decodes (the full-vocabulary pass for up to ~450 ms at a
time), so the engine runs recognisers in worker processes (``RecognizerPool``); inside a
recogniser audio is still fed in 100 ms pieces.

A decoder's feature front end keeps state between utterances (its noise-removal statistics
and cepstral mean), so a turn decoded after another call's turn came out differently (measured:
37 of 40 scores, 16 of 124 name answers changed with the order of earlier utterances). Each
turn starts from a reset front end and the *caller's own* cepstral mean (``channel``): the mean
left by that caller's previous turn, or the model's initial one for a first turn. A call's
result no longer depends on what other calls said, and the mean adapts to the caller's line
(name answers 67 → 71 of 124 on espeak-ng callers over the telephone band).

A ``Decoder`` is not thread-safe, so a pool keeps one per worker thread (at most ``size``,
built lazily). Grammars are compiled once per decoder and cached by content. The answer
decoders are *compact* (``lexicon``): no full-vocabulary model, and only the words their
searches use (a need model was 3.4 s to add over the whole dictionary, 3 ms this way); the
transcriber's are built with ``full_vocabulary=True``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import tempfile
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, NamedTuple, final

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import audioop

import pocketsphinx

from callengine.brains.receptionist.lexicon import model_lexicon
from callengine.errors import CallEngineError

__all__ = ["Heard", "Recognizer", "RecognizerError", "RecognizerPool", "is_arpa"]

FEED_BYTES = 3200  # 100 ms of 16 kHz PCM16 per process_raw call: ≤ ~10 ms GIL holds (grammars)
MAX_GRAMMARS_PER_DECODER = 64  # name grammars vary per call (rejected names); bound them
# rms of the noise that fills the empty 4-8 kHz band: on clean synthetic speech 50 did best,
# on the fixtures (real line noise already upsampled into it) 0-10 did best; 10 keeps digital
# silence from giving the filterbank log(0).
BAND_NOISE_LEVEL = 10
EDGE_FRICATIVES = frozenset({"S", "Z", "F", "TH", "SH", "HH"})
VARIANTS_MAX_WORDS = 60  # larger grammars (the first names) get no telephone variants
_JSGF_WORD = re.compile(r"(?<![<\w])[a-z][a-z']*(?![\w>])")
_JSGF_NAME = re.compile(r"^\s*grammar\s+([\w.]+)\s*;", re.MULTILINE)
# Word insertion penalty of a grammar's search, by the grammar's JSGF name (the decoder's
# default is 0.65). The digit loop "<d>+" decoded a spoken ten-digit number as 13-16 digits
# (short words such as "oh", "eight", "two" inserted) and was the costliest search by far:
# 580 ms of CPU per number on 12 espeak-ng numbers; at 1e-4 it is 120 ms and 70 of the 120
# digits land in place instead of none (1e-3: 160 ms, 44; 1e-5: 90 ms, 60; 1e-6: 66 ms, 33).
SEARCH_WIP = {"digits": 1e-4}
# A need model's search without the flat-lexicon second pass: the need turn's model decode cost
# 199 → 120 ms of CPU per sentence on five espeak-ng sentences, with the same words in four
# (the recognition workers are what a burst of callers waits for); narrower beams instead
# cost words ("quote" lost at 1e-30) for less.
LM_SEARCH: dict[str, Any] = {"fwdflat": False}
# Grammars whose decode also reports the n-best's other hypotheses (``Heard.alternatives``):
# the need question's keyword grammar, where a close second intent means "ask, do not guess".
NBEST_SEARCHES = frozenset({"intent"})
NBEST_SCAN = 10  # n-best entries read (most are the best words again, other alignments)
_NOISE_SECONDS = 2
SEED_WORD = "yes"  # a compact decoder's dictionary starts with this word (it cannot be empty)


class RecognizerError(CallEngineError):
    """The recogniser could not be built or rejected a grammar."""


class Heard(NamedTuple):
    """One decoded turn.

    ``text`` is the hypothesis (lower-case words) or None; ``channel`` is the caller's cepstral
    mean after this turn, to pass with the same caller's next turn. ``alternatives``: for the
    grammars of ``NBEST_SEARCHES``, the other word strings among the first ``NBEST_SCAN`` of
    the n-best, each with its score gap to the n-best's first (pocketsphinx's normalised path
    score: a gap of 0.02 is close), closest first.
    """

    text: str | None
    channel: str
    alternatives: tuple[tuple[str, float], ...] = ()


def _band_noise() -> bytes:
    rng = random.Random(8000)  # deterministic: the same audio always decodes the same
    # White noise (high-passed noise measured worse: 27/48 against 33/48 answers right).
    samples = (int(rng.gauss(0, BAND_NOISE_LEVEL)) for _ in range(16000 * _NOISE_SECONDS))
    return b"".join(max(-32768, min(32767, s)).to_bytes(2, "little", signed=True) for s in samples)


@final
class _Slot:
    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.initial_cmn: str = decoder.get_cmn()  # the model's, before any utterance
        self.searches: OrderedDict[str, None] = OrderedDict()
        self.variants_for: set[str] = set()  # words already given telephone-band variants
        self.nbest: set[str] = set()  # searches whose alternatives are read (NBEST_SEARCHES)
        self.words: set[str] = {SEED_WORD}  # words in the dictionary (a compact decoder's)


@final
class Recognizer:
    """Thread-safe front of a pool of pocketsphinx decoders."""

    def __init__(self, *, size: int, full_vocabulary: bool = False) -> None:
        """``full_vocabulary``: decoders with the model's whole dictionary and its
        full-vocabulary language model (``recognize(pcm, None)``, the transcript); otherwise
        compact ones that know only the words of the searches they were given."""
        if size < 1:
            raise ValueError("a recogniser pool needs at least one decoder")
        self.size = size
        self.full_vocabulary = full_vocabulary
        self._idle: list[_Slot] = []
        self._built = 0
        self._lock = threading.Lock()
        self._available = threading.Semaphore(size)
        self._noise = _band_noise()

    def _decoder(self) -> Any:
        try:
            if self.full_vocabulary:
                return pocketsphinx.Decoder(loglevel="FATAL")
            # The dictionary file is read while the decoder is built, then no longer needed.
            with tempfile.NamedTemporaryFile("w", suffix=".dict", encoding="utf-8") as seed:
                prons = model_lexicon().pronunciations(SEED_WORD)
                for k, phones in enumerate(prons):
                    seed.write(f"{SEED_WORD if k == 0 else f'{SEED_WORD}({k + 1})'} {phones}\n")
                seed.flush()
                config = pocketsphinx.Config(loglevel="FATAL", dict=seed.name)
                config["lm"] = None
                return pocketsphinx.Decoder(config)
        except Exception as exc:  # pocketsphinx raises RuntimeError/ValueError on bad models
            raise RecognizerError(f"cannot build the pocketsphinx decoder: {exc}") from exc

    def _acquire(self) -> _Slot:
        self._available.acquire()
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._built += 1
        try:
            return _Slot(self._decoder())
        except BaseException:
            with self._lock:
                self._built -= 1
            self._available.release()
            raise

    def _release(self, slot: _Slot) -> None:
        with self._lock:
            self._idle.append(slot)
        self._available.release()

    def prepare(self, pcm8k: bytes) -> bytes:
        """8 kHz PCM16 → 16 kHz PCM16 with the upper band filled."""
        up, _ = audioop.ratecv(pcm8k, 2, 1, 8000, 16000, None)
        noise = self._noise
        if len(up) <= len(noise):
            return audioop.add(up, noise[: len(up)], 2)
        reps = len(up) // len(noise) + 1
        return audioop.add(up, (noise * reps)[: len(up)], 2)

    def recognize(self, pcm8k: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        """Decode one utterance (blocking; call it from a worker thread).

        Args:
            pcm8k: PCM16 8 kHz audio of one caller turn.
            grammar: A JSGF grammar, or an ARPA language model (``is_arpa``: the need
                question's, ``understanding.need_lm``); None decodes with the full
                vocabulary language model.
            channel: The caller's cepstral mean from their previous turn (``Heard.channel``);
                None starts from the model's.

        Returns:
            The hypothesis (None when nothing was recognised) and the caller's channel after it.

        Raises:
            RecognizerError: If the grammar is invalid or the decoder cannot be built.
        """
        audio = self.prepare(pcm8k)
        slot = self._acquire()
        try:
            decoder = slot.decoder
            if grammar is None:
                if not self.full_vocabulary:
                    raise RecognizerError("a compact recogniser has no full-vocabulary search")
                decoder.activate_search()
            else:
                decoder.activate_search(self._search(slot, grammar))
            decoder.reinit_feat()  # forget the previous utterance's noise statistics (0.05 ms)
            decoder.set_cmn(channel or slot.initial_cmn)
            decoder.start_utt()
            # pocketsphinx holds the GIL inside process_raw: small pieces let the event loop
            # run between them (same hypotheses as one full-utterance call, measured 38/38).
            for offset in range(0, len(audio), FEED_BYTES):
                decoder.process_raw(audio[offset : offset + FEED_BYTES], False, False)
            decoder.end_utt()
            hyp = decoder.hyp()
            after = decoder.get_cmn()
            alternatives: tuple[tuple[str, float], ...] = ()
            if hyp is not None and grammar is not None and decoder.current_search() in slot.nbest:
                alternatives = _alternatives(decoder, _clean(hyp.hypstr))
        finally:
            self._release(slot)
        text = _clean(hyp.hypstr) if hyp is not None else ""
        return Heard(text or None, after, alternatives)

    def _add_jsgf(self, slot: _Slot, name: str, grammar: str) -> None:
        self._add_variants(slot, grammar)
        decoder = slot.decoder
        match = _JSGF_NAME.search(grammar)
        wip = SEARCH_WIP.get(match.group(1)) if match else None
        if match and match.group(1) in NBEST_SEARCHES:
            slot.nbest.add(name)
        default_wip = decoder.config["wip"]
        try:
            if wip is not None:
                decoder.config["wip"] = wip  # read once, when the search is built
            decoder.add_jsgf_string(name, grammar)
        except (ValueError, RuntimeError) as exc:
            raise RecognizerError(f"invalid grammar: {exc}") from exc
        finally:
            decoder.config["wip"] = default_wip

    def _search(self, slot: _Slot, grammar: str) -> str:
        name = "g" + hashlib.sha1(grammar.encode()).hexdigest()[:16]
        if name in slot.searches:
            slot.searches.move_to_end(name)
            return name
        if is_arpa(grammar):
            if not self.full_vocabulary:
                self._add_words(slot, _arpa_words(grammar))
            self._add_lm(slot, name, grammar)
        else:
            if not self.full_vocabulary:
                self._add_words(slot, _jsgf_words(grammar))
            self._add_jsgf(slot, name, grammar)
        slot.searches[name] = None
        if len(slot.searches) > MAX_GRAMMARS_PER_DECODER:
            old, _ = slot.searches.popitem(last=False)
            slot.decoder.remove_search(old)
            slot.nbest.discard(old)
        return name

    def _add_lm(self, slot: _Slot, name: str, arpa: str) -> None:
        # pocketsphinx reads a language model from a file only; it is parsed at once.
        decoder = slot.decoder
        saved = {key: decoder.config[key] for key in LM_SEARCH}
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", encoding="utf-8") as file:
            file.write(arpa)
            file.flush()
            try:
                for key, value in LM_SEARCH.items():
                    decoder.config[key] = value  # read once, when the search is built
                decoder.add_lm_file(name, file.name)
            except (ValueError, RuntimeError) as exc:
                raise RecognizerError(f"invalid language model: {exc}") from exc
            finally:
                for key, value in saved.items():
                    decoder.config[key] = value

    def _add_words(self, slot: _Slot, words: set[str]) -> None:
        """Give a compact decoder the words a search uses, with all their pronunciations
        (update=False: only searches built from now on see them, as for the variants)."""
        lexicon = model_lexicon()
        for word in sorted(words - slot.words):
            slot.words.add(word)
            for k, phones in enumerate(lexicon.pronunciations(word)):
                slot.decoder.add_word(word if k == 0 else f"{word}({k + 1})", phones, False)

    def _add_variants(self, slot: _Slot, grammar: str) -> None:
        words = _jsgf_words(grammar)
        if len(words) > VARIANTS_MAX_WORDS:
            return
        words -= slot.variants_for
        decoder = slot.decoder
        new: list[tuple[str, str]] = []
        for word in sorted(words):
            slot.variants_for.add(word)
            prons: list[str] = []
            while p := decoder.lookup_word(word if not prons else f"{word}({len(prons) + 1})"):
                prons.append(p)
            for variant in sorted(telephone_variants(prons)):
                prons.append(variant)
                new.append((f"{word}({len(prons)})", variant))
        for name, phones in new:
            # update=False: searches built from now on (this grammar's) see the variant; the
            # searches already built are left as they are. Rebuilding them all re-initialised
            # every language-model search the decoder holds (the need models, the full
            # vocabulary): the first spelling or digit grammar in a worker took 1.6 s instead of
            # 0.2 s, over 6 s with both cores busy, holding a recognition slot all along.
            decoder.add_word(name, phones, False)

    def warm_up(self, grammars: list[str]) -> None:
        """Build every decoder and compile ``grammars`` now (blocking, ~1 s per decoder).

        Building a decoder or compiling a grammar holds the GIL for hundreds of milliseconds;
        done at start-up, before calls arrive, it never stalls a call's audio.
        """
        slots = [self._acquire() for _ in range(self.size)]
        try:
            for slot in slots:
                for grammar in grammars:
                    self._search(slot, grammar)
        finally:
            for slot in slots:
                self._release(slot)

    def known_words(self, words: list[str]) -> list[str]:
        """The words the model's dictionary can pronounce (grammars may only use these)."""
        if not self.full_vocabulary:
            lexicon = model_lexicon()
            return [w for w in words if all(p in lexicon for p in w.split())]
        slot = self._acquire()
        try:
            return [w for w in words if all(slot.decoder.lookup_word(p) for p in w.split())]
        finally:
            self._release(slot)


def _clean(hypstr: str) -> str:
    """The words of a hypothesis without fillers and noise markers."""
    return " ".join(w for w in hypstr.split() if not w.startswith(("<", "[", "+")))


def _alternatives(decoder: Any, best: str) -> tuple[tuple[str, float], ...]:
    gaps: dict[str, float] = {}
    top: float | None = None
    for entry in itertools.islice(decoder.nbest(), NBEST_SCAN):
        if top is None:
            top = entry.score
        text = _clean(entry.hypstr)
        if text and text != best and text not in gaps:
            gaps[text] = round(top - entry.score, 4)
    return tuple(sorted(gaps.items(), key=lambda item: item[1]))


def _jsgf_words(grammar: str) -> set[str]:
    body = grammar.split(";", 2)[-1]  # skip the "#JSGF V1.0; grammar name;" header
    return set(_JSGF_WORD.findall(body)) - {"public"}


def _arpa_words(arpa: str) -> set[str]:
    """The unigrams of an ARPA model (its vocabulary), without the sentence markers."""
    words: set[str] = set()
    section = False
    for line in arpa.splitlines():
        if line.startswith("\\"):
            section = line.strip() == "\\1-grams:"
            continue
        fields = line.split()
        if section and len(fields) >= 2 and not fields[1].startswith("<"):
            words.add(fields[1])
    return words


def is_arpa(search: str) -> bool:
    """An ARPA language model's text (its ``\\data\\`` section opens within the header)."""
    return not search.startswith("#JSGF") and "\\data\\" in search[:1000]


def telephone_variants(prons: list[str]) -> set[str]:
    """Pronunciations without the edge fricatives the telephone band loses."""
    variants: set[str] = set()
    for pron in prons:
        ph = pron.split()
        starts, ends = ph[0] in EDGE_FRICATIVES, ph[-1] in EDGE_FRICATIVES
        if starts and len(ph) > 2:
            variants.add(" ".join(ph[1:]))
        if ends and len(ph) > 2:
            variants.add(" ".join(ph[:-1]))
    return variants - set(prons)


_worker: Recognizer | None = None  # the decoder of one worker process


def _init_worker(niceness: int, grammars: list[str], full_vocabulary: bool) -> None:
    global _worker
    if niceness:
        os.nice(niceness)
    _worker = Recognizer(size=1, full_vocabulary=full_vocabulary)
    _worker.warm_up(grammars)


def _recognize_in_worker(pcm8k: bytes, grammar: str | None, channel: str | None) -> Heard:
    assert _worker is not None, "initializer did not run"
    return _worker.recognize(pcm8k, grammar, channel)


def _known_words_in_worker(words: list[str]) -> list[str]:
    assert _worker is not None, "initializer did not run"
    return _worker.known_words(words)


@final
class RecognizerPool:
    """``Recognizer``s in ``workers`` separate processes (spawned, warmed with ``grammars``).

    pocketsphinx keeps the GIL while it decodes, and a thread holding the GIL that the OS
    preempts stalls the event loop with it (measured: 100 ms-2 s stalls with 8 calls on a busy
    2-core machine). In worker processes decoding never touches the engine's GIL, and two
    cores really decode two turns at once. The caller blocks on the result: call
    ``recognize`` from a worker thread.
    """

    def __init__(
        self, *, workers: int, grammars: list[str], niceness: int = 0, full_vocabulary: bool = False
    ) -> None:
        if workers < 1:
            raise ValueError("a recogniser pool needs at least one worker")
        self.workers = workers
        self._full_vocabulary = full_vocabulary
        self._grammars = grammars
        self._niceness = niceness
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=get_context("spawn"),  # never fork a process that runs threads
                    initializer=_init_worker,
                    initargs=(self._niceness, self._grammars, self._full_vocabulary),
                )
            return self._pool

    def start(self, *, wait: bool = False) -> None:
        """Spawn every worker now; they warm up (a few seconds) in the background.

        Spawning takes milliseconds, so this is safe on the event loop (a brain built lazily,
        mid-call, stalls nothing); the first turns wait in their threads for a warm worker.
        ``wait=True`` blocks until all are warm.
        """
        pool = self._executor()
        futures = [pool.submit(_known_words_in_worker, []) for _ in range(self.workers)]
        if wait:
            for future in futures:
                self._result(future)

    def recognize(self, pcm8k: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        """Blocking ``Recognizer.recognize`` in a worker process.

        Raises:
            RecognizerError: If the grammar is invalid or a worker died.
        """
        future = self._executor().submit(_recognize_in_worker, pcm8k, grammar, channel)
        result: Heard = self._result(future)
        return result

    def known_words(self, words: list[str]) -> list[str]:
        known: list[str] = self._result(self._executor().submit(_known_words_in_worker, words))
        return known

    def _result(self, future: Future[Any]) -> Any:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            with self._lock:
                self._pool = None  # a fresh pool next time
            raise RecognizerError(f"recognition worker died: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
