"""The one exception hierarchy (§1.7). Every message is written for a coordinator.

For an error answer, `code` is the API's error code and `body` the parsed JSON (or raw text)
of the answer; both may hold patient data, so they are for code, never for logs.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar, TypedDict

from studies.viewer_api.responses import Study


class ErrorContext(TypedDict, total=False):
    """What an error answer carried, passed through to whichever subclass it becomes."""

    status_code: int | None
    code: str | None
    body: Any


# Each class declares what it carries (a subclass that adds a field is a dataclass too);
# `message` may be given first, the rest by keyword. eq=False: an exception compares and
# hashes by identity, as exceptions do.
@dataclass(eq=False)
class ViewerAPIError(Exception):
    """Base of every failure; `message` is written for a coordinator."""

    default_message: ClassVar[str] = "The Viewer API could not complete the request."

    message: str = ""
    _: KW_ONLY
    status_code: int | None = None
    code: str | None = None
    body: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.message = self.message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(eq=False)
class InvalidRequest(ViewerAPIError):
    """The API rejected the input (400/422). `field_errors` uses our snake_case field names."""

    default_message = "The Viewer API did not accept some of the values."

    _: KW_ONLY
    field_errors: dict[str, list[str]] = field(default_factory=dict)


class NotFound(ViewerAPIError):
    default_message = "The Viewer API does not know this study."


@dataclass(eq=False)
class Conflict(ViewerAPIError):
    """409. For a duplicate Study Instance UID, `existing` is the study that has it."""

    default_message = "The Viewer API refused the change because it conflicts with current data."

    _: KW_ONLY
    existing: Study | None = None


class AuthError(ViewerAPIError):
    """401/403, or the app is not configured with a base URL and key."""

    default_message = (
        "The Viewer API refused Viewer Admin's credentials. Ask an administrator to check the "
        "API key configuration."
    )


@dataclass(eq=False)
class RateLimited(ViewerAPIError):
    """429. `retry_after` is the wait in seconds the API asked for, when it said."""

    default_message = "The Viewer API is busy (too many requests). Try again in a moment."

    _: KW_ONLY
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if not self.message and self.retry_after is not None and self.retry_after > 0:
            seconds = math.ceil(self.retry_after)
            self.message = (
                "The Viewer API is busy (too many requests). Try again in "
                f"{seconds} second{'s' if seconds != 1 else ''}."
            )
        super().__post_init__()


class BadResponse(ViewerAPIError):
    """A 2xx answer that is not JSON or not the expected shape."""

    default_message = (
        "The Viewer API sent an answer Viewer Admin could not read. Try again; if it keeps "
        "happening, tell an administrator."
    )


class Unavailable(ViewerAPIError):
    """No usable answer: timeout, connection error or a 5xx."""

    default_message = "The Viewer API is not responding right now. Try again in a minute."


@dataclass(eq=False)
class OutcomeUnknown(ViewerAPIError):
    """A mutating call whose answer was lost: the request may have reached the API and been
    carried out, or not. Raised for a timeout after sending, a dropped connection, a 408 or
    5xx answer, and a 2xx answer that cannot be read. Never for a GET (a read is retried).

    `in_flight`: no answer came (timeout, dropped connection) or a gateway gave up waiting
    (502, 504), so the API may still be carrying the request out.

    The endpoint functions read the study back before letting it out; when it does reach a
    caller, that read-back could not tell either: it is raised again as a copy whose
    `read_back` says why ("unchanged" while the call may still be running, or "failed")."""

    default_message = (
        "The Viewer API's answer was lost (it timed out, dropped the connection or sent an "
        "error), so Viewer Admin cannot tell whether the change was made."
    )

    _: KW_ONLY
    in_flight: bool = False
    read_back: str = ""


class NotApplied(Unavailable):
    """A mutating call whose answer was lost (`cause`), and a read-back of the study that shows
    the change was not made: nothing happened, and the call can safely be made again."""

    def __init__(self, cause: OutcomeUnknown) -> None:
        super().__init__(status_code=cause.status_code, code=cause.code, body=cause.body)
        self.cause = cause
