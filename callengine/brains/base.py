"""The Brain seam: whatever talks to the caller.

A brain hears the caller in two ways:

- ``on_media(frame)`` is called on the call's receive task for every 20 ms frame
  (``MediaReceived`` carries PCM16 8 kHz and the μ-law bytes). It must be quick and must not
  block: energy/VAD bookkeeping, buffering, barge-in decisions. It returns the commands to
  send at once, so a barge-in ``ClearPlayback`` leaves within the frame that detected it and
  audio costs no extra task switch per frame (50 per second per call add up: the engine's
  capacity is bounded by per-frame scheduling, not by arithmetic).
- ``run(call, inbound, commands)`` is the call's ``brain`` task. ``inbound`` is a small bounded
  channel of control events (``DtmfReceived``, ``MarkReached``); ``commands`` takes
  ``SendAudio``, ``SendMark``, ``ClearPlayback`` and ``HangUp``. Slow work (speech
  recognition, a vendor's socket) lives here; a brain that needs audio in this task copies
  frames from ``on_media`` into a bounded buffer of its own. Returning hangs up once the
  queued audio has played; raising ends the call with ``internal_error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from contracts.call_setup import CallSetup, SetupReading

if TYPE_CHECKING:
    from collections.abc import Sequence

    import trio

    from callengine.events import Command, InboundEvent, MediaReceived

__all__ = ["Brain", "BrainFactory", "CallInfo"]


def _no_setup() -> SetupReading:
    return SetupReading(CallSetup(), found=False)


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What a brain knows about its call when it starts.

    ``setup`` is the call setup the API stored (``contracts.call_setup``), read once per call
    by the engine's ``SelectingBrain`` before the brain starts; not found (defaults) otherwise.
    """

    call_sid: str
    stream_sid: str
    business_id: str
    custom_parameters: dict[str, str] = field(default_factory=dict)
    setup: SetupReading = field(default_factory=_no_setup)


class Brain(Protocol):
    @property
    def name(self) -> str:
        """The brain's name, as in ``CALLS_BRAIN`` (goes into the call record)."""
        ...

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        """React to one inbound frame (on the receive task; never blocks)."""
        ...

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        """Talk to the caller until the call ends.

        Cancellation: cancelled when the call ends for any other reason; must not shield.
        """
        ...

    def summary(self) -> dict[str, Any]:
        """Transcript turns and metrics for the call record (JSON-serialisable)."""
        ...


class BrainFactory(Protocol):
    """Makes one brain per call. A factory whose brains share process-wide work (speech
    recognition) may also have ``statistics() -> dict`` with that load: ``GET /health``
    shows it under ``brains``."""

    def __call__(self) -> Brain: ...
