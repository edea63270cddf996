"""The OpenAPI 3.1 document served at ``/api/openapi.json``.

One table (``OPERATIONS``) names every route with its query and body models (the same
pydantic models the handlers parse with), so parameters and bodies cannot drift from the code;
``tests/api/test_openapi.py`` checks that the table and the app's URL map list the same routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from api import __version__, schemas
from api.routes.auth import LoginBody
from api.routes.directory import NoQuery, PageQuery, UsersQuery

__all__ = ["OPERATIONS", "Operation", "build_openapi"]

ERROR = {"$ref": "#/components/schemas/Error"}
JSON_OBJECT = {"type": "object"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    auth: str = "session"  # session | twilio | token | none
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    form: tuple[str, ...] = ()  # Twilio form fields (required ones)
    responses: dict[str, str] = field(default_factory=dict)
    content: str = "application/json"


def _twilio(path: str, summary: str, fields: tuple[str, ...], content: str) -> Operation:
    return Operation("post", path, summary, "twilio", auth="twilio", form=fields,
                     responses={"200": "TwiML", "204": "reconciled", "400": "bad form", "403": "bad signature"}, content=content)


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/api/health", "Liveness: process up, version", "runbook", auth="none", responses={"200": "ok"}),
    Operation("get", "/readyz", "Readiness: database, migrations, Redis", "runbook", auth="none",
              responses={"200": "ready", "503": "a check failed (named)"}),
    Operation("get", "/version", "Package version, git commit, build time", "runbook", auth="none", responses={"200": "ok"}),
    Operation("get", "/metrics.json", "Request, call, queue and shard metrics", "runbook", auth="token",
              responses={"200": "metrics", "401": "missing or wrong token"}),
    Operation("get", "/health/whatsapp", "Per-shard WhatsApp gateway health", "runbook", auth="none",
              responses={"200": "all shards healthy", "503": "a shard is unreachable or unhealthy"}),
    _twilio("/twilio/voice", "Inbound/answered call: Connect Stream or Reject", ("CallSid", "To", "From"), "text/xml"),
    _twilio("/twilio/stream-ended", "Connect action: hang up (or say busy)", ("CallSid",), "text/xml"),
    _twilio("/twilio/status", "Status callback: reconcile final status", ("CallSid", "CallStatus"), "text/plain"),
    Operation("post", "/api/auth/login", "Log in (sets the session cookie, returns the CSRF token)", "auth", auth="none",
              body=LoginBody, responses={"200": "logged in", "401": "wrong credentials", "429": "rate limited"}),
    Operation("post", "/api/auth/logout", "Log out", "auth", responses={"200": "logged out"}),
    Operation("get", "/api/auth/me", "The logged-in user and CSRF token", "auth", responses={"200": "user"}),
    Operation("get", "/api/leads", "List leads (filter, search, paginate)", "leads", query=schemas.LeadsQuery,
              responses={"200": "page of leads"}),
    Operation("post", "/api/leads", "Create a lead", "leads", query=schemas.ScopeQuery, body=schemas.LeadCreate,
              responses={"201": "created", "409": "phone already a lead"}),
    Operation("get", "/api/leads/{lead_id}", "Lead detail with recent calls", "leads", query=schemas.ScopeQuery,
              responses={"200": "lead", "404": "not found"}),
    Operation("patch", "/api/leads/{lead_id}", "Update a lead (status, name, …)", "leads", query=schemas.ScopeQuery,
              body=schemas.LeadUpdate, responses={"200": "updated", "404": "not found", "409": "phone taken"}),
    Operation("get", "/api/leads/export.csv", "Export leads as CSV", "leads", query=schemas.LeadsExportQuery,
              responses={"200": "CSV"}, content="text/csv"),
    Operation("get", "/api/calls", "List calls", "calls", query=schemas.CallsQuery, responses={"200": "page of calls"}),
    Operation("get", "/api/calls/{call_id}", "Call detail with transcript and events", "calls", query=schemas.ScopeQuery,
              responses={"200": "call", "404": "not found"}),
    Operation("get", "/api/calls/{call_id}/recording", "Download the recording (HTTP Range)", "calls",
              query=schemas.ScopeQuery, responses={"200": "WAV", "206": "partial", "404": "no recording"}, content="audio/wav"),
    Operation("post", "/api/calls/outbound", "Call a lead through Twilio", "calls", query=schemas.ScopeQuery,
              body=schemas.OutboundCall, responses={"201": "dialling", "404": "no such lead", "502": "Twilio refused",
                                                    "503": "Twilio not configured"}),
    Operation("get", "/api/events", "Server-sent events: call_started, call_ended, rejected", "calls",
              query=schemas.ScopeQuery, responses={"200": "event stream", "503": "too many streams"},
              content="text/event-stream"),
    Operation("get", "/api/businesses", "List businesses (own, or all for a system admin)", "businesses", query=PageQuery,
              responses={"200": "page of businesses"}),
    Operation("post", "/api/businesses", "Create a business (system admin)", "businesses", query=NoQuery,
              body=schemas.BusinessCreate, responses={"201": "created", "409": "phone in use"}),
    Operation("get", "/api/businesses/{business_id}", "Business and its settings", "businesses", query=NoQuery,
              responses={"200": "business", "404": "not found"}),
    Operation("patch", "/api/businesses/{business_id}", "Update business settings", "businesses", query=NoQuery,
              body=schemas.BusinessUpdate, responses={"200": "updated", "404": "not found", "409": "phone in use"}),
    Operation("get", "/api/users", "List users (admin)", "users", query=UsersQuery, responses={"200": "page of users"}),
    Operation("post", "/api/users", "Create a user (admin)", "users", query=NoQuery, body=schemas.UserCreate,
              responses={"201": "created", "409": "email in use"}),
    Operation("get", "/api/users/{user_id}", "User detail", "users", query=NoQuery, responses={"200": "user", "404": "not found"}),
    Operation("patch", "/api/users/{user_id}", "Update a user (name, password, role, active)", "users", query=NoQuery,
              body=schemas.UserUpdate, responses={"200": "updated", "404": "not found"}),
    Operation("get", "/api/openapi.json", "This document", "runbook", auth="none", responses={"200": "OpenAPI 3.1"}),
)

COMMON_ERRORS = {"400": "malformed request", "422": "invalid values"}
SESSION_ERRORS = {"401": "not logged in", "403": "role too low or CSRF header missing"}


def build_openapi() -> dict[str, Any]:
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": {}}}},
        }
    }
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        parameters: list[dict[str, Any]] = []
        for name in _path_params(op.path):
            parameters.append({"name": name, "in": "path", "required": True,
                               "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}})
        if op.query is not None:
            schema = op.query.model_json_schema()
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                parameters.append({"name": name, "in": "query", "required": name in required, "schema": _inline(prop, schema)})
        operation: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": _op_id(op)}
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            schema = op.body.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            components[op.body.__name__] = schema
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}}}
        if op.form:
            operation["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": list(op.form),
                "properties": {name: {"type": "string"} for name in op.form}, "additionalProperties": {"type": "string"}}}}}
        responses: dict[str, Any] = {}
        for status, description in op.responses.items():
            ok = status.startswith("2")
            content = op.content if ok else "application/json"
            schema = (JSON_OBJECT if content == "application/json" else {"type": "string"}) if ok else ERROR
            responses[status] = {"description": description, "content": {content: {"schema": schema}}}
        errors = dict(COMMON_ERRORS)
        if op.auth == "session":
            errors.update(SESSION_ERRORS)
        if op.auth == "twilio":
            errors["403"] = "bad signature"
        if "{" in op.path:
            errors.setdefault("404", "not found")
        for status, description in errors.items():
            responses.setdefault(status, {"description": description, "content": {"application/json": {"schema": ERROR}}})
        if op.auth == "session":
            operation["security"] = [{"session": []}]
        elif op.auth == "token":
            operation["security"] = [{"token": []}]
        elif op.auth == "twilio":
            operation["security"] = [{"twilio": []}]
        else:
            operation["security"] = []
        operation["responses"] = responses
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "ProSaaS API", "version": __version__,
                 "description": "Errors are always {error: {code, message, details}}. State-changing /api/ requests "
                                "need the X-CSRF-Token header returned by login and /api/auth/me."},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "prosaas_session"},
                "token": {"type": "apiKey", "in": "query", "name": "token"},
                "twilio": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature"},
            },
        },
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _op_id(op: Operation) -> str:
    cleaned = op.path.strip("/").replace("/", "_").replace("{", "").replace("}", "").replace(".", "_").replace("-", "_")
    return f"{op.method}_{cleaned}"


def _inline(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve local $refs of a query parameter (enums live in $defs)."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(prop)
    # A query parameter is absent rather than null: drop the "null" branch of Optional fields.
    branches = resolved.get("anyOf")
    if isinstance(branches, list):
        rest = [b for b in branches if b != {"type": "null"}]
        if len(rest) == 1:
            resolved = {**{k: v for k, v in resolved.items() if k not in ("anyOf", "default")}, **rest[0]}
    if resolved.get("default") is None:
        resolved.pop("default", None)
    return resolved
