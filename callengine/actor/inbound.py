"""Inbound side of one call: the ``recv`` task and what it counts.

``Inbound.run`` drains the WebSocket continuously (trio-websocket stops answering pings when
its own queue is full) and decodes each message. An audio frame is the hot path (50 a second
per call, 300 calls per process): it is counted, recorded, handed to the brain's quick
``on_media`` hook (whose commands, e.g. a barge-in ``clear``, go straight to the send task)
and, when outbound audio is due, releases it (``Outbound.flush_due``: Twilio's 20 ms frames
are the pacing clock). Control events (DTMF, marks) go to the brain task through a small
bounded channel and are never dropped.

``run`` returns how the call ends (``stop``, a second ``start``, bad input, the peer
closing); it never ends the call itself: the actor does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, final

import trio
from trio_websocket import ConnectionClosed

from callengine.actor.transport import Ending, peer_closed
from callengine.errors import ProtocolError
from callengine.events import (
    CloseCode,
    DtmfReceived,
    EndReason,
    MarkReached,
    MediaReceived,
    StreamConnected,
    StreamStarted,
    StreamStopped,
    UnknownEvent,
)
from callengine.protocol.twilio_media import decode

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from callengine.actor.files import Capture, Recording
    from callengine.actor.outbound import Outbound
    from callengine.actor.transport import CallTransport
    from callengine.events import Command, InboundEvent
    from callengine.stats import LagHistogram

__all__ = ["Inbound"]


@final
class Inbound:
    """Reads one call's messages and keeps its inbound counters."""

    def __init__(
        self,
        transport: CallTransport,
        *,
        on_media: Callable[[MediaReceived], Sequence[Command]],
        control: trio.MemorySendChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
        outbound: Outbound,
        lag: LagHistogram,
        opened_at: float,
    ) -> None:
        """
        Args:
            transport: the call's WebSocket.
            on_media: the brain's per-frame hook.
            control: to the brain task (DTMF, marks, and whatever else is not audio).
            commands: to the send task (what ``on_media`` returns).
            outbound: released on inbound frames when due.
            lag: the engine's inbound lag statistics (ms behind the caller's clock).
            opened_at: when the socket opened (capture times are relative to it).
        """
        self._ws = transport
        self._on_media = on_media
        self._control = control
        self._commands = commands
        self._outbound = outbound
        self._lag = lag
        self._opened_at = opened_at
        self._started_at = opened_at
        self._clock_base = math.inf
        self._recording: Recording | None = None
        self._capture: Capture | None = None
        self.last_media = opened_at
        self.last_seq = 0
        self.seq_gaps = 0
        self.frames_in = 0
        self.unknown_events = 0
        self.dtmf: list[dict[str, Any]] = []

    def begin(
        self, start: StreamStarted, now: float, recording: Recording | None, capture: Capture | None
    ) -> None:
        """The call started at ``now`` with ``start``; frames go to these files, if any."""
        self._started_at = self.last_media = now
        self.last_seq = start.sequence_number
        self._recording = recording
        self._capture = capture

    async def run(self) -> Ending:
        """The ``recv`` task: read until the stream ends; returns how.

        Cancellation: stops at once (the actor ends the call).

        Raises:
            trio_websocket.ConnectionClosed: a send (pacing) found the socket closed.
        """
        ws = self._ws
        send = self._control.send
        on_media = self._on_media
        command_nowait = self._commands.send_nowait
        lag = self._lag
        clock = trio.current_time
        capture = self._capture
        recording = self._recording
        outbound = self._outbound
        while True:
            try:
                raw = await ws.get_message()
            except ConnectionClosed as exc:
                return peer_closed(exc)
            if type(raw) is not str:
                return Ending(EndReason.BINARY_FRAME, CloseCode.UNSUPPORTED_DATA, "binary frames are not accepted")
            now = clock()
            if capture is not None:
                capture.add((now - self._opened_at) * 1000, raw)
            try:
                event = decode(raw)
            except ProtocolError as exc:
                return Ending(EndReason.PROTOCOL_ERROR, CloseCode(exc.code), exc.reason)
            if type(event) is MediaReceived:  # hot path: keep it tiny
                self.last_media = now
                seq = event.sequence_number
                if seq != self.last_seq + 1:
                    self.seq_gaps += 1
                self.last_seq = seq
                # Lag behind the caller's clock: arrival minus media timestamp, relative to
                # the earliest frame seen (which defines "on time").
                offset = now - event.timestamp_ms * 0.001
                if offset < self._clock_base:
                    self._clock_base = offset
                lag.add((offset - self._clock_base) * 1000.0)
                self.frames_in += 1
                if recording is not None:
                    recording.inbound(event.ulaw)
                for command in on_media(event):
                    try:
                        command_nowait(command)
                    except trio.WouldBlock:  # the send task is behind: wait, never drop
                        await self._commands.send(command)
                if outbound.next_due <= now:  # pace outbound audio off Twilio's 20 ms clock
                    await outbound.flush_due()
                continue
            if type(event) is UnknownEvent:
                self.unknown_events += 1
                continue
            seq = getattr(event, "sequence_number", self.last_seq + 1)
            if seq != self.last_seq + 1:
                self.seq_gaps += 1
            self.last_seq = seq
            if type(event) is StreamStopped:
                return Ending(EndReason.STOPPED, CloseCode.NORMAL, "stream stopped")
            if type(event) is StreamStarted:
                return Ending(EndReason.UNEXPECTED_EVENT, CloseCode.UNEXPECTED_EVENT, "second start event")
            if type(event) is MarkReached:
                outbound.mark_reached(event.name, now)
            elif type(event) is DtmfReceived:
                self.dtmf.append(
                    {"digit": event.digit, "at_ms": round((now - self._started_at) * 1000)}
                )
            if type(event) is not StreamConnected:
                await send(event)  # control events are never dropped
