"""An in-memory ``Reporter`` for tests: records what a real one would send to Redis."""

from __future__ import annotations

from typing import Any

import trio

from callengine.reporting.base import FinalizeOutcome, LiveCall


class InMemoryReporter:
    def __init__(self) -> None:
        self.live: dict[str, LiveCall] = {}
        self.ended: set[str] = set()  # as calls:ended:{sid} in Redis, shared by all instances
        self.events: list[dict[str, str]] = []
        self.records: list[dict[str, Any]] = []
        self.finalized = trio.Event()

    @property
    def reachable(self) -> bool:
        return True

    def call_started(self, call: LiveCall) -> None:
        self.live[call.call_sid] = call

    def call_ended(self, call_sid: str) -> None:
        self.live.pop(call_sid, None)
        self.ended.add(call_sid)

    async def has_ended(self, call_sid: str) -> bool:
        return call_sid in self.ended

    def publish(self, kind: str, fields: dict[str, str]) -> None:
        self.events.append({"type": kind, **fields})

    async def finalize(self, record: dict[str, Any]) -> str:
        self.records.append(record)
        self.finalized.set()
        return FinalizeOutcome.ENQUEUED

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events]
