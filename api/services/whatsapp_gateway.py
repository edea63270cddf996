"""The WhatsApp gateway client: the API's and the broadcast jobs' only way to a gateway shard.

Synchronous (``requests``), short timeouts, no redirects. Each call routes the business to its
shard: ``business.whatsapp_shard`` is read from the database *on every call* (a column select,
never a cached ORM object), so ``UPDATE business SET whatsapp_shard = 2`` takes effect on the
next request without restarting anything; the URL is ``BAILEYS_SHARD_{N}_URL``. Every request
carries ``X-Internal-Secret`` and ``X-WhatsApp-Shard`` (the gateway answers 421 when the shard
is not its own). Gateway errors become the typed exceptions below (docs/ARCHITECTURE.md §7)::

    GatewayError                      any refusal; .status, .code, .message
    ├── NotConnected          409     the session is not connected (scan the QR)
    ├── InvalidNumber         422     not on WhatsApp: permanent for this recipient
    ├── ReachOutLimited       423     463 time-lock; .until (ISO) — no new contacts until then
    ├── WrongShard            421     .shard_id (the gateway's), .requested (ours)
    ├── NoQr                  404     no QR to show (the session is not in state qr)
    ├── ShardNotConfigured            business.whatsapp_shard > BAILEYS_NUM_SHARDS
    └── GatewayUnavailable    5xx     unreachable, timed out, 503 send_failed, bad answer: retry

The send errors (NotConnected, InvalidNumber, ReachOutLimited, WrongShard, GatewayUnavailable;
ShardNotConfigured counts as a WrongShard) are also the ``contracts.wa_send`` classes, so the
broadcast job tells temporary from permanent by class alone; ``GatewaySender`` is the
``contracts.wa_send.Sender`` the job sends with. The jobs import this module
(tests/test_boundaries.py allow-list): keep it free of Quart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Business
from contracts import wa_send
from contracts.wa_events import (
    ContractError,
    SendRequest,
    SendResult,
    SessionInfo,
    read_send_result,
    read_session,
)

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "BusinessNotFound",
    "Gateway",
    "GatewayError",
    "GatewaySender",
    "GatewayUnavailable",
    "InvalidNumber",
    "NoQr",
    "NotConnected",
    "ReachOutLimited",
    "ShardNotConfigured",
    "WrongShard",
    "shard_of",
]

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 10.0  # a send waits for WhatsApp's server ack
SECRET_HEADER = "X-Internal-Secret"
SHARD_HEADER = "X-WhatsApp-Shard"
MAX_ANSWER_BYTES = 256 * 1024


class GatewayError(Exception):
    """The gateway refused or could not be asked; ``code`` is the gateway's error code."""

    status = 502
    default_code = "gateway_error"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        if status is not None:
            self.status = status
        self.http_status = http_status  # what the gateway answered, when it answered


class NotConnected(GatewayError, wa_send.NotConnected):
    status, default_code = 409, "not_connected"


class InvalidNumber(GatewayError, wa_send.InvalidNumber):
    status, default_code = 422, "invalid_number"


class ReachOutLimited(GatewayError, wa_send.ReachOutLimited):
    """``until`` is the time (``None`` when the gateway sent none or no ISO time);
    ``until_text`` is the gateway's own string, shown to the API's callers as is."""

    status, default_code = 423, "reach_out_limited"

    def __init__(self, message: str, *, until: str | None) -> None:
        super().__init__(message)
        self.until = _iso_time(until)
        self.until_text = until


class WrongShard(GatewayError, wa_send.WrongShard):
    status, default_code = 421, "wrong_shard"

    def __init__(self, message: str, *, shard_id: int | None, requested: int) -> None:
        super().__init__(message)
        self.shard_id, self.requested = shard_id, requested


class NoQr(GatewayError):
    status, default_code = 404, "no_qr"


class ShardNotConfigured(GatewayError, wa_send.WrongShard):
    status, default_code = 503, "shard_not_configured"


class GatewayUnavailable(GatewayError, wa_send.GatewayUnavailable):
    """Temporary: the shard is down, slow, draining, or answered nonsense. Retry later."""

    status, default_code = 503, "gateway_unavailable"


class BusinessNotFound(LookupError):
    """No business with this id."""


def shard_of(session: Session, business_id: int) -> int:
    """``business.whatsapp_shard``, read from the database now (never cached).

    Raises:
        BusinessNotFound: no such business.
    """
    shard = session.execute(select(Business.whatsapp_shard).where(Business.id == business_id)).scalar_one_or_none()
    if shard is None:
        raise BusinessNotFound(f"business {business_id} not found")
    return int(shard)


@dataclass
class Gateway:
    """One client for every shard. ``shard_urls[N-1]`` is ``BAILEYS_SHARD_{N}_URL``.

    Every method takes the database ``session`` it reads the business's shard with, or
    ``shard=`` already read with ``shard_of`` in this request (the API does that so that no
    database connection is held while the gateway answers). Build it with
    ``Gateway.from_settings(settings)``; it keeps a ``requests.Session`` (pooled
    connections), so share one per process (it is thread-safe enough for our use: one request
    at a time per connection from the pool).
    """

    shard_urls: Sequence[str]
    secret: str
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    read_timeout: float = READ_TIMEOUT_SECONDS
    http: requests.Session | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Gateway:
        """From ``api.settings.Settings`` (typed ``Any`` so this module needs no settings import)."""
        return cls(tuple(settings.baileys_shard_urls), settings.internal_secret.reveal())

    # --- the routes of the contract ---------------------------------------------------

    def start(self, session: Session | None, business_id: int, *, shard: int | None = None) -> SessionInfo:
        """Start (or keep) the business's session: ``POST /sessions/{id}/start``."""
        return _read(read_session, self._call(session, business_id, "POST", "/start", None, what="session", shard=shard))

    def status(self, session: Session | None, business_id: int, *, shard: int | None = None) -> SessionInfo:
        """The business's session as the gateway sees it now."""
        return _read(read_session, self._call(session, business_id, "GET", "", None, what="session", shard=shard))

    def qr(self, session: Session | None, business_id: int, *, shard: int | None = None) -> dict[str, str]:
        """``{"qr": …, "expires_at": …}``; ``NoQr`` when the session shows none."""
        body = self._call(session, business_id, "GET", "/qr", None, what="qr", shard=shard)
        if not isinstance(body.get("qr"), str):
            raise GatewayUnavailable("the gateway's QR answer has no qr string", code="bad_gateway_answer")
        return {"qr": body["qr"], "expires_at": str(body.get("expires_at") or "")}

    def logout(self, session: Session | None, business_id: int, *, shard: int | None = None) -> SessionInfo:
        """Log out (the phone unlinks the device; the shard deletes the auth state)."""
        return _read(read_session, self._call(session, business_id, "POST", "/logout", None, what="session", shard=shard))

    def send_text(
        self, session: Session | None, business_id: int, to: str, text: str, idempotency_key: str, *,
        shard: int | None = None, media: Mapping[str, Any] | None = None,
    ) -> SendResult:
        """Send ``text`` (with ``media``, the contract's media object, when given) to ``to``
        (E.164). The same ``idempotency_key`` again returns the same ``message_id`` with
        ``duplicate=True`` and sends nothing (the shard keeps keys ≥ 7 days).

        Raises:
            NotConnected, InvalidNumber, ReachOutLimited, WrongShard, GatewayUnavailable, GatewayError.
        """
        body = SendRequest(to=to, text=text, idempotency_key=idempotency_key, media=media).to_dict()
        return _read(read_send_result, self._call(session, business_id, "POST", "/messages", body, what="send result", shard=shard))

    def mark_read(
        self, session: Session | None, business_id: int, chat: str, message_ids: Sequence[str], *,
        shard: int | None = None,
    ) -> None:
        """Blue ticks on the sender's phone for ``message_ids`` of ``chat`` (E.164)."""
        self._call(session, business_id, "POST", "/read", {"version": 1, "chat": chat, "message_ids": list(message_ids)},
                   what="read", shard=shard)

    def url_of(self, shard: int) -> str:
        """The base URL of ``shard``.

        Raises:
            ShardNotConfigured: no BAILEYS_SHARD_{N}_URL for it.
        """
        if not 1 <= shard <= len(self.shard_urls):
            raise ShardNotConfigured(
                f"business is on WhatsApp shard {shard} but only {len(self.shard_urls)} shard(s) are configured "
                "(BAILEYS_NUM_SHARDS)"
            )
        return self.shard_urls[shard - 1].rstrip("/")

    def call_shard(
        self, shard: int, business_id: int, method: str, suffix: str, body: dict[str, Any] | None, *, what: str
    ) -> dict[str, Any]:
        """One request to an explicit shard (the shard-move command talks to two)."""
        url = f"{self.url_of(shard)}/sessions/{business_id}{suffix}"
        headers = {SECRET_HEADER: self.secret, SHARD_HEADER: str(shard)}
        http = self.http or requests
        try:
            resp = http.request(
                method, url, json=body, headers=headers, timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise GatewayUnavailable(f"WhatsApp shard {shard} did not answer in time: {exc}", code="gateway_timeout") from exc
        except requests.RequestException as exc:
            raise GatewayUnavailable(f"WhatsApp shard {shard} is unreachable: {type(exc).__name__}") from exc
        if resp.status_code == 204:
            return {}
        data = _json(resp)
        if 200 <= resp.status_code < 300:
            if data is None:
                raise GatewayUnavailable(f"WhatsApp shard {shard} answered a {what} that is not a JSON object",
                                         code="bad_gateway_answer")
            return data
        raise _error(resp.status_code, data or {}, shard)

    def _call(
        self, session: Session | None, business_id: int, method: str, suffix: str, body: dict[str, Any] | None, *,
        what: str, shard: int | None,
    ) -> dict[str, Any]:
        if shard is None:
            if session is None:
                raise ValueError("pass a database session or the shard read from it")
            shard = shard_of(session, business_id)
        return self.call_shard(shard, business_id, method, suffix, body, what=what)


@dataclass
class GatewaySender:
    """``contracts.wa_send.Sender`` over ``Gateway``: what the broadcast job sends with.

    ``shard_of(business_id)`` reads the business's shard (the job passes a lookup in its own
    database session, read per send so a moved business is followed without a restart). Every
    refusal raises a ``contracts.wa_send.SendError``: the send errors above already are ones, and
    any other refusal (e.g. the gateway refusing INTERNAL_SECRET) becomes a temporary
    ``GatewayUnavailable`` so that a fixed configuration lets the broadcast go on.
    """

    gateway: Gateway
    shard_of: Callable[[int], int]

    def send(
        self, business_id: int, to: str, text: str, media: dict[str, object] | None, idempotency_key: str
    ) -> wa_send.SendResult:
        shard = self.shard_of(business_id)
        try:
            result = self.gateway.send_text(None, business_id, to, text, idempotency_key, shard=shard, media=media)
        except GatewayError as exc:
            if isinstance(exc, wa_send.SendError):
                raise
            raise GatewayUnavailable(exc.message, code=exc.code) from exc
        return wa_send.SendResult(result.message_id, result.duplicate)


def _iso_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _read(reader: Callable[[object], T], data: object) -> T:
    """A gateway answer that breaks the contract is the gateway's fault: temporary, 503."""
    try:
        return reader(data)
    except ContractError as exc:
        raise GatewayUnavailable(f"the gateway answered outside the contract: {exc}", code="bad_gateway_answer") from exc


def _json(resp: requests.Response) -> dict[str, Any] | None:
    raw = resp.content[:MAX_ANSWER_BYTES]
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error(status: int, data: dict[str, Any], shard: int) -> GatewayError:
    code = str(data.get("error") or "")
    text = str(data.get("message") or code or f"HTTP {status}")
    if status == 409 and code in ("not_connected", ""):
        return NotConnected(f"WhatsApp is not connected: {text}")
    if status == 422:
        return InvalidNumber(f"not a WhatsApp number: {text}")
    if status == 423:
        until = data.get("until")
        return ReachOutLimited(f"WhatsApp limits new contacts until {until}", until=until if isinstance(until, str) else None)
    if status == 421:
        own = data.get("shard_id")
        return WrongShard(
            f"WhatsApp shard URL of shard {shard} answers as shard {own}: check BAILEYS_SHARD_{shard}_URL",
            shard_id=own if isinstance(own, int) else None, requested=shard,
        )
    if status == 404 and code == "no_qr":
        return NoQr("no QR code: the session is not waiting for a scan")
    if status == 401:
        return GatewayError("the gateway refused INTERNAL_SECRET (set the same value on the API and the gateway)",
                            code="gateway_unauthorized", status=502)
    if status >= 500:
        return GatewayUnavailable(f"WhatsApp shard {shard} failed: {text}", code=code or "gateway_unavailable")
    return GatewayError(f"WhatsApp shard {shard} refused the request ({status}): {text}", code=code or None, status=502,
                        http_status=status)
