"""WhatsApp opt-outs: phones that asked a business to send them nothing more.

A contact opts out by sending one of ``OPT_OUT_KEYWORDS`` as the *whole* message (any case,
surrounding spaces and punctuation ignored: "Stop!" counts, "please stop calling" does not —
a person writing a sentence wants an answer, not silence); ``OPT_IN_KEYWORDS`` undo it.
``CANCEL``/``END``/``QUIT`` (SMS carrier words) are left out on purpose: customers of a
booking business send "cancel" about an appointment.

The broadcast jobs import this module (tests/test_boundaries.py allow-list) and call
``is_opted_out`` (or ``opted_out_phones`` for a batch) before each send. Data logic only.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.models import WhatsAppOptOut

__all__ = [
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "is_opted_out",
    "keyword_of",
    "opt_in",
    "opt_out",
    "opted_out_phones",
]

OPT_OUT_KEYWORDS = frozenset({"stop", "stopall", "stop all", "unsubscribe", "optout", "opt out", "opt-out"})
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "subscribe"})
_TRIM = " \t\r\n.!?¡¿,;:'\"()[]*_~"


def keyword_of(text: str) -> tuple[str, str] | None:
    """``("out"|"in", keyword)`` when the whole message is an opt-out/opt-in keyword."""
    word = " ".join(text.strip(_TRIM).casefold().split())
    if word in OPT_OUT_KEYWORDS:
        return "out", word
    if word in OPT_IN_KEYWORDS:
        return "in", word
    return None


def is_opted_out(session: Session, business_id: int, phone: str) -> bool:
    """Whether ``phone`` (E.164) opted out of the business's WhatsApp messages."""
    found = session.scalar(
        select(WhatsAppOptOut.id).where(WhatsAppOptOut.business_id == business_id, WhatsAppOptOut.phone_e164 == phone)
    )
    return found is not None


def opted_out_phones(session: Session, business_id: int, phones: Iterable[str]) -> set[str]:
    """The subset of ``phones`` that opted out (one query per 500 phones)."""
    wanted = list(dict.fromkeys(phones))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(
            select(WhatsAppOptOut.phone_e164).where(
                WhatsAppOptOut.business_id == business_id, WhatsAppOptOut.phone_e164.in_(chunk)
            )
        ))
    return found


def opt_out(session: Session, business_id: int, phone: str, *, source: str = "manual", keyword: str = "") -> bool:
    """Record the opt-out (idempotent). True when it is new. Flushes; the caller commits."""
    if is_opted_out(session, business_id, phone):
        return False
    try:
        with session.begin_nested():
            session.add(WhatsAppOptOut(business_id=business_id, phone_e164=phone, source=source, keyword=keyword[:32]))
    except IntegrityError:
        return False  # a concurrent request recorded it first
    return True


def opt_in(session: Session, business_id: int, phone: str) -> bool:
    """Remove the opt-out. True when there was one."""
    result = session.execute(
        delete(WhatsAppOptOut).where(WhatsAppOptOut.business_id == business_id, WhatsAppOptOut.phone_e164 == phone)
    )
    return bool(getattr(result, "rowcount", 0))
