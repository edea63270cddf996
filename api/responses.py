"""Response shapes: the pydantic models the OpenAPI document shows for JSON bodies.

They document what the services' ``*_json`` functions build (routes name them with
``@responds(…, model=…)``); they are not run on every response. ``tests/api/test_responses.py``
validates real responses against them, and unknown fields are refused, so a field added to a
service without its model here fails a test rather than going undocumented.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.db.models import AttachmentStatus, CallDirection, CallStatus, LeadSource, LeadStatus, Role

__all__ = [
    "Attachment",
    "BrowserCall",
    "Business",
    "BusinessPage",
    "Call",
    "CallDetail",
    "CallPage",
    "Dashboard",
    "DeadLetter",
    "DeadLetterDetail",
    "DeadLetterPage",
    "LeadTimeline",
    "OpsOverview",
    "Requeued",
    "ErrorBody",
    "Health",
    "Lead",
    "LeadDetail",
    "LeadPage",
    "LoggedOut",
    "Readiness",
    "SessionInfo",
    "SessionsEnded",
    "User",
    "UserPage",
    "VersionInfo",
    "WebhookDelivery",
    "WebhookDeliveryPage",
    "WhatsAppHealth",
]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorDetail(Out):
    code: str = Field(description="Stable, for programs (e.g. invalid_body, not_authenticated)")
    message: str = Field(description="For people; names the problem")
    details: Any = Field(default=None, description="invalid_body/invalid_query: a list of {field, problem, type}")


class ErrorBody(Out):
    """Every error (``ApiError.to_json()``)."""

    error: ErrorDetail


class User(Out):
    id: int
    email: str
    name: str
    role: Role
    business_id: int | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class SessionInfo(Out):
    user: User
    csrf_token: str | None = Field(description="Send it as X-CSRF-Token on state-changing requests")


class LoggedOut(Out):
    logged_out: Literal[True]


class SessionsEnded(Out):
    ended: int = Field(description="How many sessions were ended (a copied cookie of any of them now gets 401)")


class Lead(Out):
    id: int
    business_id: int
    phone_e164: str
    name: str
    email: str
    status: LeadStatus
    source: LeadSource
    notes: str
    created_at: datetime
    updated_at: datetime
    last_contact_at: datetime | None


class RecentCall(Out):
    id: int
    call_sid: str
    status: CallStatus
    direction: CallDirection
    started_at: datetime | None


class LeadDetail(Lead):
    recent_calls: list[RecentCall] = Field(description="The newest 20")


class CallLead(Out):
    id: int
    name: str
    phone_e164: str
    status: LeadStatus


class Call(Out):
    id: int
    call_sid: str
    business_id: int
    lead_id: int | None
    lead: CallLead | None
    direction: CallDirection
    from_: str = Field(alias="from")
    to: str
    status: CallStatus
    end_reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    billed_duration_seconds: int | None
    has_recording: bool
    summary: str
    created_at: datetime
    test: bool = Field(description="A browser test call (POST /api/test-calls): no real caller, no lead")


class BrowserCall(Out):
    call_sid: str = Field(description="The test call's fresh CallSid (CA…)")
    ws_path: str = Field(description="Open wss://<this host><ws_path> before expires_at: /ws/browser?access=<token>")
    ws_url: str | None = Field(
        default=None,
        description="The full URL to open instead, when the calls service has its own origin (CALLS_PUBLIC_WS_URL, "
                    "the local stack); null behind a gateway: wss://<this host><ws_path>",
    )
    parameters: dict[str, str] = Field(description="start.customParameters to send (business_id, token, direction, from, to, test)")
    expires_at: datetime = Field(description="When the access token stops opening the stream (the call itself may run longer)")


class TranscriptTurn(BaseModel):
    """One turn as the call's brain recorded it (``contracts.call_record``); brains may add fields."""

    model_config = ConfigDict(extra="allow")
    speaker: str | None = Field(default=None, description="caller or agent (older records: role)")
    at_ms: int | None = Field(default=None, description="When the turn began, ms after the call started "
                                                        "(caller: speech onset; agent: first audio)")
    text: str | None = Field(default=None, description="What was said; an agent turn cut by a barge-in is cut "
                                                       "where the caller stopped hearing it")
    interrupted: bool | None = Field(default=None, description="Agent turns: the caller barged in")
    heard_ms: int | None = Field(default=None, description="Agent turns cut by a barge-in: audio heard (ms)")
    audio_ms: int | None = Field(default=None, description="Length of the turn's audio (ms)")
    dtmf: str | None = Field(default=None, description="A key press the brain logged as a turn")


class DtmfPress(Out):
    digit: str
    at_ms: int = Field(description="Milliseconds after the media stream started")


class CallDetail(Call):
    transcript: list[TranscriptTurn]
    dtmf: list[DtmfPress] = Field(description="Key presses with their time (from events.dtmf)")
    barge_ins: int = Field(description="Agent turns the caller interrupted")
    events: dict[str, Any]


class Business(Out):
    id: int
    name: str
    phone_e164: str
    whatsapp_number: str | None
    whatsapp_shard: int
    timezone: str
    language: str
    greeting: str
    brain: str
    brain_settings: dict[str, Any]
    max_concurrent_calls: int
    is_active: bool
    webhook_url: str = Field(description='"" when the business has no webhook')
    webhook_secret_set: bool = Field(description="Whether a webhook secret is stored (it is never shown)")
    recording_retention_days: int
    created_at: datetime
    updated_at: datetime


class WebhookDelivery(Out):
    id: int
    business_id: int
    event_id: str = Field(description="Sent as X-ProSaaS-Delivery; the same on every retry")
    event: Literal["call_completed", "lead_created", "lead_updated"]
    url: str = Field(description="The webhook URL when the event happened")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str
    payload: dict[str, Any] = Field(description="The JSON body POSTed")
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class Page(Out):
    page: int
    per_page: int
    total: int
    pages: int


class LeadPage(Page):
    items: list[Lead]


class CallPage(Page):
    items: list[Call]


class BusinessPage(Page):
    items: list[Business]


class WebhookDeliveryPage(Page):
    items: list[WebhookDelivery]


class UserPage(Page):
    items: list[User]


class Health(Out):
    status: Literal["ok"]
    version: str


class VersionInfo(Out):
    name: str
    version: str
    git_commit: str | None
    git_commit_source: Literal["env", "git"] | None
    build_time: str | None


class Check(Out):
    ok: bool
    detail: str


class Readiness(Out):
    status: Literal["ready", "not_ready"]
    failing: list[str] = Field(description="The names of the failing checks (database, migrations, redis)")
    checks: dict[str, Check] | None = Field(
        default=None, description="Each check's result and detail: only with ?token= (INTERNAL_SECRET)"
    )


class WhatsAppHealth(Out):
    status: Literal["ok", "degraded"]
    shards: dict[str, dict[str, Any]] = Field(description="By shard number: url, state, status, latency, health")


class Attachment(Out):
    id: int
    business_id: int
    message_id: int | None
    mime: Literal["image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"] = Field(
        description="Read from the file's bytes, not from the upload's Content-Type"
    )
    size_bytes: int
    sha256: str
    status: AttachmentStatus = Field(description="pending until the thumbnail job ran; ready or failed after")
    error: str = Field(description="Why the thumbnail job failed (status failed); empty otherwise")
    content_url: str
    thumbnail_url: str | None = Field(
        description="Set once a thumbnail exists (status ready); a PDF is ready without one when no page renders"
    )
    created_at: datetime


class HourCount(Out):
    hour: datetime = Field(description="The start of the UTC hour")
    answered: int = Field(description="Calls of the hour now in-progress or completed")
    rejected: int = Field(description="Calls of the hour the voice webhook refused")


class Cluster(Out):
    active_count: int
    capacity: int


class QueueDepth(Out):
    name: str = Field(description="An RQ queue, or failed (the dead letters)")
    depth: int


class DashboardWhatsApp(Out):
    state: str
    phone: str | None
    updated_at: str | None


class Dashboard(Out):
    business_id: int | None = Field(description="null: a system admin's view of every business")
    active_calls: int | None = Field(description="Live calls (leases); null while Redis is unreachable")
    max_concurrent_calls: int | None
    cluster: Cluster | None = Field(description="null while Redis is unreachable")
    calls_per_hour: list[HourCount] = Field(description="The last 24 UTC hours, oldest first, the current one last")
    rejected_24h: dict[str, int] = Field(description="Rejected calls of the last 24 hours by reason")
    queues: list[QueueDepth] | None = Field(description="System admins only (null for others and while Redis is down)")
    whatsapp: DashboardWhatsApp | None = Field(description="The last session state the gateway reported")
    redis_available: bool = Field(description="false: the Redis numbers are null")
    generated_at: datetime


class Instance(Out):
    id: str
    active: int | None
    capacity: int | None
    pending: int | None
    draining: bool
    version: str | None
    started_at: datetime | None
    live: bool = Field(description="false: listed in calls:instances but its hash expired")


class Worker(Out):
    name: str
    hostname: str | None
    pid: int | None
    queues: list[str]
    state: str
    current_job: str | None
    last_heartbeat: datetime | None


class Leader(Out):
    leader: str = Field(description="The replica id holding the scheduler lock")
    token: int | None = Field(description="Its fencing token")
    expires_in_ms: int


class GatewayShard(Out):
    shard: int
    url: str
    healthy: bool
    state: str = Field(description="ok, unhealthy, unreachable or wrong_shard")
    sessions: Any = Field(description="The shard's own session counts (its /health), null when unknown")
    detail: str | None


class OpsOverview(Out):
    instances: list[Instance]
    queues: list[QueueDepth]
    dead_letters: int
    workers: list[Worker]
    scheduler: Leader | None = Field(description="null: no replica holds the lock")
    gateway_shards: list[GatewayShard]
    generated_at: datetime


class DeadLetter(Out):
    id: str
    function: str
    queue: str
    reason: str = Field(description="The last line of the failure")
    error: str | None = Field(description="The exception class named by the reason, when it names one")
    failed_at: str


class DeadLetterDetail(DeadLetter):
    args: Any = Field(description="{args, kwargs}, or a note when they do not deserialize")
    traceback: str
    retries_left: int | None


class DeadLetterPage(Page):
    items: list[DeadLetter]


class Requeued(Out):
    id: str
    queue: str
    retries: int


class TimelineItem(Out):
    kind: Literal["call", "message"]
    id: int
    at: datetime = Field(description="When it happened (a call's start, else its creation; a message's time)")
    channel: Literal["call", "whatsapp", "email"]
    direction: str
    status: str
    summary: str = Field(description="A call's summary, a message's subject or the start of its text")
    duration_seconds: float | None = Field(description="Calls only")
    has_recording: bool | None = Field(description="Calls only")


class LeadTimeline(Page):
    lead_id: int
    items: list[TimelineItem] = Field(description="Newest first")
