"""Request validation errors: what quart-schema and JSON decoding raise, as ``ApiError``.

The routes declare their input with quart-schema (``@validate_request``,
``@validate_querystring``, models in ``api/schemas.py``); this module decides how a refusal
reads, with one status per kind of problem:

* 400 ``unsupported_media_type``: a JSON route got another ``Content-Type`` (``ApiRequest``);
* 400 ``malformed_json``: the body does not decode as JSON, or nests deeper than
  ``MAX_JSON_DEPTH`` (checked on the bytes before parsing, so no parser recursion; ``ApiRequest``);
* 413 ``payload_too_large``: a JSON body over ``MAX_JSON_BYTES`` (``ApiRequest``), any body over
  the app's ``MAX_CONTENT_LENGTH``, or an upload over ``MAX_UPLOAD_BYTES`` (the upload routes,
  ``UPLOAD_PATHS``, get a body limit of their own: ``ApiRequest.for_uploads``);
* 422 ``invalid_body`` / ``invalid_query`` with type ``nul_character``: a NUL anywhere in the
  text of a body or query (PostgreSQL cannot store it; ``api/schemas.py`` ``Strict``);
* 422 ``invalid_body`` / ``invalid_query``: decoded, but the model refuses it (unknown field,
  wrong type, out of range, not an object, a query parameter given twice); ``details`` has one
  ``{field, problem, type}`` entry per problem (``schema_error``).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import ValidationError
from quart_schema import RequestSchemaValidationError
from quart_schema.validation import QuerystringValidationError
from quart_trio.wrappers.request import TrioRequest

from api.errors import ApiError, BadRequest, PayloadTooLarge, Unprocessable

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MULTIPART_OVERHEAD_BYTES",
    "UPLOAD_PATHS",
    "ApiRequest",
    "json_too_deep",
    "problems",
    "schema_error",
]

MAX_JSON_BYTES = 256 * 1024  # the largest legitimate body (a business with its settings) is a few KB
MAX_JSON_DEPTH = 32  # brain_settings, the deepest document, nests 4 levels
UPLOAD_PATHS = frozenset({"/api/attachments"})  # POST only: multipart bodies up to MAX_UPLOAD_BYTES
MULTIPART_OVERHEAD_BYTES = 64 * 1024  # boundaries and part headers around the one file
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Does ``raw`` open more than ``limit`` arrays/objects at once? Brackets inside strings are
    text and do not count; a linear scan, so any input is answered in bounded time and stack."""
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class ApiRequest(TrioRequest):
    """The app's request class: ``get_json()`` refuses a non-JSON body as an ``ApiError`` (Quart
    would return ``None``, which a model reports as "not an object") and names the decoding error.

    Quart sizes every request's body by one ``MAX_CONTENT_LENGTH`` (1 MiB here) when it builds
    the request, before any route runs; an upload route needs more. ``for_uploads(limit)`` makes
    the app's request class, whose POSTs to ``UPLOAD_PATHS`` get a body limit of ``limit`` (the
    file) plus the multipart overhead, enforced while the body arrives and by the form parser.
    """

    upload_body_limit: ClassVar[int | None] = None

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(method, scheme, path, *args, **kwargs)
        limit = self.upload_body_limit
        if limit is not None and method == "POST" and path in UPLOAD_PATHS:
            self.max_content_length = limit  # the form parser's bound
            self.body = self.body_class(self.content_length, limit)  # no data has arrived yet

    @classmethod
    def for_uploads(cls, max_upload_bytes: int) -> type[ApiRequest]:
        """The request class of an app whose uploads may hold ``max_upload_bytes``."""
        return type("ApiRequest", (cls,), {"upload_body_limit": max_upload_bytes + MULTIPART_OVERHEAD_BYTES})

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or silent or self.is_json):
            raise BadRequest("expected Content-Type: application/json", code="unsupported_media_type")
        raw = await self.get_data(cache=True, as_text=False)
        if isinstance(raw, str):  # never: as_text=False; narrows the type
            raw = raw.encode()
        if len(raw) > MAX_JSON_BYTES:
            raise PayloadTooLarge(f"a JSON body may have at most {MAX_JSON_BYTES} bytes")
        if json_too_deep(raw):
            raise BadRequest(f"malformed JSON: nested more than {MAX_JSON_DEPTH} levels deep", code="malformed_json")
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
