"""jobs.email.message: raw email → the fields of a message row (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from jobs.email.message import MAX_BODY_CHARS, html_to_text, parse_message


def build(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_plain_message_gives_id_sender_subject_body_and_date() -> None:
    msg = build(From="Alice Smith <Alice@Example.TEST>", Subject="Quote please",
                Message_ID="<abc@mail.example>", Date="Fri, 04 Dec 2026 10:30:00 +0200")
    msg.set_content("Hello,\nhow much for a kitchen?\n")
    parsed = parse_message(msg.as_bytes())
    assert parsed.external_id == "<abc@mail.example>"
    assert parsed.sender == "alice@example.test"
    assert parsed.subject == "Quote please"
    assert parsed.body == "Hello,\nhow much for a kitchen?"
    assert parsed.sent_at == datetime(2026, 12, 4, 8, 30, tzinfo=UTC)


def test_plain_part_is_preferred_over_html() -> None:
    msg = build(From="a@b.test", Subject="x")
    msg.set_content("the plain text")
    msg.add_alternative("<p>the <b>html</b></p>", subtype="html")
    assert parse_message(msg.as_bytes()).body == "the plain text"


def test_html_only_message_is_reduced_to_text() -> None:
    msg = build(From="a@b.test", Subject="Offer")
    msg.set_content(
        "<html><head><style>p{color:red}</style><title>t</title></head><body><p>Hi&nbsp;there &amp; welcome</p>"
        "<script>alert(1)</script><div>Line two</div></body></html>", subtype="html",
    )
    assert parse_message(msg.as_bytes()).body == "Hi\xa0there & welcome\n\nLine two"


def test_encoded_subject_and_latin1_body_are_decoded() -> None:
    raw = (b"From: =?utf-8?q?Ren=C3=A9?= <rene@example.test>\r\nSubject: =?utf-8?b?Q2Fmw6kgw6AgUGFyaXM=?=\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9\r\n")
    parsed = parse_message(raw)
    assert (parsed.sender, parsed.subject, parsed.body) == ("rene@example.test", "Café à Paris", "café")


def test_message_without_message_id_gets_a_stable_content_digest() -> None:
    raw = b"From: a@b.test\r\nSubject: no id\r\n\r\nbody\r\n"
    first, again = parse_message(raw), parse_message(raw)
    assert first.external_id.startswith("sha256:") and first.external_id == again.external_id
    assert parse_message(raw + b"more\r\n").external_id != first.external_id


def test_overlong_message_id_is_hashed_into_the_column() -> None:
    parsed = parse_message(b"Message-ID: <" + b"x" * 400 + b"@y>\r\nFrom: a@b.test\r\n\r\nhi\r\n")
    assert parsed.external_id.startswith("mid-sha256:") and len(parsed.external_id) <= 255


def test_broken_headers_and_bodies_never_raise() -> None:
    raw = (b"From: not an address\r\nDate: yesterday-ish\r\nSubject: \x00bad\r\n"
           b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nab\x00c \xff\xfe\r\n")
    parsed = parse_message(raw)
    assert parsed.sender == "" and parsed.sent_at is None
    assert "\x00" not in parsed.subject and "\x00" not in parsed.body and parsed.body.startswith("abc")


def test_date_without_zone_reads_as_utc_and_body_is_capped() -> None:
    msg = build(From="a@b.test", Date="Fri, 04 Dec 2026 10:30:00 -0000")
    msg.set_content("y" * (MAX_BODY_CHARS + 500))
    parsed = parse_message(msg.as_bytes())
    assert parsed.sent_at == datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    assert len(parsed.body) == MAX_BODY_CHARS


def test_attachment_only_message_has_an_empty_body() -> None:
    msg = build(From="a@b.test")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="x.pdf")
    assert parse_message(msg.as_bytes()).body == ""


def test_html_to_text_keeps_line_breaks_between_blocks() -> None:
    assert html_to_text("<ul><li>one</li><li>two</li></ul>x<br>y") == "one\n\ntwo\nx\ny"
