"""``/api/broadcasts``: WhatsApp broadcasts of the caller's business (docs/ARCHITECTURE.md §5).

Create one from a lead filter (``status``/``source``/``q`` as ``GET /api/leads``) or a list of
lead ids, with text and an optional attachment; then start, pause, resume or cancel it. The
``Idempotency-Key`` header (or the ``idempotency_key`` field) makes a double-submit one
broadcast: the second answer is 200 with the first one. Shapes live here, next to the only
routes that use them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

import trio
from pydantic import Field, model_validator
from quart import Blueprint, Response, jsonify, request
from quart_schema import tag_blueprint, validate_querystring, validate_request
from redis import RedisError

from api.auth import authenticated
from api.db.models import BroadcastStatus, LeadSource, LeadStatus, utcnow
from api.errors import Unprocessable
from api.openapi import responds
from api.responses import Out, Page
from api.runtime import current_runtime
from api.schemas import Id, Paging, ScopeQuery, Strict, path_id
from api.security import Caller
from api.services import broadcasts
from jobs.enqueue import enqueue_broadcast

__all__ = ["bp"]

log = logging.getLogger(__name__)
bp = Blueprint("broadcasts", __name__, url_prefix="/api/broadcasts")
tag_blueprint(bp, ["broadcasts"])
ID = path_id("broadcast_id")
KEY_HEADER = "Idempotency-Key"
Key = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class Audience(Strict):
    """Either ``lead_ids`` or a filter (none given: every lead of the business)."""

    lead_ids: list[Id] | None = Field(default=None, min_length=1, max_length=broadcasts.MAX_RECIPIENTS)
    status: LeadStatus | None = None
    source: LeadSource | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _one_kind(self) -> Audience:
        if self.lead_ids is not None and (self.status or self.source or self.q):
            raise ValueError("give either lead_ids or a filter (status, source, q), not both")
        return self


class BroadcastCreate(Strict):
    name: Annotated[str, Field(max_length=200)] = ""
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    attachment_id: Id | None = None
    audience: Audience = Field(default_factory=Audience)
    idempotency_key: Key | None = Field(default=None, description=f"Or the {KEY_HEADER} header")


class BroadcastsQuery(Paging):
    status: BroadcastStatus | None = None


class Progress(Out):
    total: int
    sent: int
    failed: int
    skipped: int = Field(description="Opted out, or cancelled before its turn")
    pending: int = Field(description="Not sent yet (waiting, backing off, or being sent)")


class Broadcast(Out):
    id: int
    business_id: int
    name: str
    text: str
    attachment_id: int | None
    status: BroadcastStatus
    progress: Progress
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BroadcastPage(Page):
    items: list[Broadcast]


class Transitioned(Broadcast):
    job_queued: bool = Field(description="False when Redis refused: the watchdog queues it within minutes")


@bp.get("")
@authenticated()
@validate_querystring(BroadcastsQuery)
@responds(200, "a page of broadcasts with their progress", model=BroadcastPage)
async def list_broadcasts(caller: Caller, query_args: BroadcastsQuery) -> Response:
    """List broadcasts"""
    q = query_args
    business_id = caller.scope(q.business_id)
    page = await current_runtime().db(
        lambda s: broadcasts.list_broadcasts(s, business_id, status=q.status, page=q.page, per_page=q.per_page)
    )
    return jsonify(page.to_json())


@bp.post("")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(BroadcastCreate)
@responds(201, "created (status accepted; start it to send)", model=Broadcast)
@responds(200, "the idempotency key was used before: the first broadcast", model=Broadcast)
@responds(422, "no recipient matches, unknown lead ids or attachment, or a bad Idempotency-Key")
async def create_broadcast(caller: Caller, query_args: ScopeQuery, data: BroadcastCreate) -> tuple[Response, int]:
    """Create a broadcast"""
    business_id = caller.scope(query_args.business_id)
    key = _idempotency_key(data.idempotency_key)
    aud = data.audience
    made, new = await current_runtime().db(
        lambda s: broadcasts.create_broadcast(
            s, business_id, text=data.text, name=data.name, attachment_id=data.attachment_id,
            lead_ids=list(aud.lead_ids) if aud.lead_ids is not None else None, status=aud.status,
            source=aud.source, q=aud.q, idempotency_key=key,
        )
    )
    return jsonify(made), 201 if new else 200


def _idempotency_key(field: str | None) -> str | None:
    header = request.headers.get(KEY_HEADER)
    if header is None:
        return field
    header = header.strip()
    if not header or len(header) > 100 or not all(c.isalnum() or c in "._:-" for c in header) or not header.isascii():
        raise Unprocessable(f"the {KEY_HEADER} header must be 1-100 characters of A-Z a-z 0-9 . _ : -",
                            code="invalid_idempotency_key")
    if field is not None and field != header:
        raise Unprocessable(f"the {KEY_HEADER} header and the idempotency_key field differ",
                            code="invalid_idempotency_key")
    return header


@bp.get(f"/{ID}")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the broadcast and its progress", model=Broadcast)
async def get_broadcast(caller: Caller, query_args: ScopeQuery, broadcast_id: int) -> Response:
    """Broadcast detail"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await current_runtime().db(broadcasts.get_broadcast, business_id, broadcast_id))


async def _act(caller: Caller, query_args: ScopeQuery, broadcast_id: int,
               action: Literal["start", "pause", "resume", "cancel"]) -> Response:
    business_id = caller.scope(query_args.business_id)
    rt = current_runtime()
    row = await rt.db(broadcasts.transition, business_id, broadcast_id, action)
    queued = True
    if action in ("start", "resume"):
        key = f"{action}-{int(utcnow().timestamp() * 1000)}"
        client = rt.queue_redis()
        try:
            job_id = await trio.to_thread.run_sync(
                lambda: enqueue_broadcast(client, broadcast_id, key=key), limiter=rt.redis_limiter)
            await rt.db(broadcasts.record_job, business_id, broadcast_id, job_id)
        except RedisError as exc:
            queued = False
            log.warning("broadcast %d: %s committed but the job was not queued (%s); the watchdog will",
                        broadcast_id, action, exc)
    return jsonify({**row, "job_queued": queued})


def _action_route(action: Literal["start", "pause", "resume", "cancel"], summary: str, ok: str) -> None:
    @bp.post(f"/{ID}/{action}")
    @authenticated()
    @validate_querystring(ScopeQuery)
    @responds(200, ok, model=Transitioned)
    @responds(409, "not allowed from the broadcast's state (details.status, details.allowed_actions)")
    async def route(caller: Caller, query_args: ScopeQuery, broadcast_id: int) -> Response:
        return await _act(caller, query_args, broadcast_id, action)

    route.__name__ = f"{action}_broadcast"
    route.__doc__ = summary


_action_route("start", "Start sending a broadcast", "running; the first chunk is queued")
_action_route("pause", "Pause a broadcast", "paused; sending stops at the next recipient")
_action_route("resume", "Resume a paused broadcast", "running again; a chunk is queued")
_action_route("cancel", "Cancel a broadcast", "cancelled; the recipients not sent yet are skipped")
