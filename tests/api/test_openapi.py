from __future__ import annotations

import re
from typing import Any

from api.openapi import OPERATIONS
from api.routes import docs


def app_routes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


async def test_openapi_lists_exactly_the_apps_routes(app: Any) -> None:
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert documented == app_routes(app) - docs.ROUTES  # the docs page is not an API operation
    assert docs.ROUTES <= app_routes(app)


async def test_openapi_document_is_served_and_names_bodies_and_parameters(client: Any) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status_code == 200
    doc = await resp.get_json()
    assert doc["openapi"].startswith("3.1")
    leads = doc["paths"]["/api/leads"]
    assert {p["name"] for p in leads["get"]["parameters"]} >= {"status", "q", "page", "per_page", "sort"}
    body = doc["components"]["schemas"]["LeadCreate"]
    assert body["additionalProperties"] is False and "phone_e164" in body["required"]
    assert doc["paths"]["/api/leads/{lead_id}"]["get"]["parameters"][0]["in"] == "path"


async def test_every_documented_operation_answers_with_a_documented_status(app: Any, db: Any) -> None:
    """Each route, called without credentials or input, answers with a status the document lists."""
    client = app.test_client()
    doc = await (await client.get("/api/openapi.json")).get_json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if path == "/api/events" or path == "/health/whatsapp":
                continue  # streams / probes a real gateway; covered by their own tests
            concrete = re.sub(r"\{\w+\}", "1", path)
            resp = await client.open(concrete, method=method.upper())
            assert str(resp.status_code) in operation["responses"], (method, path, resp.status_code)
