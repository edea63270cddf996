"""Request shapes: the pydantic models quart-schema validates bodies, query strings and Twilio's
forms with (``@validate_request`` / ``@validate_querystring`` on each route), and from which it
generates the OpenAPI document. JSON bodies and query strings refuse unknown fields; Twilio's
forms allow them (Twilio adds parameters over time and signs them all).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from quart_schema.pydantic import File
from werkzeug.exceptions import NotFound
from werkzeug.routing.converters import IntegerConverter

from api.db.models import CallStatus as TwilioCallStatus
from api.db.models import LeadSource, LeadStatus, Role
from api.phones import normalize_e164
from contracts.call_setup import brain_settings_problems

__all__ = [
    "AttachmentUpload",
    "BusinessCreate",
    "BusinessUpdate",
    "CallsQuery",
    "DeadLettersQuery",
    "DeliveriesQuery",
    "IdConverter",
    "LeadCreate",
    "LeadUpdate",
    "LeadsExportQuery",
    "LeadsQuery",
    "LoginBody",
    "NoQuery",
    "OutboundCall",
    "PageQuery",
    "ScopeQuery",
    "TimelineQuery",
    "Strict",
    "TwilioCallback",
    "TwilioStatusCallback",
    "TwilioVoice",
    "UserCreate",
    "UserUpdate",
    "UsersQuery",
    "path_id",
]

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
MAX_COUNT = 2**31 - 1  # Twilio's counters land in 32-bit integer columns
NUL = "\x00"


class IdConverter(IntegerConverter):
    """``<id(min=1, max=…):name>``: werkzeug's ``int`` whose out-of-range value is 404 at once.

    The stock converter's refusal makes werkzeug answer 405 to a PATCH of ``/api/leads/<huge>``
    (it then looks for another rule); an id that cannot exist is simply not found.
    """

    regex = r"[0-9]+"  # ASCII digits only (``\d`` would take ``١``)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(self.max or MAX_ID)):
            raise NotFound("no such id")  # and int() never sees thousands of digits
        number = int(value)
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            raise NotFound("no such id")
        return number


def path_id(name: str) -> str:
    """The URL rule of an id in a path: a larger (or zero) id is 404 before any query runs."""
    return f"<id(min=1, max={MAX_ID}):{name}>"


def _nul_at(value: Any, path: str = "") -> str | None:
    """Where ``value`` (a field's raw input, nested lists and objects included) holds a NUL."""
    if isinstance(value, str):
        return path if NUL in value else None
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and NUL in key:
            return where
        found = _nul_at(item, where)
        if found is not None:
            return found
    return None


class Strict(BaseModel):
    """Base of every JSON body and query model: unknown fields are an error, strings are stripped,
    and no text anywhere in a field (nested JSON included) may hold a NUL character, which
    PostgreSQL cannot store (one check for every field of every body and query string)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        where = _nul_at(value)
        if where is not None:
            inside = f" (at {where})" if where else ""
            raise PydanticCustomError("nul_character", "text must not contain a NUL character{inside}", {"inside": inside})
        return value


def _phone(value: str) -> str:
    normalized = normalize_e164(value)
    if normalized is None:
        raise ValueError("expected an E.164 phone number such as +15550100000")
    return normalized


Phone = Annotated[str, Field(min_length=8, max_length=32), AfterValidator(_phone)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text200 = Annotated[str, Field(max_length=200)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), AfterValidator(str.lower)]


class NoQuery(Strict):
    """Routes that take no query parameters (any given is refused)."""


class ScopeQuery(Strict):
    business_id: Id | None = None


class PageQuery(Strict):
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=25, ge=1, le=200)


class Paging(PageQuery):
    business_id: Id | None = None


class UsersQuery(Paging):
    pass


class LoginBody(Strict):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=1024)


class LeadsExportQuery(Strict):
    business_id: Id | None = None
    status: LeadStatus | None = None
    source: LeadSource | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)


class LeadsQuery(Paging):
    status: LeadStatus | None = None
    source: LeadSource | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)
    sort: Literal["created_at", "-created_at", "+created_at", "name", "last_contact_at"] = "created_at"


class LeadCreate(Strict):
    phone_e164: Phone
    name: Text200 = ""
    email: Email | Literal[""] = ""
    status: LeadStatus = LeadStatus.NEW
    source: LeadSource = LeadSource.MANUAL
    notes: Annotated[str, Field(max_length=10_000)] = ""


class LeadUpdate(Strict):
    phone_e164: Phone | None = None
    name: Text200 | None = None
    email: Email | Literal[""] | None = None
    status: LeadStatus | None = None
    notes: Annotated[str, Field(max_length=10_000)] | None = None


class CallsQuery(Paging):
    status: Literal[
        "queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled", "rejected"
    ] | None = None
    direction: Literal["inbound", "outbound"] | None = None
    lead_id: Id | None = None
    from_: datetime | None = Field(default=None, alias="from", description="Calls created at or after (ISO 8601)")
    to: datetime | None = Field(default=None, description="Calls created before (ISO 8601)")
    q: str | None = Field(default=None, min_length=1, max_length=32,
                          description="Part of the caller's or called number (digits and +)")

    @field_validator("from_", "to")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is read as UTC; every time is compared in UTC."""
        if value is None:
            return None
        try:
            return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC datetime
            raise PydanticCustomError("datetime_range", "the time is out of range in UTC") from None

    @field_validator("q")
    @classmethod
    def _number_part(cls, value: str | None) -> str | None:
        if value is not None and not all(c.isascii() and (c.isdigit() or c == "+") for c in value):
            raise PydanticCustomError("number_part", "q must hold only digits and +")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CallsQuery:
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise PydanticCustomError("range_order", "from must be before to")
        return self


class TimelineQuery(Strict):
    business_id: Id | None = None
    page: int = Field(default=1, ge=1, le=50, description="At most 50 pages deep")
    per_page: int = Field(default=50, ge=1, le=100)


class DeadLettersQuery(Strict):
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=25, ge=1, le=200)


class OutboundCall(Strict):
    lead_id: Id


class AttachmentUpload(Strict):
    """``multipart/form-data`` with exactly one part, ``file``; its Content-Type and name are
    ignored (the type is read from the bytes)."""

    file: File


BRAINS = Literal["receptionist", "echo", "openai_realtime"]


def _usable_brain_settings(value: dict[str, Any]) -> dict[str, Any]:
    """The calls service reads ``menu`` and ``prompts`` with the contract's reader: refuse what
    it would skip (a key that is not on a keypad, an intent without a name, a prompt that is
    not text), naming each problem."""
    problems = brain_settings_problems(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


BrainSettings = Annotated[dict[str, Any], AfterValidator(_usable_brain_settings)]


class BusinessCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone_e164: Phone
    whatsapp_number: Phone | None = None
    whatsapp_shard: int = Field(default=1, ge=1, le=64)
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "en"
    greeting: Annotated[str, Field(max_length=2000)] = ""
    brain: BRAINS = "receptionist"
    brain_settings: BrainSettings = Field(default_factory=dict)
    max_concurrent_calls: int = Field(default=5, ge=0, le=10_000)


class BusinessUpdate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    phone_e164: Phone | None = None
    whatsapp_number: Phone | None = None
    whatsapp_shard: int | None = Field(default=None, ge=1, le=64)
    timezone: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] | None = None
    greeting: Annotated[str, Field(max_length=2000)] | None = None
    brain: BRAINS | None = None
    brain_settings: BrainSettings | None = None
    max_concurrent_calls: int | None = Field(default=None, ge=0, le=10_000)
    is_active: bool | None = None
    webhook_url: Annotated[
        str, Field(max_length=2000, description='Outbound webhooks go here; "" turns them off')
    ] | None = None
    webhook_secret: Annotated[
        str, Field(min_length=16, max_length=256, description="Signs each webhook (HMAC-SHA256); write-only")
    ] | None = None
    recording_retention_days: int | None = Field(
        default=None, ge=0, le=3650, description="Recordings older than this are deleted; 0 keeps them"
    )


class DeliveriesQuery(Paging):
    status: Literal["pending", "delivered", "failed"] | None = None
    event: Literal["call_completed", "lead_created", "lead_updated"] | None = None


class UserCreate(Strict):
    email: Email
    name: Text200 = ""
    password: Annotated[str, Field(min_length=10, max_length=1024)]
    role: Role = Role.AGENT
    business_id: Id | None = None


class UserUpdate(Strict):
    name: Text200 | None = None
    password: Annotated[str, Field(min_length=10, max_length=1024)] | None = None
    role: Role | None = None
    is_active: bool | None = None


# --- Twilio webhooks (form-encoded; validated only after the signature check) ----------------

def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise ValueError(f"must be a non-negative integer of at most 10 ASCII digits (≤ {MAX_COUNT})")
    return value


def _rfc2822(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            raise ValueError("must be an RFC 2822 date") from None
    return value


# Before-validators run last-listed first: "" becomes None, then anything else must be digits.
Sid = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,64}$", description="Twilio's call id")]
Count = Annotated[int | None, Field(le=MAX_COUNT), BeforeValidator(_digits), BeforeValidator(_blank_is_none)]
Date = Annotated[datetime | None, BeforeValidator(_rfc2822), BeforeValidator(_blank_is_none)]


class TwilioCallback(BaseModel):
    """The form of a Twilio call webhook: ``CallSid`` is required; Twilio's other (and future)
    parameters are kept as given."""

    model_config = ConfigDict(extra="allow")

    CallSid: Sid

    @model_validator(mode="before")
    @classmethod
    def _strip_nul(cls, data: Any) -> Any:
        """Twilio's values are taken as sent, minus NUL characters (nothing downstream, TwiML
        or PostgreSQL, can carry them); the signature was checked on the form as sent."""
        if isinstance(data, dict):
            return {k.replace(NUL, ""): v.replace(NUL, "") if isinstance(v, str) else v for k, v in data.items()}
        return data


class TwilioVoice(TwilioCallback):
    """``/twilio/voice``: an inbound call, or the answer of an outbound call we placed."""

    To: str = ""
    From: str = ""
    Direction: str = ""
    CallStatus: str = ""


class TwilioStatusCallback(TwilioCallback):
    """``/twilio/status``: a call's progress or final status."""

    CallStatus: TwilioCallStatus
    CallDuration: Count = None
    SequenceNumber: Count = None
    Timestamp: Date = None
