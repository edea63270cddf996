"""The OpenAPI document quart-schema generates from the routes: complete, and true to them."""

from __future__ import annotations

import re
from typing import Any

from api.openapi import OPENAPI_PATH
from api.routes import docs

HIDDEN = docs.ROUTES | {("get", OPENAPI_PATH)}  # the document and its page describe the API


def app_routes(app: Any) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method.lower(), path))
    return routes


async def _document(client: Any) -> dict[str, Any]:
    resp = await client.get(OPENAPI_PATH)
    assert resp.status_code == 200
    doc: dict[str, Any] = await resp.get_json()
    return doc


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in doc["paths"].items() for method, op in item.items()}


async def test_openapi_lists_exactly_the_apps_routes(app: Any) -> None:
    documented = set(_operations(await _document(app.test_client())))
    assert documented == app_routes(app) - HIDDEN
    assert HIDDEN <= app_routes(app)


async def test_every_operation_has_a_summary_a_tag_and_an_id(client: Any) -> None:
    doc = await _document(client)
    tags = {tag["name"] for tag in doc["tags"]}
    ids = [op["operationId"] for op in _operations(doc).values()]
    assert len(ids) == len(set(ids))
    for key, op in _operations(doc).items():
        assert op["summary"] and len(op["tags"]) == 1 and op["tags"][0] in tags, key


async def test_openapi_document_names_bodies_parameters_and_errors(client: Any) -> None:
    doc = await _document(client)
    assert doc["openapi"].startswith("3.1")
    leads = doc["paths"]["/api/leads"]
    query = {p["name"]: p for p in leads["get"]["parameters"]}
    assert set(query) >= {"status", "q", "page", "per_page", "sort"}
    assert query["business_id"]["schema"]["type"] == "integer"  # absent, never null
    body = leads["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["additionalProperties"] is False and "phone_e164" in schema["required"]
    assert set(leads["post"]["responses"]) >= {"201", "400", "401", "403", "409", "422"}
    assert leads["post"]["responses"]["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert doc["components"]["schemas"]["Error"]["required"] == ["error"]
    path_param = doc["paths"]["/api/leads/{lead_id}"]["get"]["parameters"][0]
    assert path_param["in"] == "path" and path_param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


async def test_security_schemes_follow_the_routes_checks(client: Any) -> None:
    doc = await _document(client)
    schemes = doc["components"]["securitySchemes"]
    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", "prosaas_session")
    assert (schemes["csrf"]["in"], schemes["csrf"]["name"]) == ("header", "X-CSRF-Token")
    assert (schemes["token"]["in"], schemes["token"]["name"]) == ("query", "token")
    ops = _operations(doc)
    assert ops[("get", "/api/leads")]["security"] == [{"session": []}]
    assert ops[("post", "/api/leads")]["security"] == [{"session": [], "csrf": []}]
    assert "security" not in ops[("post", "/api/auth/login")]
    assert ops[("get", "/metrics.json")]["security"] == [{"token": []}]
    assert ops[("post", "/twilio/status")]["security"] == [{"twilio": []}]
    assert "application/x-www-form-urlencoded" in ops[("post", "/twilio/status")]["requestBody"]["content"]


async def test_non_json_responses_carry_their_content_type(client: Any) -> None:
    ops = _operations(await _document(client))
    assert "text/csv" in ops[("get", "/api/leads/export.csv")]["responses"]["200"]["content"]
    assert "audio/wav" in ops[("get", "/api/calls/{call_id}/recording")]["responses"]["206"]["content"]
    assert "text/event-stream" in ops[("get", "/api/events")]["responses"]["200"]["content"]
    assert "text/xml" in ops[("post", "/twilio/voice")]["responses"]["200"]["content"]
    assert "content" not in ops[("post", "/twilio/status")]["responses"]["204"]


async def test_every_documented_operation_answers_with_a_documented_status(app: Any, db: Any) -> None:
    """Each route, called without credentials or input, answers with a status the document lists."""
    client = app.test_client()
    doc = await _document(client)
    for (method, path), operation in _operations(doc).items():
        if path == "/api/events" or path == "/health/whatsapp":
            continue  # streams / probes a real gateway; covered by their own tests
        concrete = re.sub(r"\{\w+\}", "1", path)
        resp = await client.open(concrete, method=method.upper())
        assert str(resp.status_code) in operation["responses"], (method, path, resp.status_code)


async def test_every_session_operation_checks_the_session_before_its_input(client: Any) -> None:
    """``@authenticated`` sits above quart-schema's validators on every route that needs it."""
    doc = await _document(client)
    checked = 0
    for (method, path), operation in _operations(doc).items():
        if not any("session" in requirement for requirement in operation.get("security", [])):
            continue
        concrete = re.sub(r"\{\w+\}", "1", path) + "?bogus=1"
        resp = await client.open(concrete, method=method.upper(), data="{not json",
                                 headers={"Content-Type": "application/json"})
        assert resp.status_code == 401, (method, path, resp.status_code)
        checked += 1
    assert checked >= 20
