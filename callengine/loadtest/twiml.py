"""Pure helpers for Twilio's HTTP side: URLs, signatures, the voice webhook and its TwiML.

Twilio signs the WebSocket upgrade over the ``wss://`` URL with empty params, and a webhook
over the URL plus the sorted form params (https://www.twilio.com/docs/usage/webhooks/webhooks-security);
both computed with twilio's own ``RequestValidator`` so the harness and the server agree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

from callengine.loadtest.errors import ConfigError, WebhookError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Endpoint",
    "TwimlAnswer",
    "encode_form",
    "parse_endpoint",
    "parse_twiml",
    "public_ws_url",
    "sign",
    "webhook_form",
]

_SCHEME_PUBLIC: Final = {"ws": "wss", "wss": "wss", "http": "https", "https": "https"}
_DEFAULT_PORT: Final = {"ws": 80, "http": 80, "wss": 443, "https": 443}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to open a plain TCP connection, and what to put in the request line.

    Attributes:
        scheme: ``ws``/``wss``/``http``/``https`` as given.
        host: Host name or address.
        port: TCP port.
        path: Path plus query (``/`` when empty).
        host_header: Value for the ``Host`` header.
    """

    scheme: str
    host: str
    port: int
    path: str
    host_header: str


def parse_endpoint(url: str) -> Endpoint:
    """Split ``url`` into connection parameters.

    Raises:
        ConfigError: For unsupported schemes or a missing host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORT or not parts.hostname:
        raise ConfigError(f"unsupported URL {url!r} (need ws://, wss://, http:// or https:// with a host)")
    port = parts.port or _DEFAULT_PORT[scheme]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = parts.netloc.rpartition("@")[2]
    return Endpoint(scheme, parts.hostname, port, path, host_header)


def public_ws_url(url: str) -> str:
    """Map a target URL to the public ``wss://`` URL Twilio would sign (ws→wss, http→https)."""
    parts = urlsplit(url)
    scheme = _SCHEME_PUBLIC.get(parts.scheme.lower(), parts.scheme)
    return parts._replace(scheme=scheme).geturl()


def sign(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """Return the ``X-Twilio-Signature`` value for ``url`` and form ``params``."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params or {})))


def webhook_form(call_sid: str, account_sid: str, from_number: str, to_number: str) -> dict[str, str]:
    """The form fields of an inbound-call voice webhook (a subset of what Twilio posts)."""
    return {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": from_number,
        "To": to_number,
    }


def encode_form(form: Mapping[str, str]) -> bytes:
    """URL-encode a form body."""
    return urlencode(sorted(form.items())).encode("ascii")


@dataclass(frozen=True, slots=True)
class TwimlAnswer:
    """What the voice webhook told Twilio to do.

    Attributes:
        stream_url: Absolute ``<Connect><Stream url>`` (None when rejected).
        parameters: ``<Parameter name value>`` pairs of the stream.
        reject_reason: ``<Reject reason>`` (default ``rejected``) when the call was refused.
    """

    stream_url: str | None
    parameters: Mapping[str, str] = field(default_factory=dict)
    reject_reason: str | None = None


def parse_twiml(body: bytes, base_url: str) -> TwimlAnswer:
    """Interpret a voice webhook's TwiML like Twilio does for the first verb.

    ``<Reject>`` as the first verb refuses the call. Otherwise the first ``<Connect><Stream>`` is
    used; a relative stream URL resolves against the webhook URL (http→ws, https→wss).

    Raises:
        WebhookError: If the body is not TwiML or has no ``<Connect><Stream>``.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise WebhookError(f"webhook answer is not XML: {exc}") from exc
    if root.tag != "Response":
        raise WebhookError(f"TwiML root is <{root.tag}>, not <Response>")
    verbs = list(root)
    if verbs and verbs[0].tag == "Reject":
        return TwimlAnswer(None, {}, verbs[0].get("reason", "rejected"))
    for verb in verbs:
        if verb.tag != "Connect":
            continue
        stream = verb.find("Stream")
        if stream is None or not stream.get("url"):
            continue
        url = urljoin(_ws_base(base_url), stream.get("url", ""))
        params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
        return TwimlAnswer(url, params)
    raise WebhookError(f"TwiML has no <Connect><Stream url>: verbs {[v.tag for v in verbs]}")


def _ws_base(url: str) -> str:
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower(), parts.scheme)
    return parts._replace(scheme=scheme).geturl()
