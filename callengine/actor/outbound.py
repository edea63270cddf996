"""Outbound audio of one call: the pacing state the ``recv`` and ``send`` tasks share.

``Pacer`` (pure) decides what is due; ``Outbound`` sends it, in order, whichever task gets
there first:

- normally the ``recv`` task, right after an inbound frame: Twilio sends one every 20 ms, a
  free clock that costs no extra wake-up (``if outbound.next_due <= now: flush_due()``);
- the ``send`` task (``run``) otherwise. It waits for the brain's commands under a deadline
  that every flush pushes back to ``next_due + FALLBACK_SLACK``, so the deadline only fires
  (and ``send`` paces on its own) when inbound frames stop arriving.

``clear`` (barge-in) and marks never wait behind audio. After ``HangUp`` the queued audio is
sent on our own clock and ``run`` returns once Twilio has played it.

All times come from ``trio.current_time()``, so tests drive them with ``autojump_clock``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, final

import trio

from callengine.events import ClearPlayback, Command, HangUp, SendAudio, SendMark
from callengine.protocol.twilio_media import encode_clear, encode_mark, encode_media

if TYPE_CHECKING:
    from collections.abc import Callable

    from callengine.actor.files import Recording
    from callengine.actor.pacer import Pacer
    from callengine.actor.transport import CallTransport

__all__ = ["FALLBACK_SLACK", "PACING_SLACK", "Outbound"]

# The send task paces only if no inbound frame arrived this long after audio fell due
# (normally the receive task paces on Twilio's 20 ms frames; the lead is 200 ms).
FALLBACK_SLACK = 0.06
PACING_SLACK = 0.01  # half of Twilio's 20 ms frame: see Pacer
MAX_MARK_RTTS = 10_000  # enough for a p50 and a max; a chatty brain cannot grow it


@final
class Outbound:
    """Sends one call's audio and marks as the pacer releases them; clears on barge-in."""

    def __init__(
        self,
        transport: CallTransport,
        pacer: Pacer,
        *,
        mark_rtts: list[float],
        on_clear: Callable[[], None],
    ) -> None:
        """
        Args:
            transport: the call's WebSocket.
            pacer: the queue; the actor reads ``sent_bytes`` from it for the record.
            mark_rtts: where each echoed mark's round trip (ms) is appended.
            on_clear: called after each ``clear`` went out (counts and reports the barge-in).
        """
        self._ws = transport
        self._pacer = pacer
        self._mark_rtts = mark_rtts
        self._on_clear = on_clear
        self._stream_sid = ""
        self._recording: Recording | None = None
        self._marks_sent: dict[str, float] = {}
        self._lock = trio.Lock()  # pop-and-send runs in order, whichever task does it
        self._fallback: trio.CancelScope | None = None  # the send task's wait, see run
        self._hangup: str | None = None
        self.next_due = math.inf  # when the pacer next has something to send

    def begin(self, stream_sid: str, recording: Recording | None) -> None:
        """Bind the stream (known once ``start`` arrived) and the recording, if any."""
        self._stream_sid = stream_sid
        self._recording = recording

    def mark_reached(self, name: str, now: float) -> None:
        """Twilio played up to mark ``name``: note its round trip."""
        sent = self._marks_sent.pop(name, None)
        if sent is not None and len(self._mark_rtts) < MAX_MARK_RTTS:
            self._mark_rtts.append((now - sent) * 1000)

    async def run(self, commands: trio.MemoryReceiveChannel[Command]) -> str:
        """The ``send`` task: brain commands → Twilio at once; the fallback pacer.

        Returns the hang-up reason once a ``HangUp`` came and the audio queued before it has
        been played. Cancellation: stops at once (nothing is left half-sent: the lock holder
        finishes its message or is cancelled with it).

        Raises:
            trio_websocket.ConnectionClosed: the socket closed under a send.
        """
        while True:
            if self._hangup is not None:
                await self._finish_speaking()
                return self._hangup or "hangup"
            command: Command | None = None
            with trio.CancelScope(deadline=self.next_due + FALLBACK_SLACK) as scope:
                self._fallback = scope
                command = await commands.receive()
            self._fallback = None
            if command is None:
                await self.flush_due()
            elif type(command) is SendAudio:
                self._pacer.push_audio(command.ulaw)
                await self.flush_due()
            elif type(command) is SendMark:
                self._pacer.push_mark(command.name)
                await self.flush_due()
            elif type(command) is ClearPlayback:
                await self._clear()
            elif type(command) is HangUp:
                self._hangup = command.reason

    async def flush_due(self) -> None:
        """Send every audio chunk and mark the pacer has due now, in order.

        Raises:
            trio_websocket.ConnectionClosed: the socket closed under a send.
        """
        sid = self._stream_sid
        lock = self._lock
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
            self.next_due = self._pacer.next_due(now)
        finally:
            lock.release()
        if self._fallback is not None:
            self._fallback.deadline = self.next_due + FALLBACK_SLACK

    async def _clear(self) -> None:
        """Barge-in: drop our queued audio and Twilio's, now."""
        async with self._lock:
            for name in self._pacer.clear(trio.current_time()):
                self._marks_sent.pop(name, None)
            self.next_due = math.inf
            if self._recording is not None:
                self._recording.cleared()
            await self._ws.send_message(encode_clear(self._stream_sid))
        self._on_clear()

    async def _finish_speaking(self) -> None:
        """After ``HangUp``: send what is queued on our own clock and let it play."""
        while not self._pacer.idle:
            await trio.sleep_until(self._pacer.next_due(trio.current_time()))
            await self.flush_due()
        await trio.sleep_until(self._pacer.playout_end)
