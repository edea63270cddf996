"""The Brain seam: whatever talks to the caller.

A brain receives inbound events (``MediaReceived`` carries PCM16 8 kHz as well as μ-law,
``DtmfReceived``, ``MarkReached``, ``StreamStopped``) from a bounded channel and emits commands
(``SendAudio``, ``SendMark``, ``ClearPlayback``, ``HangUp``) into another. It runs as the call's
``brain`` task; returning ends the call, raising ends it with ``internal_error``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import trio

    from callengine.events import Command, InboundEvent

__all__ = ["Brain", "BrainFactory", "CallInfo"]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What a brain knows about its call when it starts."""

    call_sid: str
    stream_sid: str
    business_id: str
    custom_parameters: dict[str, str] = field(default_factory=dict)


class Brain(Protocol):
    name: str

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
    def __call__(self) -> Brain: ...
