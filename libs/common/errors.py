"""The one error tree of the project.

    AppError                 (status 500, code "internal")
    ├── ValidationFailed     (422) bad input, with per-field details
    ├── SignInFailed         (400) the identity provider's answer was refused
    ├── NotFound             (404)
    ├── Conflict             (409)
    ├── PayloadTooLarge      (413) a body or file over its limit
    ├── Unauthorized         (401)
    ├── Forbidden            (403)
    ├── RateLimited          (429) with Retry-After
    ├── Unavailable          (503) with Retry-After: try again shortly
    │   └── PreviewNotReady  (503) the audience read model is loading or behind
    └── UpstreamError        (502/504) a dependency failed

Logic code raises these; one handler per app (libs.common.web) maps them to
``{"error": {"code", "message", "details"}}``, with a ``Retry-After`` header whenever
the error carries ``retry_after`` (seconds). Stream handlers raise
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
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retry_after is None and isinstance(details, dict) and details.get("retryAfter"):
            retry_after = int(details["retryAfter"])
        self.retry_after = retry_after
        """Seconds after which a retry may succeed; sent as ``Retry-After``."""

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class SignInFailed(AppError):
    status = 400
    code = "sign_in_failed"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class RateLimited(AppError):
    status = 429
    code = "rate_limited"


class Unavailable(AppError):
    status = 503
    code = "unavailable"


class PreviewNotReady(Unavailable):
    """The audience read model cannot answer yet (a preview, a customer list, an
    audience) and the database is too big to scan instead; ``details`` says how far
    the model has got and ``retryAfter`` when to ask again."""

    code = "preview_not_ready"

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message, details, retry_after=int(details["retryAfter"]))


class UpstreamError(AppError):
    status = 502
    code = "upstream_error"


class PermanentError(Exception):
    """A stream entry that can never succeed (bad data): dead-letter it now."""


class TransientError(Exception):
    """A stream entry that may succeed later: leave it pending to be retried."""
