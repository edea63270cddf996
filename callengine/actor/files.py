"""Per-call files: a two-channel μ-law WAV recording and a JSONL capture of inbound events.

Both buffer in memory on the Trio thread and are written by ``flush`` in a worker thread
(once a second by the call's report task), so the event loop never waits for a disk.
The capture uses the replay format of ``callengine.loadtest`` (first line a session header,
then ``{"t_ms": …, "msg": <Twilio message>}`` lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar, final

import trio

from callengine.audio.mulaw import SILENCE_BYTE
from callengine.audio.wav import HEADER_BYTES, interleave, wav_header
from contracts.call_token import TOKEN_PARAMETER

if TYPE_CHECKING:
    from collections.abc import Callable

    from callengine.events import StreamStarted
    from callengine.settings import Settings

__all__ = ["Capture", "Recording", "open_call_files"]

T = TypeVar("T")

MAX_PENDING_OUT = 8000 * 60  # outbound audio waiting to be "heard": bounded at 60 s


async def _write_in_thread(write: Callable[[list[T]], None], items: list[T]) -> None:
    """Run ``write(items)`` in a worker thread, shielded from cancellation.

    ``items`` were taken out of the buffer already: a cancel (the call ending while the report
    task flushes) must not drop them. ``to_thread.run_sync`` raises ``Cancelled`` *before*
    starting the thread when the scope is cancelled, and a started thread cannot be
    interrupted anyway, so the shield only closes that gap; the cleanup's time box still
    bounds the wait.
    """
    with trio.CancelScope(shield=True):
        await trio.to_thread.run_sync(write, items)


@final
class Recording:
    """Caller on channel 1, what the caller heard from us on channel 2.

    Our audio is laid on the caller's timeline as Twilio would play it: each inbound frame
    consumes one frame of our queued audio (silence when there is none), and ``clear``
    discards what was queued but not yet played.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out = bytearray()
        self._buffer: list[bytes] = []
        self._frames = 0
        self._fh: IO[bytes] | None = None

    def inbound(self, ulaw: bytes) -> None:
        n = len(ulaw)
        heard = bytes(self._out[:n])
        del self._out[:n]
        if len(heard) < n:
            heard += bytes([SILENCE_BYTE]) * (n - len(heard))
        self._buffer.append(interleave(ulaw, heard))
        self._frames += n

    def outbound(self, ulaw: bytes) -> None:
        if len(self._out) < MAX_PENDING_OUT:
            self._out += ulaw

    def cleared(self) -> None:
        self._out.clear()

    async def flush(self) -> None:
        """Write what is buffered; shielded, see ``_write_in_thread``."""
        chunks, self._buffer = self._buffer, []
        await _write_in_thread(self._write, chunks)

    async def close(self) -> None:
        await self.flush()
        await trio.to_thread.run_sync(self._finish)

    def _write(self, chunks: list[bytes]) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in _finish
            self._fh.write(b"\0" * HEADER_BYTES)
        self._fh.writelines(chunks)

    def _finish(self) -> None:
        if self._fh is None:
            self._write([])
        assert self._fh is not None
        self._fh.seek(0)
        self._fh.write(wav_header(self._frames))
        self._fh.close()


@final
class Capture:
    def __init__(self, path: Path, header: dict[str, object]) -> None:
        self.path = path
        self._lines = [json.dumps(header, separators=(",", ":"))]
        self._opened = False

    def add(self, t_ms: float, raw: str) -> None:
        # The raw text is already JSON: splice it in instead of re-encoding.
        self._lines.append('{"t_ms":%.1f,"msg":%s}' % (t_ms, raw))

    async def flush(self) -> None:
        """Append what is buffered; shielded, see ``_write_in_thread``."""
        lines, self._lines = self._lines, []
        if lines:
            await _write_in_thread(self._append, lines)

    def _append(self, lines: list[str]) -> None:
        if not self._opened:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._opened = True
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")



def open_call_files(
    settings: Settings, start: StreamStarted, early: list[tuple[float, str]]
) -> tuple[Recording | None, Capture | None]:
    """The call's recording and capture, as ``settings`` asks (nothing is written yet).

    The capture starts with the raw messages that came before ``start`` (``early``: time in
    ms since the socket opened, text) and leaves the per-call token out of its header.
    """
    recording = None
    if settings.record_calls:
        recording = Recording(settings.recordings_dir / f"{start.call_sid}.wav")
    capture = None
    if settings.capture_dir is not None:
        params = start.custom_parameters
        capture = Capture(
            settings.capture_dir / f"{start.call_sid}.jsonl",
            {
                "kind": "session",
                "version": 1,
                "name": start.call_sid,
                "description": f"captured by {settings.instance_id}",
                "custom_parameters": {k: v for k, v in params.items() if k != TOKEN_PARAMETER},
            },
        )
        for t_ms, raw in early:
            capture.add(t_ms, raw)
    return recording, capture
