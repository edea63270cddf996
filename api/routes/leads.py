"""``/api/leads``: the caller's business's leads, and each lead's timeline of calls and messages."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, jsonify
from quart_schema import tag_blueprint, validate_querystring, validate_request
from sqlalchemy.orm import Session

from api.auth import authenticated
from api.openapi import responds
from api.responses import Lead, LeadDetail, LeadPage, LeadTimeline
from api.routes.webhooks import enqueue_delivery
from api.runtime import current_runtime
from api.schemas import (
    LeadCreate,
    LeadsExportQuery,
    LeadsQuery,
    LeadUpdate,
    ScopeQuery,
    TimelineQuery,
    path_id,
)
from api.security import Caller
from api.services import leads, timeline, webhooks

__all__ = ["bp"]

bp = Blueprint("leads", __name__, url_prefix="/api/leads")
tag_blueprint(bp, ["leads"])
ID = path_id("lead_id")


@bp.get("")
@authenticated()
@validate_querystring(LeadsQuery)
@responds(200, "a page of leads", model=LeadPage)
async def list_leads(caller: Caller, query_args: LeadsQuery) -> Response:
    """List leads (filter, search, paginate)"""
    query = query_args
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(
        lambda s: leads.list_leads(
            s, business_id, status=query.status, source=query.source, q=query.q, sort=query.sort,
            page=query.page, per_page=query.per_page,
        )
    )
    return jsonify(page.to_json())


@bp.post("")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(LeadCreate)
@responds(201, "created", model=Lead)
@responds(409, "the phone number is already a lead")
async def create_lead(caller: Caller, query_args: ScopeQuery, data: LeadCreate) -> tuple[Response, int]:
    """Create a lead"""
    business_id = caller.scope(query_args.business_id)
    lead, delivery_id = await current_runtime().db(
        lambda s: _with_event(s, business_id, webhooks.LEAD_CREATED, leads.create_lead(s, business_id, data.model_dump()))
    )
    await enqueue_delivery(delivery_id)
    return jsonify(lead), 201


@bp.get(f"/{ID}")
@authenticated()
@validate_querystring(ScopeQuery)
@responds(200, "the lead and its recent calls", model=LeadDetail)
async def get_lead(caller: Caller, query_args: ScopeQuery, lead_id: int) -> Response:
    """Lead detail with recent calls"""
    business_id = caller.scope(query_args.business_id)
    return jsonify(await current_runtime().db(leads.get_lead, business_id, lead_id))


@bp.patch(f"/{ID}")
@authenticated()
@validate_querystring(ScopeQuery)
@validate_request(LeadUpdate)
@responds(200, "updated", model=Lead)
@responds(409, "the phone number belongs to another lead")
async def update_lead(caller: Caller, query_args: ScopeQuery, data: LeadUpdate, lead_id: int) -> Response:
    """Update a lead (status, name, …)"""
    business_id = caller.scope(query_args.business_id)
    fields = data.model_dump(exclude_unset=True)
    for name in ("phone_e164", "name", "email", "status", "notes"):
        if name in fields and fields[name] is None:
            del fields[name]  # null means "leave as is"
    lead, delivery_id = await current_runtime().db(
        lambda s: _with_event(s, business_id, webhooks.LEAD_UPDATED, leads.update_lead(s, business_id, lead_id, fields))
    )
    await enqueue_delivery(delivery_id)
    return jsonify(lead)


def _with_event(session: Session, business_id: int, event: str, lead: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The lead's JSON, and the webhook delivery recorded in the same transaction (if any)."""
    return lead, webhooks.record_lead_event(session, business_id, event, int(lead["id"]))


@bp.get("/export.csv")
@authenticated()
@validate_querystring(LeadsExportQuery)
@responds(200, "the leads as CSV", content="text/csv")
async def export_leads(caller: Caller, query_args: LeadsExportQuery) -> Response:
    """Export leads as CSV"""
    query = query_args
    business_id = caller.scope(query.business_id)
    chunks = await current_runtime().db(
        lambda s: list(leads.export_csv(s, business_id, status=query.status, source=query.source, q=query.q))
    )
    return Response(
        "".join(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leads-{business_id}.csv"'},
    )


@bp.get(f"/{ID}/timeline")
@authenticated()
@validate_querystring(TimelineQuery)
@responds(200, "the lead's calls and messages, newest first", model=LeadTimeline)
async def lead_timeline(caller: Caller, query_args: TimelineQuery, lead_id: int) -> Response:
    """Lead timeline: calls and messages, newest first

    Paged over the merged sequence (at most 50 pages of up to 100 items); a lead of another
    business is 404.
    """
    query = query_args
    business_id = caller.scope(query.business_id)
    return jsonify(await current_runtime().db(
        lambda s: timeline.lead_timeline(s, business_id, lead_id, page=query.page, per_page=query.per_page)
    ))
