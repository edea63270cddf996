"""The IMAP side of the sync (imaplib): connect securely, log in, select, search and fetch.

Security: IMAP over TLS (``ssl``) or plain IMAP upgraded with STARTTLS (``starttls``); a server
that does not offer STARTTLS is refused before any credential is sent, never logged in to in
clear. Certificates and host names are verified against the system's CAs plus EMAIL_CA_FILE.
Every socket operation has a timeout.

Every failure reaches the caller as an ``ImapError`` whose message is fit for the account's
``last_error`` (it names the server, never the password).
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import final

from api.db.models import TlsMode

__all__ = [
    "ConnectionFailed",
    "Endpoint",
    "ImapError",
    "InsecureServer",
    "LoginFailed",
    "Mailbox",
    "MailboxMissing",
    "make_ssl_context",
    "open_mailbox",
]


class ImapError(Exception):
    """A sync attempt failed on the IMAP side; the message is shown to the account's owner."""


class ConnectionFailed(ImapError):
    """Unreachable, timed out, TLS handshake or certificate refused, or the server hung up."""


class InsecureServer(ImapError):
    """STARTTLS was asked for and the server does not offer it."""


class LoginFailed(ImapError):
    """The server refused the user name and password."""


class MailboxMissing(ImapError):
    """SELECT failed: no such mailbox, or not readable."""


@final
@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int
    tls_mode: str
    username: str
    mailbox: str

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"


def make_ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs, plus ``ca_file``'s when given; host names checked."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


_UID = re.compile(rb"UID (\d+)")
# The first bytes of each message are fetched, not its attachments: a batch of 25 MB messages
# must not exhaust the worker. The text part comes first in practice; what follows is cut.
MAX_FETCH_BYTES = 2 * 1024 * 1024


@final
class Mailbox:
    """A selected mailbox (read-only: messages are fetched with ``BODY.PEEK[]``, so the sync
    never marks anything as read)."""

    def __init__(self, conn: imaplib.IMAP4, endpoint: Endpoint, uid_validity: int, uid_next: int | None) -> None:
        self._conn = conn
        self._endpoint = endpoint
        self.uid_validity = uid_validity
        self.uid_next = uid_next

    def search(self, low: int, high: int | None) -> list[int]:
        """UIDs in ``low:high`` (``high`` None = ``*``), ascending; only UIDs >= ``low``
        (``n:*`` also matches the last message when every UID is below ``n``)."""
        criteria = f"UID {low}:{'*' if high is None else high}"
        with _translated(self._endpoint):
            data = self._ok("UID SEARCH", self._conn.uid("SEARCH", criteria))
        found = [int(tok) for line in data if isinstance(line, bytes) for tok in line.split()]
        return sorted(uid for uid in found if uid >= low and (high is None or uid <= high))

    def fetch(self, uids: list[int]) -> list[tuple[int, bytes]]:
        """The raw messages of ``uids`` as (uid, bytes), ascending; a UID expunged meanwhile
        is simply absent."""
        if not uids:
            return []
        with _translated(self._endpoint):
            data = self._ok("UID FETCH", self._conn.uid("FETCH", ",".join(map(str, uids)), f"(UID BODY.PEEK[]<0.{MAX_FETCH_BYTES}>)"))
        found: dict[int, bytes] = {}
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                match = _UID.search(item[0])
                if match:
                    found[int(match.group(1))] = item[1]
        return sorted(found.items())

    def _ok(self, what: str, answer: tuple[str, list[object]]) -> list[object]:
        typ, data = answer
        if typ != "OK":
            raise ConnectionFailed(f"IMAP {what} failed on {self._endpoint.name}: {_text(data)}")
        return data


@contextmanager
def open_mailbox(
    endpoint: Endpoint, password: str, *, context: ssl.SSLContext, timeout: float
) -> Iterator[Mailbox]:
    """Connect, secure, log in and SELECT (read-only); log out on the way out.

    Raises:
        ConnectionFailed, InsecureServer, LoginFailed, MailboxMissing: see their docs (the
            ``Mailbox`` methods raise ConnectionFailed too).
    """
    conn = _connect(endpoint, context, timeout)
    try:
        with _translated(endpoint):
            _login(conn, endpoint, password)
            typ, data = conn.select(_quoted(endpoint.mailbox), readonly=True)
            if typ != "OK":
                raise MailboxMissing(
                    f"mailbox {endpoint.mailbox!r} cannot be opened on {endpoint.name}: {_text(data)}"
                )
            validity = _untagged_int(conn, "UIDVALIDITY")
            if validity is None:
                raise ConnectionFailed(f"{endpoint.name} sent no UIDVALIDITY for {endpoint.mailbox!r}")
            uid_next = _untagged_int(conn, "UIDNEXT")
        yield Mailbox(conn, endpoint, validity, uid_next)
    finally:
        _close(conn)


@contextmanager
def _translated(endpoint: Endpoint) -> Iterator[None]:
    """Socket, TLS and protocol errors of the block come out as ``ConnectionFailed``."""
    try:
        yield
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise ConnectionFailed(f"IMAP connection to {endpoint.name} failed: {_describe(exc)}") from exc
    except imaplib.IMAP4.error as exc:
        raise ConnectionFailed(f"IMAP error from {endpoint.name}: {_describe(exc)}") from exc


def _connect(endpoint: Endpoint, context: ssl.SSLContext, timeout: float) -> imaplib.IMAP4:
    try:
        if endpoint.tls_mode == TlsMode.SSL:
            return imaplib.IMAP4_SSL(endpoint.host, endpoint.port, ssl_context=context, timeout=timeout)
        conn = imaplib.IMAP4(endpoint.host, endpoint.port, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        raise ConnectionFailed(f"TLS certificate of {endpoint.name} is not trusted: {exc.verify_message}") from exc
    except (OSError, imaplib.IMAP4.error, EOFError) as exc:
        raise ConnectionFailed(f"cannot connect to IMAP server {endpoint.name}: {_describe(exc)}") from exc
    try:
        if "STARTTLS" not in conn.capabilities:
            raise InsecureServer(
                f"{endpoint.name} does not offer STARTTLS: refusing to send the password in clear "
                "(use tls_mode ssl or a server with TLS)"
            )
        conn.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as exc:
        _close(conn)
        raise ConnectionFailed(f"TLS certificate of {endpoint.name} is not trusted: {exc.verify_message}") from exc
    except (OSError, imaplib.IMAP4.error, EOFError) as exc:
        _close(conn)
        raise ConnectionFailed(f"STARTTLS with {endpoint.name} failed: {_describe(exc)}") from exc
    except InsecureServer:
        _close(conn)
        raise
    return conn


def _login(conn: imaplib.IMAP4, endpoint: Endpoint, password: str) -> None:
    try:
        conn.login(endpoint.username, password)
    except imaplib.IMAP4.abort:
        raise  # the connection broke: a connection failure, not a refusal
    except imaplib.IMAP4.error as exc:
        raise LoginFailed(f"IMAP login failed for {endpoint.username} at {endpoint.name}: {_describe(exc)}") from exc


def _close(conn: imaplib.IMAP4) -> None:
    """Best effort: LOGOUT when the connection still works, else just close the socket."""
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError, EOFError, AttributeError):
        try:
            conn.shutdown()
        except (OSError, AttributeError):
            pass


def _untagged_int(conn: imaplib.IMAP4, name: str) -> int | None:
    _, data = conn.response(name)
    for item in data or []:
        raw = item.decode("ascii", "replace") if isinstance(item, bytes) else str(item)
        if raw.strip().isdigit():
            return int(raw.strip())
    return None


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: Sequence[object]) -> str:
    parts = [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item) for item in data or []]
    return " ".join(parts).strip()[:300] or "no reason given"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return (text or type(exc).__name__)[:300]
