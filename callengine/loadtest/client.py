"""One fake Twilio call over a raw trio TCP stream (the harness's hot path).

Per call three tasks share one socket through a lock: the **sender** (inbound frames on absolute
20 ms deadlines with ``trio.sleep_until``), the **receiver** (parses server frames by header and
``bytes.find``, feeds the playback model, answers pings, notices close) and the **mark echoer**
(sends each mark echo when the audio queued before it has played). Nothing here builds JSON per
frame: frames come pre-built from :mod:`~callengine.loadtest.plan`.
"""

from __future__ import annotations

import base64
import logging
import os
from typing import TYPE_CHECKING, Final, Protocol

import trio

from callengine.loadtest.errors import WebSocketProtocolError
from callengine.loadtest.metrics import CallMetrics, ClosedBy, Outcome
from callengine.loadtest.plan import KIND_MEDIA, CallIds, SessionPlan
from callengine.loadtest.playback import PlaybackModel
from callengine.loadtest.sniff import EV_CLEAR, EV_MARK, EV_MEDIA, event_of, mark_name, payload_bytes
from callengine.loadtest.wsframes import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    accept_key,
    build_upgrade_request,
    client_frame,
    close_payload,
    parse_close_payload,
    parse_response_head,
    text_frame_header,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from callengine.loadtest.twiml import Endpoint

__all__ = ["CallTracker", "FakeTwilioCall"]

logger = logging.getLogger(__name__)

TWILIO_SUBPROTOCOL: Final = "audio.twilio.com"
# Upper bound on the upgrade response head; anything longer is not a sane server.
_MAX_HEAD_BYTES: Final = 16 * 1024
_RECV_BYTES: Final = 65536


class CallTracker(Protocol):
    """Callbacks the runner uses to follow calls (steady window, progress)."""

    def call_resolved(self) -> None:
        """The handshake finished, successfully or not."""

    def call_up(self) -> None:
        """The WebSocket is open and ``start`` was sent."""

    def call_down(self) -> None:
        """A call that was up has ended."""


class FakeTwilioCall:
    """Plays Twilio's side of one Media Streams call.

    Args:
        metrics: Where measurements go.
        plan: Pre-built frames of the session to replay.
        ids: This call's SIDs.
        endpoint: Where to connect.
        headers: Extra upgrade headers (``X-Twilio-Signature``).
        custom_parameters: ``start.customParameters``.
        tracker: Runner callbacks.
        connect_timeout_s: TCP connect + upgrade deadline.
        close_timeout_s: Wait for the server's close reply this long.
        barge_in_timeout_s: A barge-in without ``clear`` within this counts as missed.
        media_phase_s: Media clock origin after ``start`` (0-20 ms): spreads the 20 ms
            deadlines of concurrent calls the way independent Twilio streams are spread.
    """

    def __init__(
        self,
        *,
        metrics: CallMetrics,
        plan: SessionPlan,
        ids: CallIds,
        endpoint: Endpoint,
        headers: Mapping[str, str],
        custom_parameters: Mapping[str, str],
        tracker: CallTracker,
        connect_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        barge_in_timeout_s: float = 2.0,
        media_phase_s: float = 0.0,
    ) -> None:
        self.metrics = metrics
        self._plan = plan
        self._ids = ids
        self._endpoint = endpoint
        self._headers = dict(headers)
        self._params = dict(custom_parameters)
        self._tracker = tracker
        self._connect_timeout = connect_timeout_s
        self._close_timeout = close_timeout_s
        self._barge_timeout = barge_in_timeout_s
        self._phase = media_phase_s
        self._sid = ids.stream_sid.encode("ascii")
        self._mark_head = b'{"event":"mark","sequenceNumber":"'
        self._mark_mid = b'","streamSid":"' + self._sid + b'","mark":{"name":"'
        self._mark_tail = b'"}}'
        self._playback = PlaybackModel()
        self._lock = trio.Lock()
        self._wake = trio.Event()
        self._closed = trio.Event()
        self._stream: trio.SocketStream | None = None
        self._seq = 0
        self._stop_sent = False
        self._closing = False  # our close frame is out: no further frames may be sent
        self._barge_at: float | None = None
        self._resolved = False
        self._up = False

    async def run(self) -> None:
        """Run the call to completion, recording everything in :attr:`metrics`.

        Never raises for call-level problems (they become ``failed``/``refused`` outcomes);
        cancellation propagates.
        """
        m = self.metrics
        try:
            await self._run()
        except trio.TooSlowError:
            self._fail("timeout during connect/upgrade")
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self._fail(f"connection error: {type(exc).__name__}: {exc}")
        except WebSocketProtocolError as exc:
            self._fail(f"protocol error: {exc}")
        except Exception as exc:  # the call boundary: one broken call must not end the run
            logger.exception("call %s crashed", self._ids.call_sid)
            self._fail(f"harness error: {type(exc).__name__}: {exc}")
        finally:
            if m.started_at is not None and m.ended_at is None:
                m.ended_at = trio.current_time()
            self._resolve()
            if self._up:
                self._tracker.call_down()

    def _resolve(self) -> None:
        if not self._resolved:
            self._resolved = True
            self._tracker.call_resolved()

    def _fail(self, reason: str) -> None:
        m = self.metrics
        if m.outcome in (Outcome.FAILED, Outcome.REFUSED):
            return
        m.outcome = Outcome.FAILED
        m.fail_reason = reason

    async def _run(self) -> None:
        ep = self._endpoint
        m = self.metrics
        t0 = trio.current_time()
        with trio.fail_after(self._connect_timeout):
            stream = await trio.open_tcp_stream(ep.host, ep.port)
        async with stream:
            with trio.fail_after(max(0.0, t0 + self._connect_timeout - trio.current_time())):
                rest = await self._handshake(stream)
            if rest is None:
                return
            m.connect_ms = (trio.current_time() - t0) * 1000.0
            m.outcome = Outcome.CONNECTED
            self._stream = stream
            start = self._plan.start_frame(self._ids, self._params)
            self._seq = 1
            await stream.send_all(self._plan.connected_frame + start)
            t_start = trio.current_time()
            m.started_at = t_start
            m.messages_sent += 2
            self._up = True
            self._tracker.call_up()
            self._resolve()
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._receive_loop, rest, nursery.cancel_scope, name=f"loadtest:{m.index}:recv")
                    nursery.start_soon(self._mark_loop, name=f"loadtest:{m.index}:marks")
                    await self._send_loop(t_start + self._phase)
                    with trio.move_on_after(self._close_timeout):
                        await self._closed.wait()
                    if not self._closed.is_set() and m.close_reason is None:
                        m.close_reason = "no close reply from server"
                    nursery.cancel_scope.cancel()
            except* (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as group:
                exc = group.exceptions[0]
                self._fail(f"connection error: {type(exc).__name__}: {exc}")
            if m.outcome == Outcome.CONNECTED:
                m.outcome = Outcome.COMPLETED

    async def _handshake(self, stream: trio.SocketStream) -> bytes | None:
        """Send the upgrade; return bytes received after the head, or None when refused."""
        ep = self._endpoint
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        await stream.send_all(
            build_upgrade_request(
                ep.host_header, ep.path, key, subprotocols=(TWILIO_SUBPROTOCOL,), extra_headers=self._headers
            )
        )
        buf = bytearray()
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buf) > _MAX_HEAD_BYTES:
                raise WebSocketProtocolError("upgrade response head too large")
            data = await stream.receive_some(4096)
            if not data:
                raise WebSocketProtocolError("server closed the connection during the upgrade")
            buf += data
        resp = parse_response_head(bytes(buf[:end]))
        if resp.status != 101:
            m = self.metrics
            m.outcome = Outcome.REFUSED
            m.refused_status = resp.status
            m.refused_reason = f"HTTP {resp.status} {resp.reason}".strip()
            m.retry_after = resp.headers.get("retry-after")
            self._resolve()
            return None
        if resp.headers.get("sec-websocket-accept") != accept_key(key):
            raise WebSocketProtocolError("bad Sec-WebSocket-Accept")
        proto = resp.headers.get("sec-websocket-protocol")
        if proto is not None and proto != TWILIO_SUBPROTOCOL:
            raise WebSocketProtocolError(f"server chose unknown subprotocol {proto!r}")
        return bytes(buf[end + 4 :])

    # ---------------------------------------------------------------- sending

    async def _send_loop(self, t_media: float) -> None:
        m = self.metrics
        stream = self._stream
        assert stream is not None
        lock = self._lock
        sid = self._sid
        lateness = m.lateness_ms
        sleep_until = trio.sleep_until
        current_time = trio.current_time
        for offset, kind, template, _voiced, onset in self._plan.steps:
            deadline = t_media + offset
            await sleep_until(deadline)
            async with lock:
                now = current_time()
                self._seq += 1
                await stream.send_all(template.frame(b"%d" % self._seq, sid))
            lateness.append((now - deadline) * 1000.0)
            m.messages_sent += 1
            if kind == KIND_MEDIA:
                m.media_sent += 1
                if onset:
                    self._on_onset(now)
            else:
                m.dtmf_sent += 1
        await sleep_until(t_media + self._plan.stop_offset_s)
        stop = self._plan.stop_template(self._ids)
        async with lock:
            now = current_time()
            self._seq += 1
            data = stop.frame(b"%d" % self._seq, sid) + client_frame(close_payload(1000), OP_CLOSE)
            self._stop_sent = True
            self._closing = True
            await stream.send_all(data)
        m.messages_sent += 1
        m.ended_at = now
        self._expire_barge_in(now, final=True)

    def _on_onset(self, now: float) -> None:
        m = self.metrics
        m.onsets += 1
        self._expire_barge_in(now)
        if self._playback.playing(now):
            m.onsets_during_playback += 1
            if self._barge_at is None:
                self._barge_at = now

    def _expire_barge_in(self, now: float, *, final: bool = False) -> None:
        at = self._barge_at
        if at is not None and now - at > self._barge_timeout:
            self.metrics.barge_in_missed += 1
            self._barge_at = None
        elif final:
            self._barge_at = None  # the call ended before the barge-in window closed

    async def _mark_loop(self) -> None:
        playback = self._playback
        m = self.metrics
        stream = self._stream
        assert stream is not None
        while True:
            if self._wake.is_set():
                self._wake = trio.Event()
            due = playback.next_due()
            if due is None:
                await self._wake.wait()
                continue
            if due > trio.current_time():
                with trio.move_on_at(due):
                    await self._wake.wait()
                continue
            async with self._lock:
                now = trio.current_time()
                ready = playback.pop_due(now)
                if not ready or self._closing:
                    continue
                frames = []
                for mk in ready:
                    self._seq += 1
                    body = b"".join((self._mark_head, b"%d" % self._seq, self._mark_mid, mk.name, self._mark_tail))
                    frames.append(text_frame_header(len(body)))
                    frames.append(body)
                await stream.send_all(b"".join(frames))
            for mk in ready:
                m.mark_hold_ms.append((now - mk.arrived_at) * 1000.0)
            m.marks_echoed += len(ready)
            m.messages_sent += len(ready)

    # -------------------------------------------------------------- receiving

    async def _receive_loop(self, initial: bytes, scope: trio.CancelScope) -> None:
        stream = self._stream
        assert stream is not None
        m = self.metrics
        reader = FrameReader()
        try:
            data = initial
            while True:
                if data:
                    now = trio.current_time()
                    for opcode, payload in reader.feed(data):
                        if opcode == OP_TEXT:
                            self._on_text(payload, now)
                        elif opcode == OP_PING:
                            m.pings += 1
                            await self._send_control(client_frame(payload, OP_PONG))
                        elif opcode == OP_CLOSE:
                            await self._on_close(payload, scope)
                            return
                        elif opcode == OP_BINARY:
                            m.binary_in += 1  # Twilio rejects binary frames (error 31950)
                data = await stream.receive_some(_RECV_BYTES)
                if not data:
                    if not self._closing:
                        self._fail("connection closed without a close frame")
                        scope.cancel()
                    self._closed.set()
                    return
        except WebSocketProtocolError as exc:
            self._fail(f"protocol error: {exc}")
            m.closed_by, m.close_code = ClosedBy.HARNESS, 1002
            with trio.move_on_after(0.5):
                await self._send_control(client_frame(close_payload(1002, "protocol error"), OP_CLOSE), closing=True)
            scope.cancel()
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            if not self._closing:
                self._fail(f"connection error: {type(exc).__name__}: {exc}")
                scope.cancel()
            self._closed.set()

    async def _send_control(self, frame: bytes, *, closing: bool = False) -> None:
        stream = self._stream
        assert stream is not None
        async with self._lock:
            if self._closing:
                return
            if closing:
                self._closing = True
            await stream.send_all(frame)

    async def _on_close(self, payload: bytes, scope: trio.CancelScope) -> None:
        m = self.metrics
        code, reason = parse_close_payload(payload)
        m.close_code, m.close_reason = code, reason
        if self._closing:
            m.closed_by = ClosedBy.HARNESS
        else:
            m.closed_by = ClosedBy.SERVER
            with trio.move_on_after(0.5):
                await self._send_control(client_frame(payload[:2], OP_CLOSE), closing=True)
            if not self._stop_sent:
                if code == 1000:  # the agent hung up: a normal end for a phone call
                    m.outcome = Outcome.HUNG_UP
                else:
                    self._fail("server closed the stream early")
                scope.cancel()
        self._closed.set()

    def _on_text(self, payload: bytes, now: float) -> None:
        m = self.metrics
        if payload.find(self._sid) < 0:
            m.wrong_stream_sid += 1  # Twilio: warning 31951 for a wrong streamSid
        ev = event_of(payload)
        if ev == EV_MEDIA:
            n = payload_bytes(payload)
            if n < 0:
                m.unknown_in += 1
                return
            m.media_in += 1
            m.media_bytes += n
            arrival = self._playback.media(now, n)
            if arrival.pacing_error_s is not None:  # within an utterance (its first chunk always finds 0 lead)
                m.lead_ms.append(arrival.lead_s * 1000.0)
                m.pacing_ms.append(arrival.pacing_error_s * 1000.0)
            if arrival.underrun_s > 0.0:
                m.underruns += 1
                m.underrun_ms += arrival.underrun_s * 1000.0
            if m.first_audio_ms is None and m.started_at is not None:
                m.first_audio_ms = (now - m.started_at) * 1000.0
        elif ev == EV_MARK:
            name = mark_name(payload)
            if name is None:
                m.unknown_in += 1  # Twilio rejects a mark without mark.name
                return
            m.marks_in += 1
            self._playback.mark(now, name)
            self._wake.set()
        elif ev == EV_CLEAR:
            m.clears_in += 1
            self._playback.clear(now)
            self._wake.set()
            at = self._barge_at
            if at is not None:
                if now - at <= self._barge_timeout:
                    m.barge_in_ms.append((now - at) * 1000.0)
                else:
                    m.barge_in_missed += 1
                self._barge_at = None
        else:
            m.unknown_in += 1
