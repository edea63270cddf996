"""``CallActor``: one phone call, as a nursery of four named tasks.

- ``recv``   drains the WebSocket continuously (trio-websocket stops answering pings when its
             own queue is full) and decodes; each audio frame goes straight to the brain's
             quick ``on_media`` hook (its commands, e.g. a barge-in ``clear``, leave at once),
             control events go to the brain task through a small bounded channel.
- ``send``   turns brain commands into Twilio messages at once (``clear`` and marks never
             wait behind audio). Audio is paced by ``Pacer`` to keep Twilio's buffer a little
             ahead, released on Twilio's own 20 ms inbound clock by ``recv``; ``send`` takes
             over pacing only if inbound frames stop.
- ``brain``  whatever talks to the caller (``brains.base.Brain``).
- ``report`` watches the silence and length deadlines and flushes recordings.

The first task to finish ends the call (it records an end reason and cancels the nursery).
Cleanup is shielded and time-boxed: close the socket with a code and reason, finish files,
report the end and hand the call record to ``jobs.calls.finalize_call``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, final

import trio
from trio_websocket import ConnectionClosed

from callengine.actor.files import Capture, Recording
from callengine.actor.pacer import Pacer
from callengine.brains.base import CallInfo
from callengine.errors import ProtocolError
from callengine.events import (
    ClearPlayback,
    CloseCode,
    Command,
    DtmfReceived,
    EndReason,
    HangUp,
    InboundEvent,
    MarkReached,
    MediaReceived,
    RefusalReason,
    SendAudio,
    SendMark,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    UnknownEvent,
)
from callengine.logs import CallLogger
from callengine.protocol.twilio_media import decode, encode_clear, encode_mark, encode_media
from callengine.reporting.base import LiveCall
from contracts.call_record import CallRecord, DtmfPress
from contracts.call_setup import Direction
from contracts.call_token import TOKEN_PARAMETER, verify_call_token

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

    from callengine.admission import Admission
    from callengine.brains.base import Brain
    from callengine.reporting.base import Reporter
    from callengine.settings import Settings
    from callengine.stats import EngineStats

__all__ = ["CallActor"]

log = logging.getLogger(__name__)

CLEANUP_TIMEOUT = 5.0  # close + files + finalize; a dead peer or Redis cannot hold a slot
CLOSE_TIMEOUT = 2.0
INBOUND_BUFFER = 16  # control events (DTMF, marks): tiny, and never dropped
COMMAND_BUFFER = 16
REPORT_INTERVAL = 1.0
# The send task paces only if no inbound frame arrived this long after audio fell due
# (normally the receive task paces on Twilio's 20 ms frames; the lead is 200 ms).
FALLBACK_SLACK = 0.06
PACING_SLACK = 0.01  # half of Twilio's 20 ms frame: see Pacer
MAX_EARLY_MESSAGES = 8  # kept for the capture; a client cannot grow it before `start`
MAX_REASON_BYTES = 120  # RFC 6455: a close reason fits in 123 bytes
_BUSINESS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@final
class CallActor:
    def __init__(
        self,
        ws: WebSocketConnection,
        *,
        settings: Settings,
        brain: Brain,
        reporter: Reporter,
        admission: Admission,
        stats: EngineStats,
    ) -> None:
        self._ws = ws
        self._settings = settings
        self._brain = brain
        self._reporter = reporter
        self._admission = admission
        self._stats = stats
        self._log = CallLogger(log)
        self._scope: trio.CancelScope | None = None
        self._end_reason: EndReason | None = None
        self._close_code = CloseCode.NORMAL
        self._close_text = "call ended"
        self._start: StreamStarted | None = None
        self._business_id = ""
        self._opened_at = trio.current_time()
        self._opened_wall = time.time()
        self._started_at = self._opened_at
        self._last_media = self._opened_at
        self._clock_base = math.inf
        self._last_seq = 0
        self._seq_gaps = 0
        self._frames_in = 0
        self._unknown_events = 0
        self._dtmf: list[dict[str, Any]] = []
        self._marks_sent: dict[str, float] = {}
        self._mark_rtts: list[float] = []
        self._barge_ins = 0
        self._hangup: str | None = None
        self._recording: Recording | None = None
        self._capture: Capture | None = None
        self._early: list[tuple[float, str]] = []  # raw messages before start, for capture
        self._inbound_tx, self._inbound_rx = trio.open_memory_channel[InboundEvent](
            INBOUND_BUFFER
        )
        self._commands_tx, self._commands_rx = trio.open_memory_channel[Command](COMMAND_BUFFER)
        self._send_lock = trio.Lock()  # pop-and-send runs in order, whichever task does it
        self._next_due = math.inf  # when the pacer next has something to send
        self._fallback: trio.CancelScope | None = None  # the send task's wait, see _send_loop
        self._pacer = Pacer(
            chunk_bytes=settings.outbound_chunk_ms * 8,
            lead_seconds=settings.outbound_lead_ms / 1000,
            slack_seconds=PACING_SLACK,
        )

    @property
    def call_sid(self) -> str | None:
        return self._start.call_sid if self._start else None

    def shutdown(self, reason: str = "server restarting") -> None:
        """End the call now with 1001 (drain deadline, second SIGTERM). Non-blocking."""
        self._end(EndReason.SHUTDOWN, CloseCode.GOING_AWAY, reason)

    async def run(self) -> None:
        """Serve the call until it ends; never raises for anything the call does.

        Cancellation: an outer cancel ends the call with ``shutdown``; cleanup still runs
        (shielded, at most ``CLEANUP_TIMEOUT``).
        """
        try:
            with trio.CancelScope() as self._scope:  # so shutdown() can end phase 1 too
                start = await self._await_start()
            self._scope = None
            if start is None or self._end_reason is not None or not self._accept_start(start):
                return
            sid = start.call_sid
            async with trio.open_nursery() as nursery:
                self._scope = nursery.cancel_scope
                if self._end_reason is not None:  # shutdown() raced with start
                    nursery.cancel_scope.cancel()
                nursery.start_soon(self._receive_loop, name=f"call:{sid}:recv")
                nursery.start_soon(self._send_loop, name=f"call:{sid}:send")
                nursery.start_soon(self._brain_loop, name=f"call:{sid}:brain")
                nursery.start_soon(self._report_loop, name=f"call:{sid}:report")
        except Exception:  # the actor boundary: one call's bug never reaches another call
            self._log.exception("call failed")
            self._end(EndReason.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            with trio.move_on_after(CLEANUP_TIMEOUT, shield=True) as scope:
                await self._cleanup()
            if scope.cancelled_caught:
                self._log.warning("call cleanup timed out after %.0f s", CLEANUP_TIMEOUT)

    # --- phase 1: connected → start ---------------------------------------------------------

    async def _await_start(self) -> StreamStarted | None:
        with trio.move_on_after(self._settings.start_timeout_seconds):
            while True:
                event = await self._next_event()
                if event is None:
                    return None
                if type(event) is StreamStarted:
                    return event
                if type(event) is StreamStopped:
                    self._end(EndReason.STOPPED, CloseCode.NORMAL, "stream stopped")
                    return None
                if type(event) in (MediaReceived, DtmfReceived, MarkReached):
                    self._end(
                        EndReason.UNEXPECTED_EVENT,
                        CloseCode.UNEXPECTED_EVENT,
                        f"{_event_name(event)} event before start",
                    )
                    return None
        self._end(
            EndReason.START_TIMEOUT,
            CloseCode.START_TIMEOUT,
            f"no start event within {self._settings.start_timeout_seconds:g} s",
        )
        return None

    async def _next_event(self) -> InboundEvent | None:
        """Read and decode one message before ``start``; None once the call has ended."""
        try:
            raw = await self._ws.get_message()
        except ConnectionClosed as exc:
            self._closed_by_peer(exc)
            return None
        if not isinstance(raw, str):
            self._end(EndReason.BINARY_FRAME, CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted")
            return None
        if len(self._early) < MAX_EARLY_MESSAGES:
            self._early.append(((trio.current_time() - self._opened_at) * 1000, raw))
        try:
            return decode(raw)
        except ProtocolError as exc:
            self._end(EndReason.PROTOCOL_ERROR, CloseCode(exc.code), exc.reason)
            return None

    def _accept_start(self, start: StreamStarted) -> bool:
        params = start.custom_parameters
        secret = self._settings.internal_secret
        self._log.bind(call_sid=start.call_sid, stream_sid=start.stream_sid)
        business_id = params.get("business_id") or "unknown"
        valid_business = _BUSINESS_ID.fullmatch(business_id) is not None
        if secret and not verify_call_token(secret.reveal(), start.call_sid, params.get(TOKEN_PARAMETER)):
            self._admission.count_refusal(RefusalReason.TOKEN)
            self._reporter.publish(
                "rejected",
                {
                    "call_sid": start.call_sid,
                    "business_id": business_id if valid_business else "invalid",
                    "reason": RefusalReason.TOKEN.value,
                },
            )
            self._end(EndReason.INVALID_TOKEN, CloseCode.POLICY_VIOLATION, "invalid call token")
            return False
        if not valid_business:
            self._end(
                EndReason.PROTOCOL_ERROR,
                CloseCode.PROTOCOL_ERROR,
                "customParameters.business_id must be 1-64 letters, digits, '-' or '_'",
            )
            return False
        self._start = start
        self._business_id = business_id
        self._started_at = self._last_media = trio.current_time()
        self._last_seq = start.sequence_number
        self._stats.calls_started += 1
        settings = self._settings
        if settings.record_calls:
            self._recording = Recording(settings.recordings_dir / f"{start.call_sid}.wav")
        if settings.capture_dir is not None:
            self._capture = Capture(
                settings.capture_dir / f"{start.call_sid}.jsonl",
                {
                    "kind": "session",
                    "version": 1,
                    "name": start.call_sid,
                    "description": f"captured by {settings.instance_id}",
                    "custom_parameters": {
                        k: v for k, v in params.items() if k != TOKEN_PARAMETER
                    },
                },
            )
            for t_ms, raw in self._early:
                self._capture.add(t_ms, raw)
        self._early = []
        self._reporter.call_started(
            LiveCall(start.call_sid, start.stream_sid, business_id, self._opened_wall)
        )
        self._reporter.publish(
            "call_started",
            {"call_sid": start.call_sid, "business_id": business_id, "instance": settings.instance_id},
        )
        self._log.info("call started business_id=%s brain=%s", business_id, self._brain.name)
        return True

    # --- phase 2: the four tasks ------------------------------------------------------------

    async def _receive_loop(self) -> None:
        try:
            await self._receive_frames()
        except ConnectionClosed as exc:  # a send (pacing) found the socket closed
            self._closed_by_peer(exc)

    async def _receive_frames(self) -> None:
        ws = self._ws
        send = self._inbound_tx.send
        on_media = self._brain.on_media
        command_nowait = self._commands_tx.send_nowait
        lag = self._stats.inbound_lag
        clock = trio.current_time
        capture = self._capture
        recording = self._recording
        while True:
            try:
                raw = await ws.get_message()
            except ConnectionClosed as exc:
                self._closed_by_peer(exc)
                return
            if type(raw) is not str:
                self._end(EndReason.BINARY_FRAME, CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted")
                return
            now = clock()
            if capture is not None:
                capture.add((now - self._opened_at) * 1000, raw)
            try:
                event = decode(raw)
            except ProtocolError as exc:
                self._end(EndReason.PROTOCOL_ERROR, CloseCode(exc.code), exc.reason)
                return
            if type(event) is MediaReceived:  # hot path: keep it tiny
                self._last_media = now
                seq = event.sequence_number
                if seq != self._last_seq + 1:
                    self._seq_gaps += 1
                self._last_seq = seq
                # Lag behind the caller's clock: arrival minus media timestamp, relative to
                # the earliest frame seen (which defines "on time").
                offset = now - event.timestamp_ms * 0.001
                if offset < self._clock_base:
                    self._clock_base = offset
                lag.add((offset - self._clock_base) * 1000.0)
                self._frames_in += 1
                if recording is not None:
                    recording.inbound(event.ulaw)
                for command in on_media(event):
                    try:
                        command_nowait(command)
                    except trio.WouldBlock:  # the send task is behind: wait, never drop
                        await self._commands_tx.send(command)
                if self._next_due <= now:  # pace outbound audio off Twilio's 20 ms clock
                    await self._flush_due()
                continue
            if type(event) is UnknownEvent:
                self._unknown_events += 1
                continue
            seq = getattr(event, "sequence_number", self._last_seq + 1)
            if seq != self._last_seq + 1:
                self._seq_gaps += 1
            self._last_seq = seq
            if type(event) is StreamStopped:
                self._end(EndReason.STOPPED, CloseCode.NORMAL, "stream stopped")
                return
            if type(event) is StreamStarted:
                self._end(EndReason.UNEXPECTED_EVENT, CloseCode.UNEXPECTED_EVENT, "second start event")
                return
            if type(event) is MarkReached:
                sent = self._marks_sent.pop(event.name, None)
                if sent is not None and len(self._mark_rtts) < 10_000:
                    self._mark_rtts.append((now - sent) * 1000)
            elif type(event) is DtmfReceived:
                self._dtmf.append(
                    {"digit": event.digit, "at_ms": round((now - self._started_at) * 1000)}
                )
            if type(event) is not StreamConnected:
                await send(event)  # control events are never dropped

    async def _send_loop(self) -> None:
        """Brain commands → Twilio, at once; the fallback pacer when inbound audio stops.

        Outbound audio is normally released by the receive task, right after an inbound
        frame (Twilio sends one every 20 ms, a free clock: no extra wake-ups). This task
        waits for commands under a deadline that the receive task keeps pushing back while
        it paces; the deadline only fires when inbound frames stop arriving.
        """
        commands = self._commands_rx
        try:
            while True:
                if self._hangup is not None:
                    await self._finish_speaking()
                    return
                command: Command | None = None
                with trio.CancelScope(deadline=self._next_due + FALLBACK_SLACK) as scope:
                    self._fallback = scope
                    command = await commands.receive()
                self._fallback = None
                if command is None:
                    await self._flush_due()
                elif type(command) is SendAudio:
                    self._pacer.push_audio(command.ulaw)
                    await self._flush_due()
                elif type(command) is SendMark:
                    self._pacer.push_mark(command.name)
                    await self._flush_due()
                elif type(command) is ClearPlayback:
                    await self._clear()
                elif type(command) is HangUp:
                    self._hangup = command.reason
        except ConnectionClosed as exc:
            self._closed_by_peer(exc)

    async def _flush_due(self) -> None:
        """Send every audio chunk and mark the pacer has due now, in order."""
        assert self._start is not None
        sid = self._start.stream_sid
        lock = self._send_lock
        if lock.locked():
            await lock.acquire()
        else:  # the rule: skip the scheduler trip of `async with` (the sends checkpoint)
            lock.acquire_nowait()
        try:
            now = trio.current_time()
            for item in self._pacer.pop_due(now):
                if item.audio is not None:
                    await self._ws.send_message(encode_media(sid, item.audio))
                    if self._recording is not None:
                        self._recording.outbound(item.audio)
                else:
                    assert item.mark is not None
                    self._marks_sent[item.mark] = trio.current_time()
                    await self._ws.send_message(encode_mark(sid, item.mark))
            self._next_due = self._pacer.next_due(now)
        finally:
            lock.release()
        if self._fallback is not None:
            self._fallback.deadline = self._next_due + FALLBACK_SLACK

    async def _clear(self) -> None:
        """Barge-in: drop our queued audio and Twilio's, now."""
        assert self._start is not None
        async with self._send_lock:
            for name in self._pacer.clear(trio.current_time()):
                self._marks_sent.pop(name, None)
            self._next_due = math.inf
            if self._recording is not None:
                self._recording.cleared()
            await self._ws.send_message(encode_clear(self._start.stream_sid))
        self._barge_ins += 1
        self._reporter.publish(
            "barge_in", {"call_sid": self._start.call_sid, "business_id": self._business_id}
        )

    async def _finish_speaking(self) -> None:
        """After ``HangUp``: send what is queued on our own clock, let it play, then end."""
        while not self._pacer.idle:
            await trio.sleep_until(self._pacer.next_due(trio.current_time()))
            await self._flush_due()
        await trio.sleep_until(self._pacer.playout_end)
        self._end(EndReason.HANGUP, CloseCode.NORMAL, self._hangup or "hangup")

    async def _brain_loop(self) -> None:
        assert self._start is not None
        start = self._start
        info = CallInfo(start.call_sid, start.stream_sid, self._business_id, start.custom_parameters)
        await self._brain.run(info, self._inbound_rx, self._commands_tx)
        # The brain is done: hang up once what it said has been played.
        await self._commands_tx.send(HangUp("brain finished"))
        await trio.sleep_forever()

    async def _report_loop(self) -> None:
        settings = self._settings
        while True:
            await trio.sleep(REPORT_INTERVAL)
            now = trio.current_time()
            if now - self._last_media > settings.inbound_silence_seconds:
                self._end(
                    EndReason.INBOUND_SILENCE,
                    CloseCode.INBOUND_SILENCE,
                    f"no inbound audio for {settings.inbound_silence_seconds:g} s",
                )
                return
            if now - self._started_at > settings.max_call_seconds:
                self._end(
                    EndReason.MAX_DURATION,
                    CloseCode.MAX_DURATION,
                    f"call longer than {settings.max_call_seconds:g} s",
                )
                return
            if self._recording is not None:
                await self._recording.flush()
            if self._capture is not None:
                await self._capture.flush()

    # --- ending -----------------------------------------------------------------------------

    def _end(self, reason: EndReason, code: CloseCode, text: str) -> None:
        if self._end_reason is None:
            self._end_reason = reason
            self._close_code = code
            self._close_text = text
        if self._scope is not None:
            self._scope.cancel()

    def _closed_by_peer(self, exc: ConnectionClosed) -> None:
        code = exc.reason.code if exc.reason is not None else None
        if code == CloseCode.MESSAGE_TOO_BIG:
            self._end(EndReason.MESSAGE_TOO_BIG, CloseCode.MESSAGE_TOO_BIG, "message too big")
        else:
            self._end(EndReason.REMOTE_CLOSED, CloseCode.NORMAL, "closed by peer")

    async def _cleanup(self) -> None:
        if self._end_reason is None:
            self._end_reason = EndReason.SHUTDOWN
            self._close_code = CloseCode.GOING_AWAY
            self._close_text = "server shutting down"
        reason = self._end_reason
        with trio.move_on_after(CLOSE_TIMEOUT):
            await self._ws.aclose(int(self._close_code), _truncate(self._close_text))
        self._stats.end_reasons[reason.value] += 1
        self._stats.frames_in += self._frames_in
        self._stats.barge_ins += self._barge_ins
        if self._start is None:
            self._log.info(
                "stream closed before start: %s (%d %s)",
                reason.value,
                self._close_code,
                self._close_text,
            )
            return
        duration = trio.current_time() - self._started_at
        if self._recording is not None:
            await self._recording.close()
        if self._capture is not None:
            await self._capture.flush()
        self._reporter.call_ended(self._start.call_sid)
        self._reporter.publish(
            "call_ended",
            {
                "call_sid": self._start.call_sid,
                "business_id": self._business_id,
                "reason": reason.value,
                "duration_ms": str(round(duration * 1000)),
            },
        )
        outcome = await self._reporter.finalize(self._record(duration))
        self._log.info(
            "call ended reason=%s code=%d (%s) duration=%.1fs frames_in=%d barge_ins=%d record=%s",
            reason.value,
            self._close_code,
            self._close_text,
            duration,
            self._frames_in,
            self._barge_ins,
            outcome,
        )

    def _record(self, duration: float) -> dict[str, Any]:
        """The call record (``contracts.call_record``), as the JSON object finalize_call reads."""
        assert self._start is not None and self._end_reason is not None
        start = self._start
        params = start.custom_parameters
        summary = self._brain.summary()
        rtts = sorted(self._mark_rtts)
        direction = params.get("direction", "inbound")
        record = CallRecord(
            call_sid=start.call_sid,
            stream_sid=start.stream_sid,
            account_sid=start.account_sid,
            business_id=self._business_id,
            direction=Direction(direction) if direction in tuple(Direction) else Direction.INBOUND,
            caller=params.get("from") or params.get("From"),
            called=params.get("to") or params.get("To"),
            started_at=_iso(self._opened_wall),
            ended_at=_iso(self._opened_wall + (trio.current_time() - self._opened_at)),
            duration_seconds=round(duration, 3),
            end_reason=self._end_reason.value,
            close_code=int(self._close_code),
            dtmf=tuple(DtmfPress(d["digit"], d["at_ms"]) for d in self._dtmf),
            transcript=tuple(summary.pop("transcript", [])),
            brain=self._brain.name,
            brain_summary=summary,
            recording_path=str(self._recording.path) if self._recording else None,
            capture_path=str(self._capture.path) if self._capture else None,
            instance=self._settings.instance_id,
            metrics={
                "frames_in": self._frames_in,
                "sequence_gaps": self._seq_gaps,
                "unknown_events": self._unknown_events,
                "audio_out_ms": self._pacer.sent_bytes // 8,
                "barge_ins": self._barge_ins,
                "marks_echoed": len(rtts),
                "mark_rtt_ms_p50": round(rtts[len(rtts) // 2], 1) if rtts else None,
                "mark_rtt_ms_max": round(rtts[-1], 1) if rtts else None,
            },
        )
        return record.to_dict()

def _event_name(event: InboundEvent) -> str:
    return {MediaReceived: "media", DtmfReceived: "dtmf", MarkReached: "mark"}.get(
        type(event), type(event).__name__
    )


def _truncate(text: str) -> str:
    data = text.encode()[:MAX_REASON_BYTES]
    return data.decode("utf-8", "ignore")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
