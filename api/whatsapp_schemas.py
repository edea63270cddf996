"""Request and response models of ``/api/whatsapp`` (kept apart from ``api.schemas`` and
``api.responses`` so the WhatsApp routes are one reviewable unit)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from api.responses import Out, Page
from api.schemas import Id, Paging, Phone, Strict

__all__ = [
    "ConversationPage",
    "MessagePage",
    "MessagesQuery",
    "ReadResult",
    "SendBody",
    "WhatsAppMessage",
    "WhatsAppQr",
    "WhatsAppStatus",
]

State = Literal["stopped", "starting", "qr", "connected", "logged_out", "failed", "unknown"]


class SendBody(Strict):
    """A text message to one lead (``lead_id``) or one phone (``phone``): exactly one of them."""

    lead_id: Id | None = None
    phone: Phone | None = None
    text: Annotated[str, Field(min_length=1, max_length=4096)]

    @model_validator(mode="after")
    def _one_recipient(self) -> SendBody:
        if (self.lead_id is None) == (self.phone is None):
            raise ValueError("give exactly one of lead_id and phone")
        return self


class MessagesQuery(Paging):
    pass


class Me(Out):
    phone: str | None
    lid: str | None


class WhatsAppStatus(Out):
    business_id: int
    shard_id: int = Field(description="business.whatsapp_shard: the gateway shard that holds the session")
    state: State
    reason: str | None
    me: Me | None
    qr: str | None = Field(default=None, description="The QR to scan while state is qr (POST /connect)")
    limited_until: str | None = Field(description="WhatsApp refuses new contacts until then (error 463)")
    updated_at: str | None
    gateway_reachable: bool
    source: Literal["gateway", "stored", "none"] = Field(
        description="gateway: asked now; stored: the last state a gateway event reported (gateway down)")
    detail: str | None = Field(default=None, description="Why the gateway could not be asked")


class WhatsAppQr(Out):
    qr: str
    expires_at: str


class WhatsAppMessage(Out):
    id: int
    lead_id: int | None
    direction: Literal["inbound", "outbound"]
    message_id: str = Field(description="WhatsApp's message id")
    peer: str = Field(description="The other side: E.164 phone, or a LID when WhatsApp gave no phone")
    body: str
    media: list[Any]
    status: str = Field(description="outbound: sent, server_ack, delivered, read, failed; inbound: received, read")
    created_at: str | None
    duplicate: bool | None = Field(default=None, description="POST /messages: the idempotency key was seen before")


class MessagePage(Page):
    items: list[WhatsAppMessage]


class ConversationLead(Out):
    id: int
    name: str
    phone_e164: str
    status: str


class Conversation(Out):
    lead: ConversationLead
    last_message: WhatsAppMessage
    unread: int


class ConversationPage(Page):
    items: list[Conversation]


class ReadResult(Out):
    marked: int = Field(description="Inbound messages marked read here")
    receipts: Literal["sent", "none", "failed"] = Field(description="Read receipts to the sender's phone")
    detail: str | None = None
