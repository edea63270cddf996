"""Deliver one outbound business webhook (``deliver({"version": 1, "delivery_id": …})``).

Spec ``contracts.jobs.DELIVER_WEBHOOK`` (queue ``high``, 30 s, retries after 10 s, 1 min,
5 min, 30 min, 2 h). The ``webhook_delivery`` row holds the URL and JSON body as they were when
the event happened; each attempt signs the body afresh (``contracts.webhook_signature``: the
headers and how a receiver verifies them) with the business's secret, decrypted with
``api.crypto.SecretBox``, and POSTs it without following redirects, proxies or ``.netrc``.

Outcomes, each counted on the row (attempts, last status code, last error):

* 2xx: delivered.
* timeout, connection error, 429 or 5xx: the job raises ``DeliveryFailed`` so RQ retries with
  the spec's backoff; on the last attempt the row is marked failed first (the worker then
  dead-letters the job).
* any other answer (3xx, 4xx) and what no retry can fix (no secret, a secret the keys cannot
  open, a URL refused as private — checked again here, after resolving the host): the row is
  marked failed and the job raises ``PermanentJobError``, dead-lettered without retries.

A row that is not pending (delivered, failed, or a second job for the same row) is left alone.
``POST /api/webhooks/deliveries/{id}/redeliver`` puts a finished row back to pending.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any

import requests

from api.crypto import DecryptError, SecretBox
from api.db.models import DeliveryStatus, utcnow
from api.services import webhooks
from api.settings import Settings
from contracts.job_payloads import read_delivery_ref
from contracts.jobs import PermanentJobError
from contracts.webhook_signature import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_header,
)
from jobs.current import enqueue_follow_up, is_last_attempt
from jobs.db import job_session
from jobs.enqueue import enqueue_webhook_delivery

__all__ = ["USER_AGENT", "DeliveryFailed", "body_bytes", "deliver", "requeue_unsent"]

log = logging.getLogger(__name__)
USER_AGENT = "ProSaaS-Webhooks/1"


class DeliveryFailed(Exception):
    """This attempt failed in a way a later one may not (timeout, connection error, 429, 5xx)."""


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed and signed (compact JSON, keys sorted, UTF-8)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8")


def _record(delivery_id: int, status: DeliveryStatus, code: int | None, error: str) -> None:
    with job_session() as session:
        webhooks.record_attempt(session, delivery_id, status=status, status_code=code, error=error)


def _give_up(delivery_id: int, code: int | None, error: str) -> PermanentJobError:
    _record(delivery_id, DeliveryStatus.FAILED, code, error)
    log.warning("webhook delivery %s failed for good: %s", delivery_id, error)
    return PermanentJobError(f"webhook delivery {delivery_id}: {error}")


def _try_again(delivery_id: int, code: int | None, error: str) -> DeliveryFailed:
    last = is_last_attempt()
    _record(delivery_id, DeliveryStatus.FAILED if last else DeliveryStatus.PENDING, code, error)
    log.warning("webhook delivery %s attempt failed%s: %s", delivery_id, " (last attempt)" if last else "", error)
    return DeliveryFailed(f"webhook delivery {delivery_id}: {error}")


def deliver(payload: Any) -> dict[str, Any]:
    """POST one event to the business's webhook URL; returns what happened.

    Raises:
        PayloadError: the payload does not parse.
        PermanentJobError: the delivery row is gone, or the receiver refused (3xx/4xx), or the
            delivery cannot be made (secret, URL); the row is marked failed.
        DeliveryFailed: timeout, connection error, 429 or 5xx (retried by RQ).
    """
    ref = read_delivery_ref(payload)
    settings = Settings.from_env()
    with job_session() as session:
        try:
            attempt = webhooks.claim(session, ref.delivery_id)
        except LookupError as exc:
            raise PermanentJobError(str(exc)) from exc
    if attempt is None:
        return {"delivery_id": ref.delivery_id, "status": "not_pending"}
    if not attempt.secret_encrypted:
        raise _give_up(attempt.delivery_id, None, "the business has no webhook secret")
    try:
        secret = SecretBox.from_settings(settings).decrypt(attempt.secret_encrypted)
    except DecryptError as exc:
        raise _give_up(attempt.delivery_id, None, str(exc)) from exc
    try:
        webhooks.check_url(attempt.url, allow_private=settings.webhook_allow_private)
    except webhooks.UnsafeUrl as exc:
        raise _give_up(attempt.delivery_id, None, f"URL refused: {exc}") from exc

    body = body_bytes(attempt.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: attempt.event,
        DELIVERY_HEADER: attempt.event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature_header(secret, timestamp, body),
    }
    timeout = settings.webhook_timeout_seconds
    with requests.Session() as http:
        http.trust_env = False  # no proxy from the environment, no .netrc credentials
        try:
            with http.post(
                attempt.url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
            ) as answer:
                code = answer.status_code
                location = answer.headers.get("Location", "")
        except requests.Timeout as exc:
            raise _try_again(attempt.delivery_id, None, f"timed out after {timeout:g} s") from exc
        except requests.RequestException as exc:
            raise _try_again(attempt.delivery_id, None, f"connection failed: {type(exc).__name__}: {exc}") from exc

    if 200 <= code < 300:
        _record(attempt.delivery_id, DeliveryStatus.DELIVERED, code, "")
        log.info("webhook delivered delivery_id=%s event=%s status=%s", attempt.delivery_id, attempt.event, code)
        return {"delivery_id": attempt.delivery_id, "status": "delivered", "status_code": code}
    if code == 429 or code >= 500:
        raise _try_again(attempt.delivery_id, code, f"HTTP {code}")
    if 300 <= code < 400:
        raise _give_up(attempt.delivery_id, code, f"HTTP {code}: redirects are not followed (Location: {location[:200]})")
    raise _give_up(attempt.delivery_id, code, f"HTTP {code}: refused by the receiver, not retried")


def requeue_unsent() -> dict[str, Any]:
    """Enqueue the pending deliveries no job is working on (``api.services.webhooks.unsent``):
    meant for the scheduler's periodic table; returns how many were enqueued."""
    with job_session() as session:
        rows = webhooks.unsent(session, now=utcnow())
    sent = sum(
        enqueue_follow_up(f"webhook delivery {delivery_id}", partial(enqueue_webhook_delivery, delivery_id=delivery_id, attempts=attempts))
        for delivery_id, attempts in rows
    )
    return {"found": len(rows), "enqueued": sent}
