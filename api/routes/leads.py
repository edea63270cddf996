"""``/api/leads``: the caller's business's leads."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from api.auth import require
from api.runtime import current_runtime
from api.schemas import LeadCreate, LeadsExportQuery, LeadsQuery, LeadUpdate, ScopeQuery
from api.services import leads
from api.validation import parse_body, parse_query

__all__ = ["bp"]

bp = Blueprint("leads", __name__, url_prefix="/api/leads")


@bp.get("")
async def list_leads() -> Response:
    caller = await require()
    query = parse_query(LeadsQuery)
    business_id = caller.scope(query.business_id)
    page = await current_runtime().db(
        lambda s: leads.list_leads(
            s, business_id, status=query.status, source=query.source, q=query.q, sort=query.sort,
            page=query.page, per_page=query.per_page,
        )
    )
    return jsonify(page.to_json())


@bp.post("")
async def create_lead() -> tuple[Response, int]:
    caller = await require()
    business_id = caller.scope(parse_query(ScopeQuery).business_id)
    body = await parse_body(LeadCreate)
    lead = await current_runtime().db(leads.create_lead, business_id, body.model_dump())
    return jsonify(lead), 201


@bp.get("/<int:lead_id>")
async def get_lead(lead_id: int) -> Response:
    caller = await require()
    business_id = caller.scope(parse_query(ScopeQuery).business_id)
    return jsonify(await current_runtime().db(leads.get_lead, business_id, lead_id))


@bp.patch("/<int:lead_id>")
async def update_lead(lead_id: int) -> Response:
    caller = await require()
    business_id = caller.scope(parse_query(ScopeQuery).business_id)
    body = await parse_body(LeadUpdate)
    fields = body.model_dump(exclude_unset=True)
    for name in ("phone_e164", "name", "email", "status", "notes"):
        if name in fields and fields[name] is None:
            del fields[name]  # null means "leave as is"
    return jsonify(await current_runtime().db(leads.update_lead, business_id, lead_id, fields))


@bp.get("/export.csv")
async def export_leads() -> Response:
    caller = await require()
    query = parse_query(LeadsExportQuery)
    business_id = caller.scope(query.business_id)
    chunks = await current_runtime().db(
        lambda s: list(leads.export_csv(s, business_id, status=query.status, source=query.source, q=query.q))
    )
    return Response(
        "".join(chunks),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leads-{business_id}.csv"'},
    )
