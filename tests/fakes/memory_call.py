"""A ``CallActor`` served over memory streams: the real WebSocket protocol, no socket.

``open_memory_call`` wraps the two ends of ``trio.testing.memory_stream_pair`` with
trio-websocket (server and client handshake as in production), runs a ``CallActor`` on the
server end and yields Twilio's end as a ``FakeTwilio``. Nothing reads a wall clock, so tests
run under ``autojump_clock``: a 20 s silence deadline takes no real time and its timing is
exact. ``replay`` plays a recorded session (``tests/fixtures/twilio/*.jsonl``) on its own
timeline, as Twilio sent it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio
import trio.testing
from trio_websocket import ConnectionClosed, wrap_client_stream, wrap_server_stream

from callengine.actor.call import CallActor
from callengine.admission import Admission
from callengine.brains import named_brain_factory
from callengine.server.serve import WS_MESSAGE_QUEUE
from callengine.stats import EngineStats
from tests.fakes.memory_reporter import InMemoryReporter
from tests.fakes.twilio_ws import FakeTwilio

if TYPE_CHECKING:
    from callengine.brains.base import Brain
    from callengine.loadtest.session import Session
    from callengine.settings import Settings

CLIENT_QUEUE = 10_000  # a test may leave the actor's audio unread


@dataclass
class MemoryCall:
    """One call in memory: Twilio's end, the actor, and what it reported."""

    twilio: FakeTwilio
    actor: CallActor
    reporter: InMemoryReporter
    admission: Admission
    stats: EngineStats
    ended: trio.Event = field(default_factory=trio.Event)

    async def closed(self) -> tuple[int | None, str | None, float]:
        """Read until the actor closes the socket: its close code, reason and the time."""
        try:
            while True:
                await self.twilio.ws.get_message()
        except ConnectionClosed as exc:
            at = trio.current_time()
            assert exc.reason is not None
            return exc.reason.code, exc.reason.reason, at


@asynccontextmanager
async def open_memory_call(
    settings: Settings,
    *,
    brain: Brain | None = None,
    reporter: InMemoryReporter | None = None,
    admission: Admission | None = None,
    call_sid: str = "CA" + "1" * 32,
    stream_sid: str = "MZ" + "1" * 32,
) -> AsyncIterator[MemoryCall]:
    """Run one ``CallActor`` over a memory stream pair until the block exits.

    The brain defaults to ``settings.brain`` built directly (not the per-business selection,
    which reads the call setup from Redis: real I/O has no place under a virtual clock).
    On exit the actor is left to finish its cleanup (bounded by its own timeouts).
    """
    server_stream, client_stream = trio.testing.memory_stream_pair()
    reporter = reporter if reporter is not None else InMemoryReporter()
    admission = (
        admission
        if admission is not None
        else Admission(settings.max_concurrent_calls, settings.max_pending_starts)
    )
    stats = EngineStats()
    ticket = admission.try_admit_nowait()  # as the server admits a handshake before its upgrade
    async with trio.open_nursery() as nursery:
        accepted: trio.MemorySendChannel[Any]
        accepted, accepted_rx = trio.open_memory_channel[Any](1)

        async def accept() -> None:
            request = await wrap_server_stream(
                nursery,
                server_stream,
                message_queue_size=WS_MESSAGE_QUEUE,  # as the server wraps its streams
                max_message_size=settings.max_message_bytes,
            )
            await accepted.send(await request.accept())

        nursery.start_soon(accept)
        client = await wrap_client_stream(
            nursery, client_stream, "calls.test", "/ws/twilio", message_queue_size=CLIENT_QUEUE
        )
        server_ws = await accepted_rx.receive()
        actor = CallActor(
            server_ws,
            settings=settings,
            brain=brain if brain is not None else named_brain_factory(settings, settings.brain)(),
            reporter=reporter,
            admission=admission,
            ticket=ticket,
            stats=stats,
        )
        call = MemoryCall(FakeTwilio(client, call_sid, stream_sid), actor, reporter, admission, stats)

        async def run_actor() -> None:
            try:
                await actor.run()
            finally:
                admission.release(ticket)
                call.ended.set()

        nursery.start_soon(run_actor)
        yield call
        with trio.fail_after(30):  # virtual seconds: the actor's own cleanup is bounded
            await call.ended.wait()
        nursery.cancel_scope.cancel()


async def replay(twilio: FakeTwilio, session: Session, *, call_sid: str | None = None) -> None:
    """Send ``session``'s messages at their recorded times (from now), as Twilio did.

    With ``call_sid`` the ``start`` and ``stop`` carry that CallSid instead of the recorded one.
    Stops quietly once the actor has closed the socket.
    """
    t0 = trio.current_time()
    try:
        for event in session.events:
            await trio.sleep_until(t0 + event.t_ms / 1000)
            msg = dict(event.msg)
            if call_sid is not None and msg.get("event") in ("start", "stop"):
                body = dict(msg[msg["event"]])
                body["callSid"] = call_sid
                msg[msg["event"]] = body
            await twilio.ws.send_message(json.dumps(msg))
    except ConnectionClosed:
        pass


async def received(twilio: FakeTwilio, into: list[tuple[float, dict[str, Any]]]) -> None:
    """Collect every message the actor sends, with its (virtual) arrival time, until closed."""
    try:
        while True:
            raw = await twilio.ws.get_message()
            into.append((trio.current_time(), json.loads(raw)))
    except ConnectionClosed:
        pass
