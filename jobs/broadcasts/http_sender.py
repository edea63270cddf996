"""A ``contracts.wa_send.Sender`` over the gateway's HTTP API (docs/ARCHITECTURE.md §7): the
broadcast job's default until the API's gateway client is shared with the jobs.

``POST {BAILEYS_SHARD_{N}_URL}/sessions/{business_id}/messages`` with ``X-Internal-Secret`` and
``X-WhatsApp-Shard: N`` (N = the business's ``whatsapp_shard``, read per send so a moved business
is followed without a restart). Answers map to ``contracts.wa_send`` exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests
from sqlalchemy import select

from api.db.models import Business
from api.settings import Settings
from contracts.wa_send import (
    GatewayUnavailable,
    InvalidNumber,
    NotConnected,
    ReachOutLimited,
    SendResult,
    WrongShard,
)
from jobs.db import job_session

__all__ = ["HttpSender", "from_env"]

TIMEOUT_SECONDS = (3.0, 15.0)  # connect, read: below the business lock's lifetime (run.LOCK_SECONDS)


def _shard_of(business_id: int) -> int:
    with job_session() as session:
        shard = session.scalar(select(Business.whatsapp_shard).where(Business.id == business_id))
    return int(shard or 1)


class HttpSender:
    def __init__(self, shard_urls: tuple[str, ...], secret: str, shard_of: Callable[[int], int] = _shard_of,
                 session: requests.Session | None = None) -> None:
        self.shard_urls = shard_urls
        self.secret = secret
        self.shard_of = shard_of
        self.http = session or requests.Session()

    def send(self, business_id: int, to: str, text: str, media: dict[str, Any] | None,
             idempotency_key: str) -> SendResult:
        shard = self.shard_of(business_id)
        if not 1 <= shard <= len(self.shard_urls):
            raise WrongShard(f"business {business_id} is on shard {shard}, but only "
                             f"{len(self.shard_urls)} shard(s) are configured (BAILEYS_NUM_SHARDS)")
        url = f"{self.shard_urls[shard - 1].rstrip('/')}/sessions/{business_id}/messages"
        body: dict[str, Any] = {"version": 1, "to": to, "text": text, "media": media, "idempotency_key": idempotency_key}
        try:
            answer = self.http.post(url, json=body, timeout=TIMEOUT_SECONDS, headers={
                "X-Internal-Secret": self.secret, "X-WhatsApp-Shard": str(shard)})
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"shard {shard} unreachable: {type(exc).__name__}") from exc
        try:
            data = answer.json()
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        if answer.status_code == 200 and isinstance(data.get("message_id"), str):
            return SendResult(data["message_id"], bool(data.get("duplicate")))
        message = str(data.get("message") or data.get("error") or f"HTTP {answer.status_code}")
        if answer.status_code == 409:
            raise NotConnected(message)
        if answer.status_code == 421:
            raise WrongShard(message)
        if answer.status_code == 422:
            raise InvalidNumber(message)
        if answer.status_code == 423:
            raise ReachOutLimited(message, _iso(data.get("until")))
        raise GatewayUnavailable(f"shard {shard}: HTTP {answer.status_code}: {message}")


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def from_env() -> HttpSender:
    settings = Settings.from_env()
    return HttpSender(settings.baileys_shard_urls, settings.internal_secret.reveal())
