"""The twilio REST client, built once per process; its HTTP client is pluggable.

``TWILIO_API_BASE_URL`` (tests, staging) points every REST request at another host, e.g. a
local fake of Twilio's REST endpoint, through ``RebasedHttpClient``. The client is synchronous
(requests); callers run it in a thread (docs/ARCHITECTURE.md §12.4).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

__all__ = ["RebasedHttpClient", "make_twilio_client"]

REST_TIMEOUT_SECONDS = 10.0


class RebasedHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no stubs
    """Sends every request to ``base_url`` instead of ``https://*.twilio.com`` (path kept)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(timeout=REST_TIMEOUT_SECONDS, **kwargs)
        self._base = urlsplit(base_url)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> TwilioResponse:
        parts = urlsplit(url)
        rebased = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, rebased, *args, **kwargs)


def make_twilio_client(account_sid: str, auth_token: str, *, base_url: str = "") -> Client:
    http_client = RebasedHttpClient(base_url) if base_url else TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS)
    return Client(account_sid, auth_token, http_client=http_client)
