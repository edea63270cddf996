"""Scripted brains for tests of the actor's contract with its brain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import trio

from callengine.brains.base import CallInfo
from callengine.events import Command, InboundEvent, MediaReceived, SendAudio, SendMark

NO_COMMANDS: tuple[Command, ...] = ()


class SayThenHangUp:
    """Says ``audio`` once, then returns: the engine hangs up after it has been played."""

    name = "say-then-hang-up"

    def __init__(self, audio: bytes) -> None:
        self.audio = audio

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        return NO_COMMANDS

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        await commands.send(SendAudio(self.audio))
        await commands.send(SendMark("goodbye"))

    def summary(self) -> dict[str, Any]:
        return {"transcript": [{"speaker": "agent", "text": "goodbye"}]}


class CrashOnDtmf:
    """A buggy brain: raises when the caller presses a key."""

    name = "crash-on-dtmf"

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        return NO_COMMANDS

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command],
    ) -> None:
        async for _ in inbound:
            raise RuntimeError("brain bug")

    def summary(self) -> dict[str, Any]:
        return {}


class SayThenListen:
    """Says ``audio`` once, then listens until the call ends (never hangs up itself)."""

    name = "say-then-listen"

    def __init__(self, audio: bytes) -> None:
        self.audio = audio

    def on_media(self, frame: MediaReceived) -> Sequence[Command]:
        return NO_COMMANDS

    async def run(
        self,
        call: CallInfo,
        inbound: trio.MemoryReceiveChannel[InboundEvent],
        commands: trio.MemorySendChannel[Command]
    ) -> None:
        await commands.send(SendAudio(self.audio))
        await commands.send(SendMark("said"))
        async for _ in inbound:
            pass

    def summary(self) -> dict[str, Any]:
        return {}
