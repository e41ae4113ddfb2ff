"""The one error tree of the project.

    AppError                 (status 500, code "internal")
    ├── ValidationFailed     (422) bad input, with per-field details
    ├── NotFound             (404)
    ├── Conflict             (409)
    ├── Unauthorized         (401)
    ├── Forbidden            (403)
    ├── RateLimited          (429)
    └── UpstreamError        (502/504) a dependency failed

Logic code raises these; one handler per app maps them to
``{"error": {"code", "message", "details"}}``. Stream handlers raise
``PermanentError`` (straight to the DLQ) or ``TransientError`` (left pending).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 500
    code = "internal"

    def __init__(
        self,
        message: str,
        details: Any = None,
        *,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"


class UpstreamError(AppError):
    status = 502
    code = "upstream_error"


class PermanentError(Exception):
    """A stream entry that can never succeed (bad data): dead-letter it now."""


class TransientError(Exception):
    """A stream entry that may succeed later: leave it pending to be retried."""
