"""``Services``: what every receptionist call of a process shares — the recogniser pools, the
answer slots handed to the turn that waited longest, the need models per business vocabulary,
and the voice."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, final

import trio

from callengine.brains.receptionist.grammars import COMMON_NAMES
from callengine.brains.receptionist.scheduling import PrioritySlots
from callengine.brains.receptionist.understanding import need_lm

if TYPE_CHECKING:
    from collections.abc import Callable

    from callengine.brains.receptionist.asr import Heard, RecognizerPool
    from callengine.brains.receptionist.dialogue import Dialogue
    from callengine.brains.receptionist.tts import Voice

__all__ = ["MAX_NEED_MODELS", "Services", "default_threads"]

MAX_NEED_MODELS = 64  # need models kept (one per business vocabulary seen lately)


@final
class Services:
    """Process-wide pieces shared by every call: recognisers, voice, limiters.

    ``recognizer`` answers the questions (grammar passes): ``threads`` worker processes, and
    one ``PrioritySlots(threads)`` bounds the turns in flight, process-wide, handing a free
    worker to the turn whose caller has waited longest. ``transcriber``
    makes the record's full-vocabulary transcript: ``threads - 1`` (at least one) niced
    worker processes under a limiter of their own, so transcripts never hold up answers.
    """

    def __init__(
        self,
        recognizer: RecognizerPool,
        transcriber: RecognizerPool,
        voice: Voice,
    ) -> None:
        self.recognizer = recognizer
        self.transcriber = transcriber
        self.voice = voice
        self.threads = recognizer.workers
        self.slots = PrioritySlots(self.threads)
        self._background: trio.CapacityLimiter | None = None
        self._names: tuple[str, ...] | None = None
        self._need_models: dict[tuple[tuple[str, str], ...], str] = {}

    def statistics(self) -> dict[str, int]:
        """Recognition load: answers decoding and waiting (the slots cap capacity), and
        the background transcripts likewise."""
        answers = self.slots.statistics()
        transcripts = _load(self._background)
        return {
            "threads": self.threads,
            "borrowed": answers.borrowed,
            "waiting": answers.waiting,
            "transcribing": transcripts[0],
            "transcripts_waiting": transcripts[1],
        }

    async def names(self) -> tuple[str, ...]:
        if self._names is None:
            async with self.slots.hold(trio.current_time()):
                known = await trio.to_thread.run_sync(self.recognizer.known_words, list(COMMON_NAMES))
            self._names = tuple(known)
        return self._names

    def need_model(self, dialogue: Dialogue) -> str:
        """The need language model of the call's business (built in ~10 ms, kept per
        vocabulary: every call of a business shares one)."""
        key = tuple(dialogue.vocabulary.cues.items())
        model = self._need_models.get(key)
        if model is None:
            if len(self._need_models) >= MAX_NEED_MODELS:
                self._need_models.pop(next(iter(self._need_models)))
            model = self._need_models[key] = need_lm(dialogue.vocabulary)
        return model

    async def recognize(self, pcm: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        """Recognise one turn in a worker process (at most ``threads`` at once).

        ``channel`` is the caller's, from their previous ``Heard`` (None for a first turn).
        Cancellation: the wait is abandoned; the worker finishes the turn and drops it.
        """
        decoded = await self.recognize_timed(pcm, grammar, channel)
        assert decoded is not None
        return decoded[0]

    async def recognize_timed(
        self,
        pcm: bytes,
        grammar: str | None,
        channel: str | None = None,
        *,
        since: float | None = None,
        wanted: Callable[[], bool] | None = None,
    ) -> tuple[Heard, float, float] | None:
        """``recognize``, with the seconds spent waiting for a worker and decoding.

        Args:
            since: When the caller stopped speaking: the oldest waits are served first
                (default: now).
            wanted: Asked once a worker is free; False skips the decode (None is returned):
                a candidate end of turn the caller has since talked past.
        """
        began = trio.current_time()
        async with self.slots.hold(began if since is None else since):
            if wanted is not None and not wanted():
                return None
            started = trio.current_time()
            heard = await trio.to_thread.run_sync(
                self.recognizer.recognize, pcm, grammar, channel, abandon_on_cancel=True
            )
        return heard, started - began, trio.current_time() - started

    async def transcribe(self, pcm: bytes, channel: str | None = None) -> str | None:
        """Full-vocabulary pass for the record (background; never waits on answers)."""
        if self._background is None:
            self._background = trio.CapacityLimiter(self.transcriber.workers)
        heard = await trio.to_thread.run_sync(
            self.transcriber.recognize, pcm, None, channel, limiter=self._background, abandon_on_cancel=True
        )
        return heard.text

    def close(self) -> None:
        """Stop the worker processes (tests, shutdown)."""
        self.recognizer.close()
        self.transcriber.close()


def _load(limiter: trio.CapacityLimiter | None) -> tuple[int, int]:
    if limiter is None:
        return 0, 0
    stats = limiter.statistics()
    return stats.borrowed_tokens, stats.tasks_waiting


def default_threads(configured: int) -> int:
    return configured or os.cpu_count() or 1
