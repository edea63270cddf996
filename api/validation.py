"""Request validation errors: what quart-schema and JSON decoding raise, as ``ApiError``.

The routes declare their input with quart-schema (``@validate_request``,
``@validate_querystring``, models in ``api/schemas.py``); this module decides how a refusal
reads, with one status per kind of problem:

* 400 ``unsupported_media_type``: a JSON route got another ``Content-Type`` (``ApiRequest``);
* 400 ``malformed_json``: the body does not decode as JSON (``ApiRequest``);
* 422 ``invalid_body`` / ``invalid_query``: decoded, but the model refuses it (unknown field,
  wrong type, out of range, not an object, a query parameter given twice); ``details`` has one
  ``{field, problem, type}`` entry per problem (``schema_error``).
"""

from __future__ import annotations

from typing import Any, final

from pydantic import ValidationError
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from quart_trio.wrappers.request import TrioRequest

from api.errors import ApiError, BadRequest, Unprocessable

__all__ = ["ApiRequest", "problems", "schema_error"]


@final
class ApiRequest(TrioRequest):
    """The app's request class: ``get_json()`` refuses a non-JSON body as an ``ApiError`` (Quart
    would return ``None``, which a model reports as "not an object") and names the decoding error.
    """

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or silent or self.is_json):
            raise BadRequest("expected Content-Type: application/json", code="unsupported_media_type")
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except UnicodeDecodeError as exc:  # Quart decodes the body before parsing it
            raise BadRequest(f"malformed JSON: not UTF-8 ({exc.reason})", code="malformed_json") from exc
        except RecursionError:  # json.loads on deeply nested arrays; not a ValueError
            raise BadRequest("malformed JSON: nested too deeply", code="malformed_json") from None

    def on_json_loading_failed(self, error: Exception | None) -> Any:
        raise BadRequest(f"malformed JSON: {error}", code="malformed_json") from error


def problems(exc: ValidationError, *, query: bool = False) -> list[dict[str, Any]]:
    """One ``{field, problem, type}`` per error; a repeated query parameter (a list) says so."""
    found = []
    for err in exc.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"]) or "(body)"
        problem = err["msg"]
        if query and isinstance(err.get("input"), list):
            problem = "given more than once; expected a single value"
        found.append({"field": field, "problem": problem, "type": err["type"]})
    return found


def schema_error(exc: RequestSchemaValidationError) -> ApiError:
    """The ``ApiError`` for quart-schema's refusal of a body or query string (always 422)."""
    query = isinstance(exc, QuerystringValidationError)
    what, code = ("query parameters", "invalid_query") if query else ("request body", "invalid_body")
    cause = exc.validation_error
    if isinstance(cause, ValidationError):
        details = problems(cause, query=query)
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
        return Unprocessable(f"invalid {what}: {summary}", code=code, details=details)
    return Unprocessable(f"invalid {what}: {cause}", code=code, details=[{"field": "(body)", "problem": str(cause)}])
