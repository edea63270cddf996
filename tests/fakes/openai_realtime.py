"""A fake OpenAI Realtime server on loopback (trio-websocket), scriptable for failures.

It follows the documented event flow of both protocol dialects (GA, and ``OpenAI-Beta:
realtime=v1`` when that header is sent):

- handshake: ``Authorization: Bearer <key>`` checked (401 otherwise), ``?model=`` recorded;
  the first ``refuse`` connections are rejected with ``refuse_status``;
- ``session.created`` first; ``session.update`` is validated (μ-law in and out, server VAD)
  and answered with ``session.updated`` or an ``error`` naming the client's ``event_id``;
- ``input_audio_buffer.append`` audio runs through the fake's own energy VAD (20 ms frames):
  ``speech_started`` (cancelling the active response when ``interrupt_response``), then after
  ``silence_duration_ms`` of quiet ``speech_stopped``, ``committed``, the user item, its
  transcription (``caller_transcripts``) and, with ``create_response``, a response;
- a response is ``response.created``, an assistant message item whose audio streams as deltas
  (``delta_bytes`` each, ``delta_interval`` apart), its transcript, then function-call items
  (``output_item.added`` with the name, ``function_call_arguments.done``), ``response.done``;
- ``response.cancel``, ``conversation.item.truncate`` (checked against the item's audio
  length) and ``conversation.item.create`` (a ``function_call_output`` for a known call, or a
  user text message) are answered as documented, with ``error`` events for invalid requests.

Scriptable: refused connections, slow session start, slow or silent responses, an abrupt
disconnect after N audio deltas, a rejected ``session.update``, an ``error`` event after the
first response.
Everything the client sent is recorded per connection.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, WebSocketRequest, serve_websocket

from callengine.audio.mulaw import pcm_to_ulaw, rms, ulaw_to_pcm

FRAME_BYTES = 160  # 20 ms of μ-law


def tone(ms: int, amplitude: int = 6000) -> bytes:
    """A square wave of ``ms`` as μ-law: stands in for speech (loud enough for any VAD)."""
    samples = ms * 8
    pcm = b"".join(
        (amplitude if (i // 10) % 2 else -amplitude).to_bytes(2, "little", signed=True)
        for i in range(samples)
    )
    return pcm_to_ulaw(pcm)


@dataclass
class Reply:
    """One scripted response: spoken audio with its transcript, then tool calls."""

    transcript: str = ""
    audio: bytes = b""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Script:
    api_key: str = "test-key"
    refuse: int = 0  # reject this many connections first
    refuse_status: int = 503
    session_delay: float = 0.0  # before session.created
    replies: list[Reply] = field(default_factory=list)  # consumed by every response, in order
    caller_transcripts: list[str] = field(default_factory=list)
    delta_bytes: int = 800
    delta_interval: float = 0.0
    first_delta_delay: float = 0.0
    silent: bool = False  # responses never start (tests the first-audio watchdog)
    drop_after_deltas: int | None = None  # abort the TCP connection after this many deltas
    drop_connections: tuple[int, ...] = (1,)  # ...on these connection numbers (1-based)
    reject_session_update: bool = False
    error_after_first_response: str | None = None  # an error event with this code, then go on
    vad_rms: int = 500  # RMS of a voiced 20 ms frame (the load harness counts 300 as voiced)


@dataclass
class Connection:
    number: int
    path: str
    headers: dict[str, str]
    beta: bool
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e.get("type") == kind]


class FakeRealtime:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.port = 0
        self.attempts = 0  # every handshake, refused ones included
        self.connections: list[Connection] = []
        self.replies = iter(script.replies)
        self.caller_transcripts = iter(script.caller_transcripts)
        self.ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids)}"

    def all_received(self, kind: str) -> list[dict[str, Any]]:
        return [e for c in self.connections for e in c.of_type(kind)]

    async def handler(self, request: WebSocketRequest) -> None:
        self.attempts += 1
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        if self.attempts <= self.script.refuse:
            await request.reject(self.script.refuse_status, body=b"overloaded")
            return
        if headers.get("authorization") != f"Bearer {self.script.api_key}":
            await request.reject(401, body=b'{"error": {"code": "invalid_api_key"}}')
            return
        ws = await request.accept()
        conn = Connection(
            len(self.connections) + 1,
            request.path,
            headers,
            beta=headers.get("openai-beta") == "realtime=v1",
        )
        self.connections.append(conn)
        session = _Session(self, conn, ws)
        try:
            await session.run()
        except ConnectionClosed:
            pass


async def open_fake_realtime(nursery: trio.Nursery, script: Script | None = None) -> FakeRealtime:
    fake = FakeRealtime(script or Script())
    server = await nursery.start(serve_websocket, fake.handler, "127.0.0.1", 0, None)
    fake.port = server.port
    return fake


class _Dropped(Exception):
    """The script aborts the connection."""


class _Session:
    def __init__(self, fake: FakeRealtime, conn: Connection, ws: WebSocketConnection) -> None:
        self.fake = fake
        self.script = fake.script
        self.conn = conn
        self.ws = ws
        self.config: dict[str, Any] = {}
        self.configured = False
        self.audio_ms = 0
        self.voiced_run = 0
        self.quiet_run = 0
        self.speech_item: str | None = None
        self.speech_start_ms = 0
        self.active: tuple[str, trio.CancelScope] | None = None
        self.speaking: tuple[dict[str, Any], str, int] | None = None  # item fields, text, total ms
        self.item_audio_ms: dict[str, int] = {}
        self.calls: set[str] = set()
        self.deltas = 0
        self.nursery: trio.Nursery | None = None

    # --- plumbing ---------------------------------------------------------------------------

    def name(self, ga: str, beta: str) -> str:
        return beta if self.conn.beta else ga

    async def send(self, event: dict[str, Any]) -> None:
        event = {"event_id": self.fake.next_id("event"), **event}
        self.conn.sent.append(event)
        # Shielded: a response cancelled mid-send must not leave half a frame on the wire.
        with trio.CancelScope(shield=True):
            await self.ws.send_message(json.dumps(event))

    async def error(self, message: str, code: str, event_id: str | None = None) -> None:
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": None,
                    "event_id": event_id,
                },
            }
        )

    async def drop(self) -> None:
        await trio.aclose_forcefully(self.ws._stream)  # no close frame: a vendor crash
        raise _Dropped

    async def run(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                await trio.sleep(self.script.session_delay)
                await self.send(
                    {
                        "type": "session.created",
                        "session": {"id": self.fake.next_id("sess"), "object": "realtime.session"},
                    }
                )
                while True:
                    raw = await self.ws.get_message()
                    event = json.loads(raw)
                    self.conn.received.append(event)
                    await self.dispatch(event)
        except* _Dropped:
            pass
        except* ConnectionClosed:
            pass

    # --- client events ----------------------------------------------------------------------

    async def dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "session.update":
            await self.session_update(event)
        elif kind == "input_audio_buffer.append":
            await self.append(event)
        elif kind == "response.create":
            self.start_response()
        elif kind == "response.cancel":
            await self.cancel(event)
        elif kind == "conversation.item.truncate":
            await self.truncate(event)
        elif kind == "conversation.item.create":
            await self.item_create(event)
        else:
            await self.error(f"unknown event type {kind!r}", "invalid_event", event.get("event_id"))

    def _session_problems(self, session: dict[str, Any]) -> list[str]:
        problems = []
        if self.conn.beta:
            for key in ("input_audio_format", "output_audio_format"):
                if session.get(key) != "g711_ulaw":
                    problems.append(f"{key} must be g711_ulaw here")
            vad = session.get("turn_detection") or {}
            if "input_audio_transcription" not in session:
                problems.append("no input_audio_transcription")
        else:
            if session.get("type") != "realtime":
                problems.append("session.type must be realtime")
            audio = session.get("audio") or {}
            for side in ("input", "output"):
                if (audio.get(side) or {}).get("format", {}).get("type") != "audio/pcmu":
                    problems.append(f"audio.{side}.format must be audio/pcmu here")
            vad = (audio.get("input") or {}).get("turn_detection") or {}
            if "transcription" not in (audio.get("input") or {}):
                problems.append("no audio.input.transcription")
        if vad.get("type") != "server_vad":
            problems.append("turn_detection must be server_vad")
        for tool in session.get("tools", []):
            if tool.get("type") != "function" or not tool.get("name"):
                problems.append("bad tool")
        return problems

    async def session_update(self, event: dict[str, Any]) -> None:
        session = event.get("session") or {}
        problems = self._session_problems(session)
        if self.script.reject_session_update:
            problems.append("scripted rejection")
        if problems:
            await self.error("; ".join(problems), "invalid_value", event.get("event_id"))
            return
        self.config = session
        self.configured = True
        await self.send({"type": "session.updated", "session": session})

    @property
    def vad(self) -> dict[str, Any]:
        if self.conn.beta:
            return dict(self.config.get("turn_detection") or {})
        return dict(self.config["audio"]["input"]["turn_detection"])

    async def append(self, event: dict[str, Any]) -> None:
        if not self.configured:
            await self.error("audio before session.update", "invalid_audio", None)
            return
        ulaw = base64.b64decode(event["audio"])
        vad = self.vad
        onset = 3
        quiet_frames = max(1, int(vad.get("silence_duration_ms", 500)) // 20)
        for start in range(0, len(ulaw) - FRAME_BYTES + 1, FRAME_BYTES):
            frame = ulaw[start : start + FRAME_BYTES]
            self.audio_ms += 20
            voiced = rms(ulaw_to_pcm(frame)) > self.script.vad_rms
            if self.speech_item is None:
                self.voiced_run = self.voiced_run + 1 if voiced else 0
                if self.voiced_run >= onset:
                    await self.speech_started(vad)
            else:
                self.quiet_run = 0 if voiced else self.quiet_run + 1
                if self.quiet_run >= quiet_frames:
                    await self.speech_stopped(vad)

    async def speech_started(self, vad: dict[str, Any]) -> None:
        self.speech_item = self.fake.next_id("item")
        self.quiet_run = 0
        self.speech_start_ms = self.audio_ms - 60
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": max(0, self.speech_start_ms - int(vad.get("prefix_padding_ms", 300))),
                "item_id": self.speech_item,
            }
        )
        if self.active is not None and vad.get("interrupt_response", True):
            await self.finish_active("cancelled")

    async def speech_stopped(self, vad: dict[str, Any]) -> None:
        item = self.speech_item
        assert item is not None
        self.speech_item = None
        self.voiced_run = 0
        await self.send(
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self.audio_ms, "item_id": item}
        )
        await self.send({"type": "input_audio_buffer.committed", "item_id": item, "previous_item_id": None})
        await self.send(
            {
                "type": self.name("conversation.item.added", "conversation.item.created"),
                "item": {"id": item, "type": "message", "role": "user", "content": [{"type": "input_audio"}]},
            }
        )
        transcript = next(self.fake.caller_transcripts, "")
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item,
                "content_index": 0,
                "transcript": transcript,
            }
        )
        if vad.get("create_response", True) and self.active is None:
            self.start_response()

    async def cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if self.active is None or (wanted and wanted != self.active[0]):
            await self.error("no active response", "response_cancel_not_active", event.get("event_id"))
            return
        await self.finish_active("cancelled")

    async def truncate(self, event: dict[str, Any]) -> None:
        item, end = event.get("item_id"), event.get("audio_end_ms")
        if item not in self.item_audio_ms or type(end) is not int or event.get("content_index") != 0:
            await self.error("unknown item or bad fields", "invalid_value", event.get("event_id"))
            return
        if end > self.item_audio_ms[item]:
            await self.error("audio_end_ms beyond the audio", "invalid_value", event.get("event_id"))
            return
        await self.send(
            {"type": "conversation.item.truncated", "item_id": item, "content_index": 0, "audio_end_ms": end}
        )

    async def item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") == "message":
            content = item.get("content") or [{}]
            if item.get("role") != "user" or content[0].get("type") != "input_text":
                await self.error("bad message item", "invalid_value", event.get("event_id"))
                return
        elif item.get("type") != "function_call_output" or item.get("call_id") not in self.calls:
            await self.error("unknown call_id", "invalid_value", event.get("event_id"))
            return
        else:
            json.loads(item["output"])  # the brain sends JSON text: a bad one fails the test
        await self.send(
            {
                "type": self.name("conversation.item.added", "conversation.item.created"),
                "item": {**item, "id": self.fake.next_id("item")},
            }
        )

    # --- responses --------------------------------------------------------------------------

    def start_response(self) -> None:
        if self.script.silent:
            return
        assert self.nursery is not None
        reply = next(self.fake.replies, Reply("Okay.", tone(200)))
        scope = trio.CancelScope()
        rid = self.fake.next_id("resp")
        self.active = (rid, scope)
        self.nursery.start_soon(self.respond, rid, reply, scope)

    async def finish_active(self, status: str) -> None:
        assert self.active is not None
        rid, scope = self.active
        self.active = None
        scope.cancel()
        if self.speaking is not None:
            # As the real service does, the cut item's content parts finish, with the part
            # of the transcript generated so far.
            base, text, total_ms = self.speaking
            self.speaking = None
            done_ms = self.item_audio_ms[base["item_id"]]
            partial = text[: len(text) * done_ms // max(1, total_ms)]
            await self.send(
                {
                    "type": self.name("response.output_audio_transcript.done", "response.audio_transcript.done"),
                    **base,
                    "content_index": 0,
                    "transcript": partial,
                }
            )
        await self.send({"type": "response.done", "response": {"id": rid, "status": status, "output": []}})

    async def respond(self, rid: str, reply: Reply, scope: trio.CancelScope) -> None:
        with scope:
            await self.send({"type": "response.created", "response": {"id": rid, "status": "in_progress"}})
            output: list[dict[str, Any]] = []
            index = 0
            if reply.audio or reply.transcript:
                output.append(await self.speak(rid, index, reply))
                index += 1
            for name, arguments in reply.tool_calls:
                output.append(await self.call_tool(rid, index, name, arguments))
                index += 1
            self.active = None
            await self.send({"type": "response.done", "response": {"id": rid, "status": "completed", "output": output}})
            code, self.script.error_after_first_response = self.script.error_after_first_response, None
            if code is not None:
                await self.error(f"scripted {code}", code)

    async def speak(self, rid: str, index: int, reply: Reply) -> dict[str, Any]:
        item = self.fake.next_id("item")
        self.item_audio_ms[item] = 0
        base = {"response_id": rid, "item_id": item, "output_index": index}
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": rid,
                "output_index": index,
                "item": {"id": item, "type": "message", "role": "assistant", "status": "in_progress", "content": []},
            }
        )
        await self.send({"type": "response.content_part.added", **base, "content_index": 0, "part": {"type": "audio"}})
        self.speaking = (base, reply.transcript, len(reply.audio) // 8)
        await trio.sleep(self.script.first_delta_delay)
        step = self.script.delta_bytes
        for start in range(0, len(reply.audio), step):
            chunk = reply.audio[start : start + step]
            await self.send(
                {
                    "type": self.name("response.output_audio.delta", "response.audio.delta"),
                    **base,
                    "content_index": 0,
                    "delta": base64.b64encode(chunk).decode(),
                }
            )
            self.item_audio_ms[item] += len(chunk) // 8
            self.deltas += 1
            drop = self.script.drop_after_deltas
            if drop is not None and self.deltas >= drop and self.conn.number in self.script.drop_connections:
                await self.drop()
            await trio.sleep(self.script.delta_interval)
        self.speaking = None
        await self.send(
            {
                "type": self.name("response.output_audio_transcript.delta", "response.audio_transcript.delta"),
                **base,
                "content_index": 0,
                "delta": reply.transcript,
            }
        )
        await self.send({"type": self.name("response.output_audio.done", "response.audio.done"), **base, "content_index": 0})
        await self.send(
            {
                "type": self.name("response.output_audio_transcript.done", "response.audio_transcript.done"),
                **base,
                "content_index": 0,
                "transcript": reply.transcript,
            }
        )
        done_item = {"id": item, "type": "message", "role": "assistant", "status": "completed"}
        await self.send({"type": "response.output_item.done", "response_id": rid, "output_index": index, "item": done_item})
        return done_item

    async def call_tool(self, rid: str, index: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        item, call_id = self.fake.next_id("item"), self.fake.next_id("call")
        self.calls.add(call_id)
        args = json.dumps(arguments)
        added = {"id": item, "type": "function_call", "status": "in_progress", "call_id": call_id, "name": name, "arguments": ""}
        await self.send({"type": "response.output_item.added", "response_id": rid, "output_index": index, "item": added})
        base = {"response_id": rid, "item_id": item, "output_index": index, "call_id": call_id}
        await self.send({"type": "response.function_call_arguments.delta", **base, "delta": args})
        done: dict[str, Any] = {"type": "response.function_call_arguments.done", **base, "arguments": args}
        if self.conn.beta:
            done["name"] = name
        await self.send(done)
        finished = {**added, "status": "completed", "arguments": args}
        await self.send({"type": "response.output_item.done", "response_id": rid, "output_index": index, "item": finished})
        return finished


async def serve_forever(port: int, api_key: str) -> None:
    """Serve the fake with its default replies (for trying the brain by hand)."""
    fake = FakeRealtime(Script(api_key=api_key, replies=[Reply("Hello! How can I help?", tone(2000))], delta_interval=0.1))
    print(f"fake OpenAI Realtime on ws://127.0.0.1:{port}/v1/realtime (key {api_key!r})", flush=True)
    await serve_websocket(fake.handler, "127.0.0.1", port, None)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="A fake OpenAI Realtime server on loopback.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="test-key")
    args = parser.parse_args()
    trio.run(serve_forever, args.port, args.api_key)
