"""Reading one fetched email into the fields of a ``message`` row (pure: no I/O).

``parse_message`` never raises on a malformed message: a mailbox is whatever senders put in it,
and one broken message must not stop the sync of the others. Missing pieces get defaults
(no Date → ``sent_at`` None, no usable text → empty body). NUL characters are dropped because
PostgreSQL's ``text`` refuses them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

__all__ = ["MAX_BODY_CHARS", "ParsedEmail", "html_to_text", "parse_message"]

MAX_BODY_CHARS = 100_000  # a message row is for reading and search, not for archiving newsletters
MAX_EXTERNAL_ID = 255  # message.external_id's length
MAX_PEER = 254  # message.peer's length (an address's longest legal form)
MAX_SUBJECT = 2_000


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """What the sync stores of one message.

    Attributes:
        external_id: The Message-ID header (angle brackets kept), or, without one, a digest of
            the raw message: the same message fetched again (after a UIDVALIDITY change, say)
            gets the same id, so the message table's unique key dedupes it.
        sender: The From address, lower-cased ("" when there is none).
        subject: The decoded Subject.
        body: The plain-text part, or the HTML part reduced to text.
        sent_at: The Date header in UTC, or None when missing or unreadable.
    """

    external_id: str
    sender: str
    subject: str
    body: str
    sent_at: datetime | None


def parse_message(raw: bytes) -> ParsedEmail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    return ParsedEmail(
        external_id=_external_id(_header(msg, "Message-ID"), raw),
        sender=_sender(msg),
        subject=_clean(_header(msg, "Subject"))[:MAX_SUBJECT],
        body=_clean(_body(msg))[:MAX_BODY_CHARS],
        sent_at=_date(_header(msg, "Date")),
    )


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError, AttributeError):  # a header the parser cannot decode
        value = msg.get_all(name, failobj=[None])[0] if hasattr(msg, "get_all") else None
    return "" if value is None else str(value)


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _external_id(message_id: str, raw: bytes) -> str:
    found = _clean(" ".join(message_id.split()))
    if found and len(found) <= MAX_EXTERNAL_ID:
        return found
    if found:  # absurdly long: keep it unique and within the column
        return "mid-sha256:" + hashlib.sha256(found.encode("utf-8", "replace")).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _sender(msg: Message) -> str:
    for name in ("From", "Sender", "Reply-To"):
        for _, address in getaddresses([_header(msg, name)]):
            address = _clean(address).lower()
            if "@" in address and len(address) <= MAX_PEER:
                return address
    return ""


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # RFC 5322 "-0000": the zone is unknown; read it as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _body(msg: Message) -> str:
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=("plain", "html"))
        except (KeyError, ValueError, TypeError):
            part = None
        if part is not None:
            text = _content(part)
            return html_to_text(text) if part.get_content_subtype() == "html" else text
        if msg.is_multipart():
            return ""
    if msg.get_content_maintype() == "text":
        text = _content(msg)
        return html_to_text(text) if msg.get_content_subtype() == "html" else text
    return ""


def _content(part: Message) -> str:
    """The part's text; an unknown or lying charset is decoded as UTF-8 with replacements."""
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError, TypeError, AssertionError):
        pass
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return payload if isinstance(payload, str) else ""


class _TextExtractor(HTMLParser):
    SKIP = frozenset({"script", "style", "head", "title"})
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: tags, scripts and styles dropped, entities decoded."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = _SPACES.sub(" ", "".join(extractor.parts))
    lines = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", lines).strip()
