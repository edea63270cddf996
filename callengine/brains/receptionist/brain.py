"""``ReceptionistBrain``: the async shell around the pure dialogue and turn-taking.

- ``on_media`` (receive task, every 20 ms): ``TurnDetector`` → on speech onset while the agent
  talks, ``ClearPlayback`` is returned at once (barge-in within the frame) and the utterance is
  cut at what the marks say was heard; a finished turn goes to the brain task through a small
  channel.
- ``run`` (brain task): reads the setup from Redis, then loops over caller turns, DTMF, marks
  and the silence timer; each turn is recognised with the grammar the dialogue expects (awaited
  in a thread under a process-wide ``CapacityLimiter`` sized to the cores, decoded in a worker
  process), the dialogue answers, and its prompts are rendered and queued with marks. The
  full-vocabulary transcript of each turn is made in the background, in a pool of its own.
"""

from __future__ import annotations

import logging
import os
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

import trio

from callengine.brains.receptionist.asr import Heard, RecognizerError, RecognizerPool
from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction
from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    Expect,
    digits_grammar,
    intent_grammar,
    name_grammar,
    read_name,
    spelling_grammar,
    yes_no_grammar,
)
from callengine.brains.receptionist.setup import ReceptionistSetup, receptionist_setup
from callengine.brains.receptionist.tts import SpeechError, tone
from callengine.events import ClearPlayback, DtmfReceived, InboundEvent, MarkReached
from callengine.turns import (
    NoiseIgnored,
    PlaybackTracker,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnMetrics,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from callengine.brains.base import CallInfo
    from callengine.brains.receptionist.tts import Voice
    from callengine.events import Command, MediaReceived

__all__ = ["ReceptionistBrain", "ReceptionistConfig", "Services", "second_pass_grammar"]

log = logging.getLogger(__name__)

TURN_BUFFER = 4  # finished turns waiting for recognition; more means the caller talks nonstop
# After the goodbye is queued, pending transcripts get until it has played (never extra
# silence for the caller), and at least this long.
TRANSCRIBE_GRACE_SECONDS = 0.5
PROMPT_GAP = b"\xff" * 1600  # 200 ms between chained prompts
PLAYOUT_SLACK_SECONDS = 2.0  # marks lost? the prompt counts as played this long after its end
NO_COMMANDS: tuple[Command, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceptionistConfig:
    turns: TurnConfig = field(default_factory=TurnConfig)
    silence_seconds: float = 6.0
    max_silences: int = 2
    max_retries: int = 2
    transcribe: bool = True
    recordings_dir: Path | None = None  # where left messages are saved (WAV)


@final
class Services:
    """Process-wide pieces shared by every call: recognisers, voice, limiters.

    ``recognizer`` answers the questions (grammar passes): ``threads`` worker processes, and
    one ``CapacityLimiter(threads)`` bounds the turns in flight, process-wide. ``transcriber``
    makes the record's full-vocabulary transcript: ``threads - 1`` (at least one) niced
    worker processes under a limiter of their own, so transcripts never hold up answers.
    """

    def __init__(
        self,
        recognizer: RecognizerPool,
        transcriber: RecognizerPool,
        voice: Voice,
    ) -> None:
        self.recognizer = recognizer
        self.transcriber = transcriber
        self.voice = voice
        self.threads = recognizer.workers
        self._limiter: trio.CapacityLimiter | None = None
        self._background: trio.CapacityLimiter | None = None
        self._names: tuple[str, ...] | None = None

    @property
    def limiter(self) -> trio.CapacityLimiter:
        # Created on first use, inside the running Trio loop.
        if self._limiter is None:
            self._limiter = trio.CapacityLimiter(self.threads)
        return self._limiter

    def statistics(self) -> dict[str, int]:
        """Recognition load: answers decoding and waiting (the limiter caps capacity), and
        the background transcripts likewise."""
        answers = _load(self._limiter)
        transcripts = _load(self._background)
        return {
            "threads": self.threads,
            "borrowed": answers[0],
            "waiting": answers[1],
            "transcribing": transcripts[0],
            "transcripts_waiting": transcripts[1],
        }

    async def names(self) -> tuple[str, ...]:
        if self._names is None:
            known = await trio.to_thread.run_sync(
                self.recognizer.known_words, list(COMMON_NAMES), limiter=self.limiter
            )
            self._names = tuple(known)
        return self._names

    async def recognize(self, pcm: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        """Recognise one turn in a worker process (at most ``threads`` at once).

        ``channel`` is the caller's, from their previous ``Heard`` (None for a first turn).
        Cancellation: the wait is abandoned; the worker finishes the turn and drops it.
        """
        return await trio.to_thread.run_sync(
            self.recognizer.recognize, pcm, grammar, channel, limiter=self.limiter, abandon_on_cancel=True
        )

    async def transcribe(self, pcm: bytes, channel: str | None = None) -> str | None:
        """Full-vocabulary pass for the record (background; never waits on answers)."""
        if self._background is None:
            self._background = trio.CapacityLimiter(self.transcriber.workers)
        heard = await trio.to_thread.run_sync(
            self.transcriber.recognize, pcm, None, channel, limiter=self._background, abandon_on_cancel=True
        )
        return heard.text

    def close(self) -> None:
        """Stop the worker processes (tests, shutdown)."""
        self.recognizer.close()
        self.transcriber.close()


def _load(limiter: trio.CapacityLimiter | None) -> tuple[int, int]:
    if limiter is None:
        return 0, 0
    stats = limiter.statistics()
    return stats.borrowed_tokens, stats.tasks_waiting


def _grammar(dialogue: Dialogue) -> str | None:
    expect = dialogue.expect
    if expect is Expect.INTENT:
        return intent_grammar(dialogue.intents)
    if expect is Expect.NAME:
        return name_grammar(dialogue.name_choices, sentence=dialogue.name_sentence)
    if expect is Expect.SPELLING:
        return spelling_grammar(dialogue.name_choices)
    if expect is Expect.YES_NO:
        return yes_no_grammar()
    if expect is Expect.DIGITS:
        return digits_grammar()
    return None


def second_pass_grammar(dialogue: Dialogue, hyp: str | None) -> str | None:
    """The grammar to decode a turn with again when the first pass understood nothing.

    A name turn decoded with the sentence grammar that holds no name (a partial "hello it":
    the decoder never reached the end of a sentence) is decoded again as a bare name: a bare
    "thomas" on a noisy line came out as "hello it" (recorded session c06).
    """
    if dialogue.expect is Expect.NAME and dialogue.name_sentence and read_name(hyp, dialogue.name_choices) is None:
        return name_grammar(dialogue.name_choices, sentence=False)
    return None


@final
class ReceptionistBrain:
    name = "receptionist"

    def __init__(self, services: Services, config: ReceptionistConfig | None = None) -> None:
        self._services = services
        self._config = cfg = config or ReceptionistConfig()
        self._detector = TurnDetector(cfg.turns)
        self._playback = PlaybackTracker()
        self.metrics = TurnMetrics()
        self._turns_tx, self._turns_rx = trio.open_memory_channel[TurnEnded](TURN_BUFFER)
        self._wake = trio.Event()  # on_media → run: something changed (barge-in)
        self.transcript: list[dict[str, Any]] = []
        self._agent_entries: dict[str, dict[str, Any]] = {}
        self._playing_until = 0.0
        self._last_prompt_end: float | None = None
        self.dialogue: Dialogue | None = None
        self.turns_dropped = 0
        self.recognition_errors = 0
        self._setup_problems: tuple[str, ...] = ()
        self._call_sid = ""
        self._t0: float | None = None  # the call's start (trio clock): transcript entries' at_ms
        self._channel: str | None = None  # the caller's cepstral mean, from their last turn

    # --- receive task -----------------------------------------------------------------------

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        now = trio.current_time()
        if self._t0 is None:
            self._t0 = now
        playback = self._playback
        event = self._detector.update(frame.pcm, now, playing=playback.playing)
        if event is None:
            return NO_COMMANDS
        if type(event) is SpeechStarted:
            self._last_prompt_end = None  # the caller is answering: no silence timeout
            if playback.playing:
                played = playback.interrupt(now)
                if played is not None:
                    self._agent_finished(played.utterance, played.text, played.heard_ms, True)
                    self.metrics.barge_in(event.onset_at, now, played.heard_ms)
                return (ClearPlayback(),)
            return NO_COMMANDS
        if type(event) is TurnEnded:
            self.metrics.caller_turn(event.speech_start_at, event.speech_end_at, event.at)
            try:
                self._turns_tx.send_nowait(event)
            except trio.WouldBlock:
                self.turns_dropped += 1
            return NO_COMMANDS
        if type(event) is NoiseIgnored:
            self.metrics.noises_ignored += 1
        return NO_COMMANDS

    # --- brain task -------------------------------------------------------------------------

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        """Hold the conversation; returns after queuing the goodbye (the engine hangs up).

        Cancellation: cancelled with the call; background transcriptions are cancelled too.
        """
        self._call_sid = call.call_sid
        if self._t0 is None:
            self._t0 = trio.current_time()
        setup = self._load_setup(call)
        names = await self._services.names()
        cfg = self._config
        dialogue = self.dialogue = Dialogue(
            setup, max_retries=cfg.max_retries, max_silences=cfg.max_silences, names=names
        )
        async with trio.open_nursery() as background:
            events_tx, events_rx = trio.open_memory_channel[InboundEvent | TurnEnded](0)
            background.start_soon(self._forward_inbound, inbound, events_tx.clone())
            background.start_soon(self._forward_turns, events_tx)
            done = await self._say(dialogue.start(), commands)
            while not done:
                event: InboundEvent | TurnEnded | None = None
                with trio.move_on_at(self._deadline()):
                    event = await events_rx.receive()
                now = trio.current_time()
                if event is None:
                    if self._playback.playing:  # marks never came back: assume it played
                        played = self._playback.interrupt(now)
                        if played is not None:
                            self._agent_finished(played.utterance, played.full_text, played.audio_ms, False)
                        self._last_prompt_end = now
                        continue
                    if self._detector.speaking:
                        self._last_prompt_end = now
                        continue
                    done = await self._say(dialogue.silence(), commands)
                elif type(event) is MarkReached:
                    finished = self._playback.on_mark(event.name, now)
                    if finished is not None:
                        self._agent_finished(finished.utterance, finished.text, finished.heard_ms, False)
                        self._last_prompt_end = now
                elif type(event) is DtmfReceived:
                    if self._playback.playing:  # a key press interrupts the prompt too
                        played = self._playback.interrupt(now)
                        if played is not None:
                            self._agent_finished(played.utterance, played.text, played.heard_ms, True)
                        self.metrics.dtmf_interrupts += 1
                        await commands.send(ClearPlayback())
                    self.transcript.append({"speaker": "caller", "dtmf": event.digit, "at_ms": self._at_ms(now)})
                    self._last_prompt_end = now
                    done = await self._say(dialogue.pressed(event.digit), commands)
                elif type(event) is TurnEnded:
                    done = await self._heard(event, dialogue, commands, background)
            goodbye_played = self._playing_until - PLAYOUT_SLACK_SECONDS
            grace = max(goodbye_played, trio.current_time() + TRANSCRIBE_GRACE_SECONDS)
            with trio.move_on_at(grace):
                await self._transcripts_done()
            background.cancel_scope.cancel()

    def _deadline(self) -> float:
        if self._playback.playing:
            return self._playing_until
        if self._last_prompt_end is None:
            return trio.current_time() + self._config.silence_seconds
        return self._last_prompt_end + self._config.silence_seconds

    async def _forward_inbound(
        self,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        out: trio.MemorySendChannel[InboundEvent | TurnEnded],
    ) -> None:
        async with out:
            async for event in inbound:
                if type(event) in (MarkReached, DtmfReceived):
                    await out.send(event)

    async def _forward_turns(self, out: trio.MemorySendChannel[InboundEvent | TurnEnded]) -> None:
        async with out:
            async for turn in self._turns_rx:
                await out.send(turn)

    def _load_setup(self, call: CallInfo) -> ReceptionistSetup:
        """This brain's view of the call setup the engine read once (``call.setup``)."""
        params = call.custom_parameters
        caller = params.get("from") or params.get("From") or params.get("caller") or ""
        setup = receptionist_setup(call.setup, caller=caller)
        if setup.problems:
            log.warning("call setup problems (defaults used): %s", "; ".join(setup.problems))
        self._setup_problems = setup.problems
        return setup

    async def _heard(
        self,
        turn: TurnEnded,
        dialogue: Dialogue,
        commands: trio.MemorySendChannel[Command],
        background: trio.Nursery,
    ) -> bool:
        expect = dialogue.expect
        grammar = _grammar(dialogue)
        began = trio.current_time()
        hyp: str | None = None
        if grammar is not None:
            try:
                heard = await self._services.recognize(turn.pcm, grammar, self._channel)
                again = second_pass_grammar(dialogue, heard.text)
                if again is not None:
                    heard = await self._services.recognize(turn.pcm, again, self._channel)
                hyp, self._channel = heard.text, heard.channel
            except RecognizerError as exc:
                log.error("recognition failed: %s", exc)
                self.recognition_errors += 1
        entry: dict[str, Any] = {
            "speaker": "caller",
            "at_ms": self._at_ms(turn.speech_start_at),
            "expect": expect.value,
            "heard": hyp,
            "text": None,
            "audio_ms": len(turn.pcm) // 16,
            "asr_ms": round((trio.current_time() - began) * 1000),  # queue + decode
        }
        self.transcript.append(entry)
        if expect is Expect.FREE:
            # A message is recorded, not understood: its full-vocabulary transcript is made in
            # the background like every other (a long message decoded in the answer pool
            # held both slots for seconds with a few messages at once: measured).
            await self._save_message(turn.pcm)
            entry["text"] = "…"
            background.start_soon(self._transcribe, turn.pcm, entry, True)
        elif self._config.transcribe:
            entry["text"] = "…"
            background.start_soon(self._transcribe, turn.pcm, entry, False)
        self._last_prompt_end = trio.current_time()
        return await self._say(dialogue.heard(hyp), commands)

    async def _transcribe(self, pcm: bytes, entry: dict[str, Any], message: bool) -> None:
        try:
            text = await self._services.transcribe(pcm, self._channel) or ""
        except RecognizerError as exc:
            entry["text"] = None
            log.warning("transcription failed: %s", exc)
            return
        finally:
            if entry["text"] == "…":  # cancelled at hang-up: no transcript, not a pending one
                entry["text"] = None
        entry["text"] = text
        if message and self.dialogue is not None:
            self.dialogue.lead.message = text

    async def _transcripts_done(self) -> None:
        while any(e.get("text") == "…" for e in self.transcript):
            await trio.sleep(0.05)

    async def _save_message(self, pcm: bytes) -> None:
        directory = self._config.recordings_dir
        if directory is None or not self._call_sid:
            return
        path = directory / f"{self._call_sid}-message.wav"

        def write() -> None:
            directory.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(8000)
                wav.writeframes(pcm)

        try:
            await trio.to_thread.run_sync(write)
        except OSError as exc:
            log.error("cannot save the message to %s: %s", path, exc)
            return
        if self.dialogue is not None:
            self.dialogue.lead.message_path = str(path)

    async def _say(
        self,
        actions: Sequence[SayAction | HangUpAction],
        commands: trio.MemorySendChannel[Command],
    ) -> bool:
        """Render and queue the prompts; returns True when the dialogue hangs up."""
        texts = [a.text for a in actions if type(a) is SayAction]
        hang_up = any(type(a) is HangUpAction for a in actions)
        if texts:
            voice = self._services.voice
            began = trio.current_time()
            parts: list[bytes] = []
            try:
                for text in texts:
                    parts.append(await voice.render(text))
            except SpeechError as exc:
                log.error("speech synthesis failed: %s", exc)
            if any(type(a) is SayAction and a.tone for a in actions):
                parts.append(tone())
            audio = PROMPT_GAP.join(p for p in parts if p)
            now = trio.current_time()
            text = " ".join(texts)
            batch = self._playback.start(text, audio, now)
            utterance = self._playback.current
            assert utterance is not None
            entry = {
                "speaker": "agent",
                "at_ms": self._at_ms(now),
                "text": text,
                "interrupted": False,
                "audio_ms": len(audio) // 8,
                "tts_ms": round((now - began) * 1000),
            }
            self.transcript.append(entry)
            self._agent_entries[utterance] = entry
            self._playing_until = now + len(audio) / 8000 + PLAYOUT_SLACK_SECONDS
            self.metrics.reply_queued(now)
            for command in batch:
                if self._playback.current != utterance:
                    break  # barge-in while queuing: the rest is dropped
                await commands.send(command)
        return hang_up

    def _at_ms(self, t: float) -> int:
        """Milliseconds from the call's start to ``t`` (trio clock): when a transcript entry
        began (a caller's speech onset, an agent's first audio, a key press)."""
        return max(0, round((t - (self._t0 if self._t0 is not None else t)) * 1000))

    def _agent_finished(self, utterance: str, text: str, heard_ms: int, interrupted: bool) -> None:
        entry = self._agent_entries.pop(utterance, None)
        self.metrics.agent_heard(heard_ms)
        if entry is not None:
            entry["text"] = text
            entry["interrupted"] = interrupted
            entry["heard_ms"] = heard_ms

    # --- call record ------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        dialogue = self.dialogue
        lead = dialogue.lead.as_dict() if dialogue is not None else {}
        return {
            "transcript": self.transcript,
            "lead": lead,
            "state": dialogue.state.value if dialogue is not None else None,
            "metrics": self.metrics.summary(),
            "tts": self._services.voice.engine,
            "turns_dropped": self.turns_dropped,
            "recognition_errors": self.recognition_errors,
            "setup_problems": list(self._setup_problems),
        }


def default_threads(configured: int) -> int:
    return configured or os.cpu_count() or 1
