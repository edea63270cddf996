"""``CallActor``: one phone call, as a nursery of four named tasks.

- ``recv``   drains the WebSocket continuously and decodes; each audio frame goes straight to
             the brain's quick ``on_media`` hook, control events go to the brain task through
             a small bounded channel (``actor.inbound``).
- ``send``   turns brain commands into Twilio messages at once (``clear`` and marks never
             wait behind audio). Audio is paced by ``Pacer`` to keep Twilio's buffer a little
             ahead, released on Twilio's own 20 ms inbound clock by ``recv``; ``send`` takes
             over pacing only if inbound frames stop (``actor.outbound``).
- ``brain``  whatever talks to the caller (``brains.base.Brain``).
- ``report`` watches the silence and length deadlines (``actor.deadlines``) and flushes
             the recording and capture (``actor.files``).

Before those, phase 1 (``actor.opening``) waits for Twilio's ``start`` and checks it; a
CallSid already live in this process is refused (a copied handshake: Twilio never sends it),
as is one whose call already ended (here, or on any instance per ``calls:ended:{sid}``: a
replayed webhook answer), and a start that finds every call slot taken.
The first task to finish ends the call (it records an end reason and cancels the nursery).
Cleanup is shielded and time-boxed: close the socket with a code and reason, finish files,
report the end and hand the call record to ``jobs.calls.finalize_call``.

The actor talks to Twilio through a ``CallTransport`` and reads time only from
``trio.current_time()`` (wall-clock time goes into the record's timestamps alone), so tests
run it over memory streams under ``autojump_clock``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, final

import trio
from trio_websocket import ConnectionClosed

from callengine.actor.deadlines import deadline_ending
from callengine.actor.files import Capture, Recording, open_call_files
from callengine.actor.inbound import Inbound
from callengine.actor.opening import await_start, check_start
from callengine.actor.outbound import PACING_SLACK, Outbound
from callengine.actor.pacer import Pacer
from callengine.actor.transport import Ending, close_reason, peer_closed
from callengine.brains.base import CallInfo
from callengine.events import (
    CloseCode,
    Command,
    EndReason,
    HangUp,
    InboundEvent,
    RefusalReason,
    StreamStarted,
)
from callengine.logs import CallLogger
from callengine.reporting.base import LiveCall
from contracts.call_record import CallRecord, DtmfPress
from contracts.call_setup import Direction

if TYPE_CHECKING:
    from callengine.actor.transport import CallTransport
    from callengine.admission import Admission, Ticket
    from callengine.brains.base import Brain
    from callengine.reporting.base import Reporter
    from callengine.settings import Settings
    from callengine.stats import EngineStats
    from contracts.browser_access import AccessGrant

__all__ = ["CallActor"]

log = logging.getLogger(__name__)

CLEANUP_TIMEOUT = 5.0  # close + files + finalize; a dead peer or Redis cannot hold a slot
CLOSE_TIMEOUT = 2.0
INBOUND_BUFFER = 16  # control events (DTMF, marks): tiny, and never dropped
COMMAND_BUFFER = 16
REPORT_INTERVAL = 1.0


@final
class CallActor:
    def __init__(
        self,
        ws: CallTransport,
        *,
        settings: Settings,
        brain: Brain,
        reporter: Reporter,
        admission: Admission,
        ticket: Ticket,
        stats: EngineStats,
        grant: AccessGrant | None = None,
    ) -> None:
        self._ws = ws
        self._grant = grant  # a browser test call's verified access (/ws/browser), else None
        self._settings = settings
        self._brain = brain
        self._reporter = reporter
        self._admission = admission
        self._ticket = ticket  # a pending slot until the start is accepted (the server releases it)
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
        self._mark_rtts: list[float] = []
        self._barge_ins = 0
        self._recording: Recording | None = None
        self._capture: Capture | None = None
        self._early: list[tuple[float, str]] = []  # raw messages before start, for capture
        self._inbound_tx, self._inbound_rx = trio.open_memory_channel[InboundEvent](
            INBOUND_BUFFER
        )
        self._commands_tx, self._commands_rx = trio.open_memory_channel[Command](COMMAND_BUFFER)
        self._pacer = Pacer(
            chunk_bytes=settings.outbound_chunk_ms * 8,
            lead_seconds=settings.outbound_lead_ms / 1000,
            slack_seconds=PACING_SLACK,
        )
        self._outbound = Outbound(
            ws, self._pacer, mark_rtts=self._mark_rtts, on_clear=self._barged_in
        )
        self._inbound = Inbound(
            ws,
            on_media=brain.on_media,
            control=self._inbound_tx,
            commands=self._commands_tx,
            outbound=self._outbound,
            lag=stats.inbound_lag,
            opened_at=self._opened_at,
        )

    # The inbound counters, under the names the call record reads them by.
    @property
    def _frames_in(self) -> int:
        return self._inbound.frames_in

    @property
    def _seq_gaps(self) -> int:
        return self._inbound.seq_gaps

    @property
    def _unknown_events(self) -> int:
        return self._inbound.unknown_events

    @property
    def _dtmf(self) -> list[dict[str, Any]]:
        return self._inbound.dtmf

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
            start: StreamStarted | Ending | None = None
            with trio.CancelScope() as self._scope:  # so shutdown() can end phase 1 too
                start = await await_start(
                    self._ws,
                    timeout=self._settings.start_timeout_seconds,
                    opened_at=self._opened_at,
                    early=self._early,
                )
            self._scope = None
            if type(start) is Ending:
                self._end(*start)
            if type(start) is not StreamStarted or self._end_reason is not None:
                return
            if not await self._accept_start(start):
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
                try:
                    await self._cleanup()
                finally:  # after the record: a copy cannot race the real call's finalize
                    if self._start is not None:  # only an accepted start claimed its CallSid
                        self._admission.release_call_sid(self._start.call_sid, ended=True)
            if scope.cancelled_caught:
                self._log.warning("call cleanup timed out after %.0f s", CLEANUP_TIMEOUT)

    async def _accept_start(self, start: StreamStarted) -> bool:
        """Check the start (token, ended or live CallSid, a call slot); refuse it or begin."""
        secret = self._settings.internal_secret
        self._log.bind(call_sid=start.call_sid, stream_sid=start.stream_sid)
        check = check_start(start, secret.reveal() if secret else None, self._grant)
        if check.ending is not None:
            if check.refusal is not None:
                self._refuse(start, check.business_id, check.refusal)
            self._end(*check.ending)
            return False
        business_id = check.business_id
        sid = start.call_sid
        # A replayed webhook answer carries a valid token for a call that is over: refuse it
        # (here first, then on any instance: at most ENDED_CHECK_TIMEOUT_SECONDS, once a call).
        if self._admission.has_ended(sid) or await self._reporter.has_ended(sid):
            self._refuse(start, business_id, RefusalReason.ENDED)
            self._end(EndReason.ALREADY_ENDED, CloseCode.CALL_ENDED, "call already ended")
            return False
        if not self._admission.claim_call_sid(start.call_sid):
            self._refuse(start, business_id, RefusalReason.DUPLICATE)
            self._end(EndReason.DUPLICATE_CALL, CloseCode.DUPLICATE_CALL, "call already live")
            return False
        if not self._admission.start_nowait(self._ticket, start.call_sid):
            self._admission.release_call_sid(start.call_sid)
            self._refuse(start, business_id, RefusalReason.FULL)
            self._end(EndReason.FULL, CloseCode.TRY_AGAIN_LATER, "calls service full")
            return False
        self._start = start
        self._business_id = business_id
        self._started_at = trio.current_time()
        self._stats.calls_started += 1
        settings = self._settings
        self._recording, self._capture = open_call_files(settings, start, self._early)
        self._early = []
        self._inbound.begin(start, self._started_at, self._recording, self._capture)
        self._outbound.begin(start.stream_sid, self._recording)
        self._reporter.call_started(
            LiveCall(start.call_sid, start.stream_sid, business_id, self._opened_wall)
        )
        self._reporter.publish(
            "call_started",
            {"call_sid": start.call_sid, "business_id": business_id, "instance": settings.instance_id},
        )
        self._log.info("call started business_id=%s brain=%s", business_id, self._brain.name)
        return True

    def _refuse(self, start: StreamStarted, business_id: str, reason: RefusalReason) -> None:
        """Count and report a refused ``start`` (it never becomes a call: no record)."""
        self._admission.count_refusal(reason)
        self._reporter.publish(
            "rejected",
            {"call_sid": start.call_sid, "business_id": business_id, "reason": reason.value},
        )

    # --- phase 2: the four tasks ------------------------------------------------------------

    async def _receive_loop(self) -> None:
        """Messages → the brain (``Inbound.run``); ends the call as the stream ends."""
        try:
            ending = await self._inbound.run()
        except ConnectionClosed as exc:  # a send (pacing) found the socket closed
            ending = peer_closed(exc)
        self._end(*ending)

    async def _send_loop(self) -> None:
        """Brain commands → Twilio (``Outbound.run``); ends the call once a hang-up played."""
        try:
            reason = await self._outbound.run(self._commands_rx)
        except ConnectionClosed as exc:
            self._end(*peer_closed(exc))
            return
        self._end(EndReason.HANGUP, CloseCode.NORMAL, reason)

    def _barged_in(self) -> None:
        assert self._start is not None
        self._barge_ins += 1
        self._reporter.publish(
            "barge_in", {"call_sid": self._start.call_sid, "business_id": self._business_id}
        )

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
            ending = deadline_ending(
                trio.current_time(),
                last_media=self._inbound.last_media,
                started_at=self._started_at,
                silence_seconds=settings.inbound_silence_seconds,
                max_seconds=settings.max_call_seconds,
            )
            if ending is not None:
                self._end(*ending)
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

    async def _cleanup(self) -> None:
        if self._end_reason is None:
            self._end_reason = EndReason.SHUTDOWN
            self._close_code = CloseCode.GOING_AWAY
            self._close_text = "server shutting down"
        reason = self._end_reason
        with trio.move_on_after(CLOSE_TIMEOUT):
            await self._ws.aclose(int(self._close_code), close_reason(self._close_text))
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
            test=self._grant is not None,
        )
        return record.to_dict()

def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
