"""Request parsing: JSON bodies and query strings into pydantic models that refuse unknown fields.

Malformed JSON or a non-object body → 400; values that fail validation (unknown field,
wrong type, out of range) → 422 with one entry per problem in ``details``.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from quart import request

from api.errors import BadRequest, Unprocessable

__all__ = ["Strict", "parse_body", "parse_query", "problems"]

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base of every request model: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def problems(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def parse_body(model: type[M]) -> M:
    """Parse the JSON body into ``model``.

    Raises:
        BadRequest: not JSON, or not an object.
        Unprocessable: the object fails ``model``'s validation.
    """
    raw = await request.get_data(as_text=False)
    if request.mimetype != "application/json":
        raise BadRequest("expected Content-Type: application/json", code="unsupported_media_type")
    try:
        data = json.loads(raw or b"")
    except ValueError as exc:
        raise BadRequest(f"malformed JSON: {exc}", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise BadRequest("expected a JSON object", code="malformed_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable("invalid request body", code="invalid_body", details=problems(exc)) from exc


def parse_query(model: type[M]) -> M:
    """Parse the query string into ``model`` (repeated keys are refused).

    Raises:
        BadRequest: a key given twice.
        Unprocessable: unknown key or invalid value.
    """
    data: dict[str, str] = {}
    for key, values in request.args.lists():
        if len(values) > 1:
            raise BadRequest(f"query parameter {key!r} given more than once", code="bad_query")
        data[key] = values[0]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable("invalid query parameters", code="invalid_query", details=problems(exc)) from exc
