"""Errors the sandbox answers with, in the error body of §12.1.

`{"error": {"code": "<snake_case>", "message": "<text>", "details": [{"field", "message"}]}}`.
The codes of §12.1 are `validation_error` (400), `unauthorized` (401), `forbidden` (403),
`not_found` (404), `conflict` (409), `rate_limited` (429) and `internal` (500). Three HTTP-level
refusals that §12.1 does not name get codes of their own: `method_not_allowed` (405),
`payload_too_large` (413) and `unsupported_media_type` (415).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.http import JsonResponse


@dataclass(frozen=True)
class FieldError:
    """One entry of `details`: the JSON name of the field (or query parameter) and the problem."""

    field: str
    message: str


class ApiError(Exception):
    """An error answer. Raise it anywhere in a sandbox view; the view wrapper renders it."""

    status: int = 400
    code: str = "validation_error"

    def __init__(
        self,
        message: str,
        details: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.headers = dict(headers or {})

    def response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message, self.details, self.headers)


class ValidationFailed(ApiError):
    """400: the request is malformed or breaks a rule of the contract (§12.24)."""

    status = 400
    code = "validation_error"


class Unauthorized(ApiError):
    """401: missing, malformed or unknown bearer key (§12.20)."""

    status = 401
    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__(
            "Missing or invalid API key. Send the header 'Authorization: Bearer <API key>'.",
            headers={"WWW-Authenticate": 'Bearer realm="Avara Viewer API sandbox"'},
        )


class Forbidden(ApiError):
    """403: the key is valid but may not use this product (§12.20)."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """404: no such resource in the calling key's clinic (§12.20)."""

    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    """405: the path exists but not with this method."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"Method {method} is not allowed here. Allowed: {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )


class Conflict(ApiError):
    """409 with `x-should-retry: false`: not transient, so the SDK must not retry (§1.6)."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, details: Sequence[FieldError] = ()) -> None:
        super().__init__(message, details, headers={"x-should-retry": "false"})


class PayloadTooLarge(ApiError):
    """413: the request body is larger than the sandbox accepts."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    """415: a request body that is not sent as JSON."""

    status = 415
    code = "unsupported_media_type"


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """Render the §12.1 error body; `details` is left out when there are none."""
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = [{"field": d.field, "message": d.message} for d in details]
    response = JsonResponse({"error": error}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
