"""POST Twilio's inbound-call voice webhook over a raw trio TCP stream (h11 for HTTP/1.1).

Not on the hot path: one request per call, before its WebSocket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import h11
import trio

from callengine.loadtest.errors import WebhookError
from callengine.loadtest.twiml import TwimlAnswer, encode_form, parse_endpoint, parse_twiml, sign

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["WebhookResult", "post_voice_webhook"]

# A TwiML answer is a few hundred bytes; refuse to buffer anything absurd.
_MAX_BODY_BYTES: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """The webhook's HTTP status and the interpreted TwiML."""

    status: int
    answer: TwimlAnswer


async def post_voice_webhook(
    url: str,
    form: Mapping[str, str],
    *,
    auth_token: str | None,
    timeout_s: float = 10.0,
) -> WebhookResult:
    """POST ``form`` to ``url`` the way Twilio does and parse the TwiML answer.

    The request is signed (``X-Twilio-Signature`` over ``url`` + sorted form params) when
    ``auth_token`` is given. HTTPS is not supported (loopback targets only).

    Raises:
        WebhookError: Non-2xx status, HTTPS URL, malformed HTTP, oversized or non-TwiML body.
        trio.TooSlowError: No complete answer within ``timeout_s``.
        OSError: Connection failure.

    Cancellation: cancellable at every await; the socket is always closed.
    """
    ep = parse_endpoint(url)
    if ep.scheme != "http":
        raise WebhookError(f"only http:// webhooks are supported, got {url!r}")
    body = encode_form(form)
    headers = [
        ("Host", ep.host_header),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        ("User-Agent", "TwilioProxy/1.1 (prosaas loadtest)"),
        ("Accept", "*/*"),
    ]
    if auth_token:
        headers.append(("X-Twilio-Signature", sign(auth_token, url, form)))
    conn = h11.Connection(our_role=h11.CLIENT)
    with trio.fail_after(timeout_s):
        stream = await trio.open_tcp_stream(ep.host, ep.port)
        async with stream:
            await stream.send_all(
                conn.send(h11.Request(method="POST", target=ep.path, headers=headers))
                + conn.send(h11.Data(data=body))
                + conn.send(h11.EndOfMessage())
            )
            status = 0
            chunks: list[bytes] = []
            size = 0
            while True:
                try:
                    event = conn.next_event()
                except h11.RemoteProtocolError as exc:
                    raise WebhookError(f"bad HTTP answer from webhook: {exc}", status=status or None) from exc
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive_some(65536))
                    continue
                if isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if size > _MAX_BODY_BYTES:
                        raise WebhookError("webhook answer too large", status=status)
                    chunks.append(bytes(event.data))
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
    if not 200 <= status < 300:
        raise WebhookError(f"webhook answered HTTP {status}", status=status)
    return WebhookResult(status, parse_twiml(b"".join(chunks), url))
