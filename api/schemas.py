"""Request shapes (pydantic; unknown fields refused). Responses are documented in openapi.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from api.db.models import LeadSource, LeadStatus, Role
from api.phones import normalize_e164
from api.validation import Strict

__all__ = [
    "BusinessCreate",
    "BusinessUpdate",
    "CallsQuery",
    "LeadCreate",
    "LeadUpdate",
    "LeadsExportQuery",
    "LeadsQuery",
    "OutboundCall",
    "ScopeQuery",
    "UserCreate",
    "UserUpdate",
]


def _phone(value: str) -> str:
    normalized = normalize_e164(value)
    if normalized is None:
        raise ValueError("expected an E.164 phone number such as +15550100000")
    return normalized


Phone = Annotated[str, Field(min_length=8, max_length=32), AfterValidator(_phone)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text200 = Annotated[str, Field(max_length=200)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), AfterValidator(str.lower)]


class ScopeQuery(Strict):
    business_id: Id | None = None


class Paging(Strict):
    business_id: Id | None = None
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=25, ge=1, le=200)


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


class OutboundCall(Strict):
    lead_id: Id


BRAINS = Literal["receptionist", "echo", "openai_realtime"]


class BusinessCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone_e164: Phone
    whatsapp_number: Phone | None = None
    whatsapp_shard: int = Field(default=1, ge=1, le=64)
    timezone: Annotated[str, Field(min_length=1, max_length=64)] = "UTC"
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = "en"
    greeting: Annotated[str, Field(max_length=2000)] = ""
    brain: BRAINS = "receptionist"
    brain_settings: dict[str, Any] = Field(default_factory=dict)
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
    brain_settings: dict[str, Any] | None = None
    max_concurrent_calls: int | None = Field(default=None, ge=0, le=10_000)
    is_active: bool | None = None


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
