"""``ReceptionistBrain``: the async shell around the pure dialogue and turn-taking.

- ``on_media`` (receive task, every 20 ms): ``TurnDetector`` → on speech onset while the agent
  talks, ``ClearPlayback`` is returned at once (barge-in within the frame) and the utterance is
  cut at what the marks say was heard; a finished turn goes to the brain task through a small
  channel.
- ``run`` (brain task): reads the setup from Redis, then loops over caller turns, DTMF, marks
  and the silence timer; each turn is recognised with the grammar the dialogue expects (a need
  turn also with the business's need language model, for open sentences; awaited in a thread
  under process-wide ``PrioritySlots`` sized to the cores, oldest turn first, decoded in a
  worker process), the dialogue answers, and its prompts are rendered and queued with marks.
  The full-vocabulary transcript of each turn is made in the background, in a pool of its own.
- Answering sooner: a candidate end of turn (``TurnPaused``, 240 ms of pause) is decoded at
  once; a complete answer by the question's judge (``complete.py``) ends the turn there,
  otherwise the decode is kept for the turn the full pause ends (the same audio). A turn
  with no answer ``filler_after_seconds`` after the caller stopped hears "One moment.".
"""

from __future__ import annotations

import logging
import math
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, final

import trio

from callengine.brains.receptionist.asr import Heard, RecognizerError
from callengine.brains.receptionist.complete import DEFAULT_JUDGES, Judge
from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction
from callengine.brains.receptionist.grammars import (
    Expect,
)
from callengine.brains.receptionist.services import Services, default_threads
from callengine.brains.receptionist.setup import ReceptionistSetup, receptionist_setup
from callengine.brains.receptionist.tts import SpeechError, tone
from callengine.events import ClearPlayback, DtmfReceived, InboundEvent, MarkReached
from callengine.turns import (
    NoiseIgnored,
    PauseState,
    PlaybackTracker,
    SpeechStarted,
    TurnConfig,
    TurnDetector,
    TurnEnded,
    TurnMetrics,
    TurnPaused,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from callengine.brains.base import CallInfo
    from callengine.events import Command, MediaReceived

__all__ = ["ReceptionistBrain", "ReceptionistConfig", "Services", "default_threads"]

log = logging.getLogger(__name__)

TURN_BUFFER = 4  # finished turns waiting for recognition; more means the caller talks nonstop
# After the goodbye is queued, pending transcripts get until it has played (never extra
# silence for the caller), and at least this long.
TRANSCRIBE_GRACE_SECONDS = 0.5
PROMPT_GAP = b"\xff" * 1600  # 200 ms between chained prompts
PLAYOUT_SLACK_SECONDS = 2.0  # marks lost? the prompt counts as played this long after its end
NO_COMMANDS: tuple[Command, ...] = ()
# A candidate end of turn after this much pause: the turn's audio is then final (the
# detector keeps a 240 ms tail), so its decode serves the full pause too.
EARLY_PAUSE_MS = 240
# Said when the answer is not on its way this long after the caller stopped (recognition
# queued behind other calls' turns): past the 700 ms pause plus a usual answer's ~100 ms.
FILLER_AFTER_SECONDS = 1.0
FILLER = "One moment."
FILLER_POLL_SECONDS = 0.1  # a waiting candidate checks this often: turn ended? caller went on?


@dataclass(frozen=True, slots=True)
class ReceptionistConfig:
    turns: TurnConfig = field(default_factory=lambda: TurnConfig(early_pause_ms=EARLY_PAUSE_MS))
    # Per question: is the turn so far already a complete answer? (ends it at the candidate)
    complete: Mapping[Expect, Judge] = field(default_factory=lambda: dict(DEFAULT_JUDGES))
    # The need turn: decoded with the need model at the candidate too, and ended there when
    # the dialogue would take it without asking (``Dialogue.need_complete``).
    complete_needs: bool = True
    filler_after_seconds: float | None = FILLER_AFTER_SECONDS  # None: never a filler
    silence_seconds: float = 6.0
    max_silences: int = 2
    max_retries: int = 2
    transcribe: bool = True
    recordings_dir: Path | None = None  # where left messages are saved (WAV)


@dataclass(frozen=True, slots=True)
class _Decoded:
    """A turn's audio decoded at its candidate end, kept for the full pause's turn."""

    pcm: bytes
    grammar: str
    channel: str | None  # the caller's channel it was decoded from
    heard: Heard
    wait: float
    decode: float
    filler_at: float | None
    sentence: str | None = None  # a need turn's decode with the need model, when made


@final
class ReceptionistBrain:
    name = "receptionist"

    def __init__(self, services: Services, config: ReceptionistConfig | None = None) -> None:
        self._services = services
        self._config = cfg = config or ReceptionistConfig()
        self._detector = TurnDetector(cfg.turns)
        self._playback = PlaybackTracker()
        self.metrics = TurnMetrics()
        self._turns_tx, self._turns_rx = trio.open_memory_channel[TurnEnded | TurnPaused](TURN_BUFFER)
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
        self._reply_to: tuple[dict[str, Any], float] | None = None  # caller entry awaiting its reply
        self._decoded: _Decoded | None = None  # the last candidate's decode
        self.fillers = 0  # "one moment" said while a turn waited for recognition
        self.candidates_decoded = 0  # turns decoded at a short pause (TurnPaused)
        self.early_ends = 0  # turns ended there: a complete answer

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
        if type(event) is TurnPaused:
            # Only a candidate (the turn still ends by the full pause): never let candidates
            # fill the buffer that finished turns need.
            if self._turns_tx.statistics().current_buffer_used < TURN_BUFFER - 1:
                self._turns_tx.send_nowait(event)
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
            events_tx, events_rx = trio.open_memory_channel[InboundEvent | TurnEnded | TurnPaused](0)
            background.start_soon(self._forward_inbound, inbound, events_tx.clone())
            background.start_soon(self._forward_turns, events_tx)
            done = await self._say(dialogue.start(), commands)
            while not done:
                event: InboundEvent | TurnEnded | TurnPaused | None = None
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
                elif type(event) is TurnPaused:
                    done = await self._candidate(event, dialogue, commands, background)
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
        out: trio.MemorySendChannel[InboundEvent | TurnEnded | TurnPaused],
    ) -> None:
        async with out:
            async for event in inbound:
                if type(event) in (MarkReached, DtmfReceived):
                    await out.send(event)

    async def _forward_turns(self, out: trio.MemorySendChannel[InboundEvent | TurnEnded | TurnPaused]) -> None:
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

    async def _candidate(
        self,
        pause: TurnPaused,
        dialogue: Dialogue,
        commands: trio.MemorySendChannel[Command],
        background: trio.Nursery,
    ) -> bool:
        """The caller paused briefly: decode the turn so far now. A complete answer (the
        question's judge) ends the turn at once; otherwise the decode is kept for the turn
        the full pause ends (the same audio) and nothing more happens."""
        grammar = dialogue.grammar()
        detector = self._detector
        if grammar is None or detector.pause_state(pause.pause_id) is PauseState.RESUMED:
            return False
        expect = dialogue.expect
        started = False

        def wanted() -> bool:
            nonlocal started
            started = detector.pause_state(pause.pause_id) is not PauseState.RESUMED
            return started

        def may_fill() -> bool:  # the full pause ended the turn while its decode waited
            return detector.pause_state(pause.pause_id) is PauseState.ENDED

        def stale() -> bool:  # still queued, and the caller went on: stop waiting
            return not started and detector.pause_state(pause.pause_id) is PauseState.RESUMED

        try:
            decoded = await self._decode(
                pause.pcm, grammar, pause.speech_end_at, commands, wanted, may_fill, stale
            )
        except RecognizerError as exc:
            log.warning("early recognition failed: %s", exc)
            return False
        if decoded is None:
            return False
        self.candidates_decoded += 1
        if expect is Expect.INTENT and self._config.complete_needs:
            # the need sentence too (the full pause's turn reuses it): is it a complete need?
            if detector.pause_state(pause.pause_id) is PauseState.RESUMED:
                self._decoded = decoded
                return False
            try:
                sentence = await self._sentence(pause, dialogue, decoded.channel)
            except RecognizerError as exc:
                log.warning("early need-model recognition failed: %s", exc)
                self._decoded = decoded
                return False
            self._decoded = decoded = replace(decoded, sentence=sentence)
            complete = dialogue.expect is expect and dialogue.need_complete(
                decoded.heard.text, sentence, decoded.heard.alternatives
            )
        else:
            self._decoded = decoded
            judge = self._config.complete.get(expect)
            complete = judge is not None and dialogue.expect is expect and judge(decoded.heard.text)
        if not complete:
            return False
        turn = detector.end_turn(pause.pause_id, trio.current_time())
        if turn is None:
            return False  # resumed meanwhile, or the full pause already ended it (queued)
        self.metrics.caller_turn(turn.speech_start_at, turn.speech_end_at, turn.at)
        self.early_ends += 1
        return await self._heard(turn, dialogue, commands, background, early=True)

    async def _sentence(self, turn: TurnEnded | TurnPaused, dialogue: Dialogue, channel: str | None) -> str:
        """The need turn decoded with the business's need language model (its open sentence),
        served in the same order as the turn's own decode (from the caller's end of speech)."""
        model = self._services.need_model(dialogue)
        decoded = await self._services.recognize_timed(turn.pcm, model, channel, since=turn.speech_end_at)
        assert decoded is not None  # no ``wanted``: never skipped
        return decoded[0].text or ""

    async def _decode(
        self,
        pcm: bytes,
        grammar: str,
        since: float,
        commands: trio.MemorySendChannel[Command],
        wanted: Callable[[], bool] | None = None,
        may_fill: Callable[[], bool] | None = None,
        stale: Callable[[], bool] | None = None,
    ) -> _Decoded | None:
        """Recognise in a worker (the turn that has waited longest first); if no answer is
        decoded ``filler_after_seconds`` after the caller's end of speech (``since``), say the
        filler meanwhile (when ``may_fill()``). None: ``wanted()`` said skip, or ``stale()``
        did while it waited (a candidate the caller talked past must not hold up their turn).

        Raises:
            RecognizerError: The decode failed.
        """
        result: list[tuple[Heard, float, float] | None | RecognizerError] = []
        done = trio.Event()
        channel = self._channel

        async def work() -> None:
            try:
                result.append(
                    await self._services.recognize_timed(pcm, grammar, channel, since=since, wanted=wanted)
                )
            except RecognizerError as exc:
                result.append(exc)
            finally:
                done.set()

        filler_at: float | None = None
        after = self._config.filler_after_seconds
        fill_at = since + after if after is not None else math.inf
        async with trio.open_nursery() as nursery:
            nursery.start_soon(work)
            # Until the decode is back: drop a stale candidate, and say the filler once it is
            # due and the turn has ended (a candidate's turn may end later: the full pause,
            # or frames arriving late).
            while not done.is_set():
                if stale is not None and stale():
                    nursery.cancel_scope.cancel()
                    return None
                now = trio.current_time()
                if now >= fill_at and (may_fill is None or may_fill()):
                    filler_at = await self._filler(commands)
                    fill_at = math.inf
                    continue
                watching = stale is not None or now >= fill_at  # a candidate, or a due filler
                with trio.move_on_at(min(fill_at, now + FILLER_POLL_SECONDS) if watching else fill_at):
                    await done.wait()
        outcome = result[0]
        if isinstance(outcome, RecognizerError):
            raise outcome
        if outcome is None:
            return None
        heard, wait, decode = outcome
        return _Decoded(pcm, grammar, channel, heard, wait, decode, filler_at)

    async def _filler(self, commands: trio.MemorySendChannel[Command]) -> float | None:
        """Say "one moment" (rendered once per process, interruptible like any prompt) unless
        the agent is already talking; returns when it was queued."""
        if self._playback.playing:
            return None
        try:
            audio = await self._services.voice.render(FILLER)
        except SpeechError as exc:
            log.warning("filler synthesis failed: %s", exc)
            return None
        now = trio.current_time()
        await self._queue_audio(FILLER, audio, now, {"filler": True}, commands)
        self.fillers += 1
        return now

    async def _heard(
        self,
        turn: TurnEnded,
        dialogue: Dialogue,
        commands: trio.MemorySendChannel[Command],
        background: trio.Nursery,
        *,
        early: bool = False,
    ) -> bool:
        expect = dialogue.expect
        grammar = dialogue.grammar()
        began = trio.current_time()
        hyp: str | None = None
        sentence: str | None = None
        alternatives: tuple[tuple[str, float], ...] = ()
        decoded, self._decoded = self._decoded, None
        if decoded is not None and (decoded.pcm, decoded.grammar, decoded.channel) != (
            turn.pcm,
            grammar,
            self._channel,
        ):
            decoded = None  # the caller went on after that candidate, or the question changed
        reused = decoded is not None
        if grammar is not None and decoded is None:
            try:
                decoded = await self._decode(turn.pcm, grammar, turn.speech_end_at, commands)
            except RecognizerError as exc:
                log.error("recognition failed: %s", exc)
                self.recognition_errors += 1
        if decoded is not None:
            again = dialogue.second_pass_grammar(decoded.heard.text)
            if again is not None:  # nothing understood: the same audio, decoded as a bare name
                try:
                    retry = await self._services.recognize_timed(
                        turn.pcm, again, decoded.channel, since=turn.speech_end_at
                    )
                    assert retry is not None  # no ``wanted``: never skipped
                    decoded = replace(decoded, heard=retry[0], decode=decoded.decode + retry[2])
                except RecognizerError as exc:
                    log.error("second-pass recognition failed: %s", exc)
                    self.recognition_errors += 1
            hyp, self._channel = decoded.heard.text, decoded.heard.channel
            alternatives = decoded.heard.alternatives
            if expect is Expect.INTENT and decoded.sentence is not None:
                sentence = decoded.sentence  # made at the candidate, from the same audio
            elif expect is Expect.INTENT:  # the open sentence, from the same starting channel
                try:
                    sentence = await self._sentence(turn, dialogue, decoded.channel)
                except RecognizerError as exc:
                    log.error("need-model recognition failed: %s", exc)
                    self.recognition_errors += 1
        entry: dict[str, Any] = {
            "speaker": "caller",
            "at_ms": self._at_ms(turn.speech_start_at),
            "expect": expect.value,
            "heard": hyp,
            **({"sentence": sentence, "alternatives": [list(a) for a in alternatives]} if expect is Expect.INTENT else {}),
            "text": None,
            "audio_ms": len(turn.pcm) // 16,
            "asr_ms": round((trio.current_time() - began) * 1000),  # recognition left after the turn
            # Reply timing, from the caller's last voiced frame: the pause that ended the turn,
            # waiting for a recognition worker, decoding, and the first reply audio queued.
            "endpoint_ms": round((turn.at - turn.speech_end_at) * 1000),
            "asr_wait_ms": round(decoded.wait * 1000) if decoded else None,
            "asr_decode_ms": round(decoded.decode * 1000) if decoded else None,
            "early": early,  # ended at the candidate: a complete answer
            "decoded_at_candidate": reused,
        }
        if decoded is not None and decoded.filler_at is not None:
            entry["filler"] = True
            entry["first_audio_ms"] = round((decoded.filler_at - turn.speech_end_at) * 1000)
        self.transcript.append(entry)
        self._reply_to = (entry, turn.speech_end_at)
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
        seconds = turn.speech_end_at - turn.speech_start_at
        return await self._say(
            dialogue.heard(hyp, sentence=sentence, alternatives=alternatives, seconds=seconds), commands
        )

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
            self.metrics.reply_queued(now)
            if self._reply_to is not None:
                caller_entry, speech_end_at = self._reply_to
                caller_entry["reply_ms"] = round((now - speech_end_at) * 1000)
                caller_entry.setdefault("first_audio_ms", caller_entry["reply_ms"])
                self._reply_to = None
            await self._queue_audio(text, audio, now, {"tts_ms": round((now - began) * 1000)}, commands)
        return hang_up

    async def _queue_audio(
        self,
        text: str,
        audio: bytes,
        now: float,
        extra: dict[str, Any],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        """Start an utterance: its transcript entry, then its audio and marks."""
        batch = self._playback.start(text, audio, now)
        utterance = self._playback.current
        assert utterance is not None
        entry = {
            "speaker": "agent",
            "at_ms": self._at_ms(now),
            "text": text,
            "interrupted": False,
            "audio_ms": len(audio) // 8,
            **extra,
        }
        self.transcript.append(entry)
        self._agent_entries[utterance] = entry
        self._playing_until = now + len(audio) / 8000 + PLAYOUT_SLACK_SECONDS
        for command in batch:
            if self._playback.current != utterance:
                break  # barge-in while queuing: the rest is dropped
            await commands.send(command)

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
            "candidates_decoded": self.candidates_decoded,
            "early_ends": self.early_ends,
            "fillers": self.fillers,
            "setup_problems": list(self._setup_problems),
        }
