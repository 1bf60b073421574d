"""The one exception hierarchy (§1.7). Every message is written for a coordinator.

For an error answer, `code` is the API's error code and `body` the parsed JSON (or raw text)
of the answer; both may hold patient data, so they are for code, never for logs.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict, Unpack

from studies.viewer_api.responses import Study


class ErrorContext(TypedDict, total=False):
    """What an error answer carried, passed through by every subclass."""

    status_code: int | None
    code: str | None
    body: Any


class ViewerAPIError(Exception):
    """Base of every failure; `message` is written for a coordinator."""

    default_message = "The Viewer API could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
        body: Any = None,
    ) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        self.code = code
        self.body = body
        super().__init__(self.message)


class InvalidRequest(ViewerAPIError):
    """The API rejected the input (400/422). `field_errors` uses our snake_case field names."""

    default_message = "The Viewer API did not accept some of the values."

    def __init__(
        self,
        message: str | None = None,
        *,
        field_errors: dict[str, list[str]] | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(message, **context)
        self.field_errors = field_errors or {}


class NotFound(ViewerAPIError):
    default_message = "The Viewer API does not know this study."


class Conflict(ViewerAPIError):
    """409. For a duplicate Study Instance UID, `existing` is the study that has it."""

    default_message = "The Viewer API refused the change because it conflicts with current data."

    def __init__(
        self,
        message: str | None = None,
        *,
        existing: Study | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(message, **context)
        self.existing = existing


class AuthError(ViewerAPIError):
    """401/403, or the app is not configured with a base URL and key."""

    default_message = (
        "The Viewer API refused Viewer Admin's credentials. Ask an administrator to check the "
        "API key configuration."
    )


class RateLimited(ViewerAPIError):
    """429. `retry_after` is the wait in seconds the API asked for, when it said."""

    default_message = "The Viewer API is busy (too many requests). Try again in a moment."

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        if message is None and retry_after is not None and retry_after > 0:
            seconds = math.ceil(retry_after)
            message = (
                "The Viewer API is busy (too many requests). Try again in "
                f"{seconds} second{'s' if seconds != 1 else ''}."
            )
        super().__init__(message, **context)
        self.retry_after = retry_after


class Unavailable(ViewerAPIError):
    """No usable answer: timeout, connection error or a 5xx."""

    default_message = "The Viewer API is not responding right now. Try again in a minute."


class BadResponse(ViewerAPIError):
    """A 2xx answer that is not JSON or not the expected shape."""

    default_message = (
        "The Viewer API sent an answer Viewer Admin could not read. Try again; if it keeps "
        "happening, tell an administrator."
    )


class OutcomeUnknown(ViewerAPIError):
    """A mutating call whose answer was lost: the request may have reached the API and been
    carried out, or not. Raised for a timeout after sending, a dropped connection, a 408 or
    5xx answer, and a 2xx answer that cannot be read. Never for a GET (a read is retried).

    The endpoint functions read the study back before letting it out; when it does reach a
    caller, that read-back could not tell either (`read_back` says why: "unchanged" while the
    call may still be running, or "failed")."""

    default_message = (
        "The Viewer API's answer was lost (it timed out, dropped the connection or sent an "
        "error), so Viewer Admin cannot tell whether the change was made."
    )

    def __init__(
        self,
        message: str | None = None,
        *,
        in_flight: bool = False,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(message, **context)
        # No answer came (timeout, dropped connection) or a gateway gave up waiting (502,
        # 504): the API may still be carrying the request out.
        self.in_flight = in_flight
        self.read_back = ""


class NotApplied(Unavailable):
    """A mutating call whose answer was lost (`cause`), and a read-back of the study that shows
    the change was not made: nothing happened, and the call can safely be made again."""

    def __init__(self, cause: OutcomeUnknown) -> None:
        super().__init__(status_code=cause.status_code, code=cause.code, body=cause.body)
        self.cause = cause
