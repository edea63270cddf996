"""A fake ``contracts.wa_send.Sender`` that records every send and dedupes by idempotency key
as the gateway does: ``deliveries`` counts real deliveries per key, ``calls`` every call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from contracts.wa_send import SendError, SendResult

__all__ = ["FakeSender"]


class FakeSender:
    def __init__(self, script: Callable[[str, int], SendError | None] | None = None) -> None:
        self.script = script  # (to, call number for this key) -> an error to raise, or None
        self.calls: Counter[str] = Counter()
        self.deliveries: Counter[str] = Counter()
        self.ids: dict[str, str] = {}
        self.sent: list[tuple[int, str, str, object]] = []

    def send(self, business_id: int, to: str, text: str, media: dict[str, object] | None,
             idempotency_key: str) -> SendResult:
        self.calls[idempotency_key] += 1
        if self.script is not None:
            error = self.script(to, self.calls[idempotency_key])
            if error is not None:
                raise error
        if idempotency_key in self.ids:
            return SendResult(self.ids[idempotency_key], duplicate=True)
        self.ids[idempotency_key] = f"wamid-{len(self.ids) + 1}"
        self.deliveries[idempotency_key] += 1
        self.sent.append((business_id, to, text, media))
        return SendResult(self.ids[idempotency_key])
