"""Errors of the API.

Hierarchy::

    ApiError                  every error the API raises on purpose; one JSON handler renders it
    ├── BadRequest            400: a body that cannot be read (not JSON, wrong Content-Type)
    ├── Unauthorized          401: no session, wrong password, wrong metrics token
    ├── Forbidden             403: role too low, bad CSRF token, bad Twilio signature
    ├── NotFound              404: no such row *in the caller's business*
    ├── Conflict              409: unique constraint (email, phone) or state clash
    ├── PayloadTooLarge       413: a JSON body over MAX_JSON_BYTES
    ├── Unprocessable         422: read, but refused: by its model (quart-schema) or a rule
    ├── TooManyRequests       429: login rate limit
    └── Unavailable           503: a dependency (DB, Redis, gateway) is down; may carry Retry-After
    SettingsError             the environment is unusable (raised before the app exists)

Every error renders as ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "SettingsError",
    "TooManyRequests",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
]


class ApiError(Exception):
    """Base class; ``status`` and ``code`` are stable, ``details`` is JSON-serialisable."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(ApiError):
    status = 400
    default_code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    default_code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    default_code = "forbidden"


class NotFound(ApiError):
    status = 404
    default_code = "not_found"


class Conflict(ApiError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    default_code = "payload_too_large"


class Unprocessable(ApiError):
    status = 422
    default_code = "invalid"


class TooManyRequests(ApiError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(ApiError):
    status = 503
    default_code = "unavailable"

    def __init__(
        self, message: str, *, code: str | None = None, details: Any = None, retry_after_seconds: int | None = None
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_seconds = retry_after_seconds


class SettingsError(Exception):
    """The environment is unusable; ``problems`` names each bad variable."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid configuration:\n  " + "\n  ".join(self.problems))
