"""What the caller has heard of the agent: marks turn queued audio into played audio (pure).

An utterance is queued as chunks of ``MARK_EVERY_MS``, each followed by a mark
``"{utterance}:{end_ms}"``. Twilio echoes a mark once the audio before it has played, so the
last echoed mark is a lower bound of what the caller heard; the time since that echo (capped at
the next mark) refines it. On barge-in the utterance is cut at that point: the transcript keeps
the words that were played, not the ones the agent meant to say.

After ``clear`` Twilio echoes the marks it still held at once; those belong to an utterance that
is already finished here and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from callengine.audio.mulaw import BYTES_PER_SECOND
from callengine.events import Command, SendAudio, SendMark

__all__ = ["MARK_EVERY_MS", "Played", "PlaybackTracker", "truncate_text"]

MARK_EVERY_MS = 500  # heard-time resolution from marks alone; elapsed time refines it


@dataclass(frozen=True, slots=True)
class Played:
    """One agent utterance as the caller heard it."""

    utterance: str
    text: str  # what was played (truncated on barge-in)
    full_text: str
    audio_ms: int
    heard_ms: int
    interrupted: bool
    started_at: float | None  # first mark-free estimate: when its audio was queued


def truncate_text(text: str, heard_ms: int, audio_ms: int) -> str:
    """The words of ``text`` spoken within ``heard_ms`` of ``audio_ms`` (by character share)."""
    if audio_ms <= 0 or heard_ms >= audio_ms:
        return text
    if heard_ms <= 0:
        return ""
    cut = len(text) * heard_ms // audio_ms
    words = text[:cut].split(" ")
    if cut < len(text) and text[cut:cut + 1] != " " and len(words) > 1:
        words = words[:-1]  # a word cut in the middle was not understood
    heard = " ".join(words).strip()
    return heard + "…" if heard else ""


@final
class PlaybackTracker:
    """Tracks the agent's current utterance. Times are seconds on one monotonic clock."""

    def __init__(self) -> None:
        self._seq = 0
        self._id: str | None = None
        self._text = ""
        self._audio_ms = 0
        self._heard_ms = 0
        self._heard_at: float | None = None
        self._queued_at = 0.0
        self.history: list[Played] = []

    @property
    def playing(self) -> bool:
        return self._id is not None

    @property
    def current(self) -> str | None:
        return self._id

    def start(self, text: str, ulaw: bytes, now: float) -> list[Command]:
        """Queue ``ulaw`` (the rendering of ``text``); returns the commands to send.

        A previous utterance still playing is finished as heard in full (the agent chains
        prompts; nothing was cleared).
        """
        if self._id is not None:
            self._finish(interrupted=False, heard_ms=self._audio_ms)
        self._seq += 1
        self._id = f"u{self._seq}"
        self._text = text
        self._audio_ms = len(ulaw) * 1000 // BYTES_PER_SECOND
        self._heard_ms = 0
        self._heard_at = None
        self._queued_at = now
        step = MARK_EVERY_MS * BYTES_PER_SECOND // 1000
        commands: list[Command] = []
        for offset in range(0, len(ulaw), step):
            chunk = ulaw[offset : offset + step]
            end_ms = (offset + len(chunk)) * 1000 // BYTES_PER_SECOND
            commands.append(SendAudio(chunk))
            commands.append(SendMark(f"{self._id}:{end_ms}"))
        if not commands:
            commands.append(SendMark(f"{self._id}:0"))
        return commands

    def on_mark(self, name: str, now: float) -> Played | None:
        """A mark came back; returns the utterance once it has fully played."""
        utterance, _, offset = name.partition(":")
        if utterance != self._id or not offset.isdigit():
            return None  # an old utterance's mark, echoed after clear, or not ours
        self._heard_ms = max(self._heard_ms, int(offset))
        self._heard_at = now
        if self._heard_ms >= self._audio_ms:
            return self._finish(interrupted=False, heard_ms=self._audio_ms)
        return None

    def heard_ms(self, now: float) -> int:
        """Best estimate of how much of the current utterance has played by ``now``."""
        if self._id is None:
            return 0
        if self._heard_at is None:
            return 0  # not even the first chunk confirmed: assume nothing was heard
        extra = int((now - self._heard_at) * 1000)
        next_mark = min(self._audio_ms, self._heard_ms + MARK_EVERY_MS)
        return min(next_mark, self._heard_ms + max(0, extra))

    def interrupt(self, now: float) -> Played | None:
        """Barge-in: the rest of the utterance is dropped. Returns what was heard."""
        if self._id is None:
            return None
        return self._finish(interrupted=True, heard_ms=self.heard_ms(now))

    def _finish(self, *, interrupted: bool, heard_ms: int) -> Played:
        assert self._id is not None
        text = truncate_text(self._text, heard_ms, self._audio_ms) if interrupted else self._text
        played = Played(
            self._id, text, self._text, self._audio_ms, heard_ms, interrupted, self._queued_at
        )
        self.history.append(played)
        self._id = None
        return played
