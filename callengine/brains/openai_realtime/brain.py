"""``OpenAIRealtimeBrain``: the thin trio shell around ``Conversation`` (one per call).

The call's brain task runs:

- ``on_media`` (on the call's receive task) — each caller frame goes to the vendor's buffer
  and, unless disabled, through the shared ``TurnDetector``: caller speech over the agent
  clears Twilio's buffer within that frame, ahead of the vendor's VAD;
- ``control`` — Twilio's mark echoes (what the caller heard) and DTMF into the conversation;
- one vendor *session* at a time, as a nursery of three tasks over one WebSocket:
  ``reader`` (vendor events → ``Conversation`` → Twilio commands and vendor replies),
  ``writer`` (the caller's μ-law, copied by ``on_media`` into a bounded buffer, batched into
  ``input_audio_buffer.append``) and ``ticker`` (the first-audio watchdog: no audio within
  ``first_audio_seconds``; and DTMF keys, told to the model as a user message once the
  caller stops typing).

Connecting has a deadline (handshake + ``session.created`` + ``session.updated``). Until the
caller has heard the assistant, a failed session is retried with exponential backoff, up to
``connect_attempts`` sessions; after that, or once the caller has heard the assistant, a
failure plays the shipped apology clip and hangs up. The API key only travels in the
handshake header and is never logged.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, final

import trio

from callengine.brains.openai_realtime import protocol as p
from callengine.brains.openai_realtime.config import (
    TOOLS,
    CallSetup,
    RealtimeConfig,
    instructions_for,
)
from callengine.brains.openai_realtime.conversation import SESSION_UPDATE_ID, Actions, Conversation
from callengine.brains.openai_realtime.errors import (
    ErrorCategory,
    RealtimeError,
    VendorFailed,
    VendorUnavailable,
    map_websocket_errors,
)
from callengine.brains.openai_realtime.transport import open_vendor_websocket
from callengine.events import DtmfReceived, HangUp, MarkReached, SendAudio, SendMark
from callengine.logs import CallLogger
from callengine.turns import SpeechStarted, TurnDetector
from callengine.turns.detector import FRAME_BYTES_PCM

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trio_websocket import WebSocketConnection

    from callengine.brains.base import CallInfo
    from callengine.events import Command, InboundEvent, MediaReceived

__all__ = ["CallEnd", "OpenAIRealtimeBrain"]

log = logging.getLogger(__name__)


class CallEnd(StrEnum):
    """How the brain's side of the call ended (``summary()["end"]``)."""

    CALLER_HUNG_UP = "caller_hung_up"  # or anything else the engine ended the call for
    HANG_UP = "hang_up"  # the model called the hang_up tool
    VENDOR_FAILURE = "vendor_failure"  # apology played, then hung up

AUDIO_BUFFER_FRAMES = 50  # 1 s of caller audio waits for the vendor; then the oldest goes
APPEND_MAX_FRAMES = 10  # one append carries at most 200 ms (fewer messages when behind)
WATCHDOG_TICK_SECONDS = 0.1
VENDOR_MESSAGE_QUEUE = 256  # trio-websocket's inbound queue: deltas arrive in bursts
MAX_VENDOR_MESSAGE_BYTES = 4 * 1024 * 1024
NO_COMMANDS: tuple[Command, ...] = ()


@final
class OpenAIRealtimeBrain:
    name = "openai_realtime"

    def __init__(
        self, config: RealtimeConfig, apology: bytes
    ) -> None:
        self._config = config
        self._apology = apology
        # (μ-law frame, arrival time): the arrival times map the vendor's audio positions to
        # our clock for the turn metrics
        self._audio_tx, self._audio_rx = trio.open_memory_channel[tuple[bytes, float]](
            AUDIO_BUFFER_FRAMES
        )
        self._log = CallLogger(log)
        self._conv: Conversation | None = None
        self._setup = CallSetup()
        self._setup_problems: list[str] = []
        self._attempts = 0
        self._failures: list[dict[str, str]] = []
        self._end = CallEnd.CALLER_HUNG_UP  # unless the conversation or a failure ends it
        self._frames_dropped = 0
        self._failure: RealtimeError | None = None
        # The shared turn detector (WebRTC VAD + calibrated floor, stricter while the agent
        # talks) for barge-in ahead of the vendor's own VAD.
        self._detector = TurnDetector() if config.local_barge_in else None

    # --- the engine's hooks -----------------------------------------------------------------

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        barge_in = NO_COMMANDS
        detector, conv = self._detector, self._conv
        now = trio.current_time()
        if detector is not None and conv is not None and len(frame.pcm) == FRAME_BYTES_PCM:
            event = detector.update(frame.pcm, now, playing=conv.playout.playing)
            if type(event) is SpeechStarted and event.during_playback:
                # The caller talks over the agent: clear Twilio's buffer within this frame,
                # not a vendor round trip later (issue 3: barge-in within 200 ms).
                commands = conv.local_barge_in(now)
                if commands:
                    conv.record_local_barge_in(event.onset_at, now)
                    barge_in = tuple(commands)
        item = (frame.ulaw, now)
        try:
            self._audio_tx.send_nowait(item)
        except trio.WouldBlock:
            # The vendor is not connected yet, or too slow: never block the call; drop the
            # oldest frame so the vendor hears the caller's latest second.
            self._frames_dropped += 1
            try:
                self._audio_rx.receive_nowait()
            except trio.WouldBlock:  # another task emptied it meanwhile: nothing to drop
                pass
            self._audio_tx.send_nowait(item)
        return barge_in

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        """Talk to the caller through the vendor until the conversation ends.

        Returns after ``hang_up`` (the engine hangs up once the goodbye has played), or after
        queueing the apology and ``HangUp`` when the vendor fails. Cancellation: when the
        call ends otherwise; the vendor socket is closed on the way out.
        """
        self._log.bind(call_sid=call.call_sid, stream_sid=call.stream_sid)
        setup, self._setup_problems = CallSetup.from_reading(call.setup)
        if not setup.caller_number:
            params = call.custom_parameters
            caller = params.get("from") or params.get("From") or ""
            setup = replace(setup, caller_number=caller)
        self._setup = setup
        conv = self._conv = Conversation(self._config, setup)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._control_loop, inbound, conv, name=f"call:{call.call_sid}:oai-control")
            await self._converse(conv, commands)
            nursery.cancel_scope.cancel()

    def summary(self) -> dict[str, Any]:
        conv = self._conv
        config = self._config
        lead = dict(conv.lead) if conv else {}
        return {
            "transcript": conv.transcript() if conv else [],
            "summary": _summary_line(lead, self._end),
            "lead": lead,
            "caller_id": self._setup.caller_number or None,
            "end": self._end.value,
            "hangup_reason": conv.hangup_reason if conv else None,
            "barge_ins": conv.barge_ins if conv else 0,
            "truncations": list(conv.truncations) if conv else [],
            "local_barge_ins": conv.local_barge_ins if conv else 0,
            "false_barge_ins": conv.false_alarms if conv else 0,
            # endpoint_ms: caller's end of speech → the vendor's end of turn reaches us;
            # brain_ms: → first reply audio queued; barge-in latency: first voiced frame →
            # clear (callengine.turns.TurnMetrics, the receptionist's shape)
            "metrics": conv.turn_metrics() if conv else {},
            "vendor": {
                "model": config.model,
                "dialect": config.dialect.value,
                "session_id": conv.session_id if conv else "",
                "attempts": self._attempts,
                "failures": self._failures,
                "errors": list(conv.errors) if conv else [],
                "frames_dropped": self._frames_dropped,
            },
            "setup_problems": self._setup_problems,
        }

    # --- sessions ---------------------------------------------------------------------------

    async def _control_loop(
        self, inbound: trio.MemoryReceiveChannel[InboundEvent], conv: Conversation
    ) -> None:
        async for event in inbound:
            if type(event) is MarkReached:
                conv.on_mark(event.name)
            elif type(event) is DtmfReceived:
                conv.on_dtmf(event.digit, trio.current_time())

    async def _converse(self, conv: Conversation, commands: trio.MemorySendChannel[Command]) -> None:
        config = self._config
        backoff = config.backoff_seconds
        while True:
            self._attempts += 1
            conv.new_session()
            try:
                await self._session(conv, commands)
            except RealtimeError as exc:
                self._failures.append({"category": exc.category.value, "error": str(exc)})
                retry = (
                    not conv.answered
                    and exc.retryable
                    and self._attempts < config.connect_attempts
                )
                self._log.warning(
                    "vendor session %d failed (%s): %s%s",
                    self._attempts,
                    exc.category.value,
                    exc,
                    f"; retrying in {backoff:g} s" if retry else "",
                )
                if retry:
                    await trio.sleep(backoff)
                    backoff *= 2
                    continue
                await self._apologise(commands)
                return
            self._end = CallEnd.HANG_UP
            return

    async def _apologise(self, commands: trio.MemorySendChannel[Command]) -> None:
        self._end = CallEnd.VENDOR_FAILURE
        await commands.send(SendAudio(self._apology))
        await commands.send(SendMark("apology"))
        await commands.send(HangUp("vendor failure"))

    async def _session(self, conv: Conversation, commands: trio.MemorySendChannel[Command]) -> None:
        """One vendor session; returns when the conversation is finished.

        Raises:
            RealtimeError: connecting failed or the session broke.
        """
        config = self._config
        timeout = config.connect_timeout_seconds
        self._failure = None
        finished = False
        try:
            async with open_vendor_websocket(
                config.session_url,
                config.headers(),
                timeout=timeout,
                message_queue_size=VENDOR_MESSAGE_QUEUE,
                max_message_size=MAX_VENDOR_MESSAGE_BYTES,
            ) as ws:
                await self._configure_in_time(ws, conv, commands)
                self._log.info(
                    "vendor session %s ready (attempt %d, model %s)",
                    conv.session_id,
                    self._attempts,
                    config.model,
                )
                # The tasks store their failure and cancel each other (raising inside the
                # nursery would wrap it in an exception group).
                async with trio.open_nursery() as tasks:
                    tasks.start_soon(self._reader, ws, conv, commands, tasks.cancel_scope)
                    tasks.start_soon(self._writer, ws, conv, tasks.cancel_scope)
                    tasks.start_soon(self._ticker, ws, conv, commands, tasks.cancel_scope)
                finished = self._failure is None
        except RealtimeError as exc:
            if finished:  # the conversation was over; only the close handshake failed
                self._log.info("vendor close after hang-up failed: %s", exc)
                return
            if self._failure is None:
                self._failure = exc
        if self._failure is not None:
            raise self._failure

    async def _configure_in_time(
        self,
        ws: WebSocketConnection,
        conv: Conversation,
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        """``session.created``, then ``session.update`` → ``session.updated``, in time."""
        timeout = self._config.connect_timeout_seconds
        try:
            with trio.fail_after(timeout), map_websocket_errors(connecting=True):
                await self._configure(ws, conv, commands)
        except trio.TooSlowError:
            raise VendorUnavailable(
                f"no vendor session within {timeout:g} s", ErrorCategory.TIMEOUT
            ) from None

    async def _configure(
        self,
        ws: WebSocketConnection,
        conv: Conversation,
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        config = self._config
        setup = self._setup
        first = p.parse(await ws.get_message())
        if type(first) is not p.SessionCreated:
            raise VendorUnavailable(f"expected session.created, got {_describe(first)}", ErrorCategory.PROTOCOL)
        conv.on_event(first, trio.current_time())
        await ws.send_message(
            p.build_session_update(
                config.dialect,
                instructions=instructions_for(setup),
                voice=setup.voice or config.voice,
                tools=TOOLS,
                turn_detection=config.turn_detection,
                transcription_model=config.transcription_model,
                language=_language_code(setup.language),
                event_id=SESSION_UPDATE_ID,
            )
        )
        while not conv.ready:
            event = p.parse(await ws.get_message())
            actions = conv.on_event(event, trio.current_time())
            if actions.failure is not None:
                raise VendorUnavailable(str(actions.failure), actions.failure.category)
            await self._apply(ws, actions, commands, connecting=True)

    async def _apply(
        self,
        ws: WebSocketConnection,
        actions: Actions,
        commands: trio.MemorySendChannel[Command],
        *,
        connecting: bool = False,
    ) -> None:
        for command in actions.twilio:
            await commands.send(command)
        with map_websocket_errors(connecting=connecting):
            for message in actions.vendor:
                await ws.send_message(message)

    async def _reader(
        self,
        ws: WebSocketConnection,
        conv: Conversation,
        commands: trio.MemorySendChannel[Command],
        scope: trio.CancelScope,
    ) -> None:
        clock = trio.current_time
        try:
            while True:
                with map_websocket_errors(connecting=False):
                    raw = await ws.get_message()
                actions = conv.on_event(p.parse(raw), clock())
                await self._apply(ws, actions, commands)
                if actions.failure is not None:
                    raise actions.failure
                if actions.finished:
                    break
        except RealtimeError as exc:
            self._failure = exc
        scope.cancel()

    async def _writer(
        self, ws: WebSocketConnection, conv: Conversation, scope: trio.CancelScope
    ) -> None:
        audio = self._audio_rx
        try:
            async for first in audio:
                batch = [first]
                while len(batch) < APPEND_MAX_FRAMES:
                    try:
                        batch.append(audio.receive_nowait())
                    except trio.WouldBlock:
                        break
                for ulaw, arrived_at in batch:  # before the vendor can refer to it
                    conv.audio_appended(len(ulaw), arrived_at)
                with map_websocket_errors(connecting=False):
                    await ws.send_message(p.build_append(b"".join(ulaw for ulaw, _ in batch)))
        except RealtimeError as exc:
            self._failure = exc
            scope.cancel()

    async def _ticker(
        self,
        ws: WebSocketConnection,
        conv: Conversation,
        commands: trio.MemorySendChannel[Command],
        scope: trio.CancelScope,
    ) -> None:
        """The first-audio watchdog; the conversation's periodic work (``Conversation.tick``)."""
        while not conv.stalled(trio.current_time()):
            await trio.sleep(WATCHDOG_TICK_SECONDS)
            try:
                await self._apply(ws, conv.tick(trio.current_time()), commands)
            except RealtimeError as exc:
                self._failure = exc
                scope.cancel()
                return
        self._failure = VendorFailed(
            f"no audio from the vendor within {self._config.first_audio_seconds:g} s",
            ErrorCategory.TIMEOUT,
        )
        scope.cancel()


def _summary_line(lead: dict[str, str], end: CallEnd) -> str:
    """One human line for the call list (stored as the call's summary by the API)."""
    parts = [
        lead["name"] if "name" in lead else "Unknown caller",
        f"about: {lead['reason']}" if "reason" in lead else "",
        f"call back {lead['callback_number']}" if "callback_number" in lead else "",
        f"email {lead['email']}" if "email" in lead else "",
    ]
    ending = {
        CallEnd.HANG_UP: "",
        CallEnd.VENDOR_FAILURE: " (the AI service failed; caller heard an apology)",
        CallEnd.CALLER_HUNG_UP: " (caller hung up)",
    }
    return "; ".join(part for part in parts if part) + ending[end]


def _describe(event: p.ServerEvent) -> str:
    if type(event) is p.ErrorEvent:
        return f"error {event.code or event.type}"
    return type(event).__name__


def _language_code(language: str) -> str | None:
    """ISO-639-1 code for the transcription hint ("en-US" → "en"); None when unknown."""
    code = language.split("-")[0].split("_")[0].lower()
    return code if len(code) == 2 and code.isalpha() else None
