"""The Viewer API service module: the only code in Viewer Admin that talks to Avara's Viewer API.

Everything else (views, forms, templates) uses the typed surface below: pydantic models in and
out, keyword-only functions named `<entity>_<action>`, and one exception hierarchy whose
messages a coordinator can act on. The wire contract is `docs/viewer-api.md`; section numbers
in comments refer to it.

Rules the API states (DICOM UID, ID formats, metadata limits, enums, `limit`) are defined here
once; the Django forms reuse them.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel

logger = logging.getLogger(__name__)


class _DropHttpxRequestLines(logging.Filter):
    """httpx logs every request's full URL at INFO. Ours carry Study Instance UIDs (by-uid
    paths), names, emails and descriptions (list filters), none of which may reach a log, so
    those lines are dropped; `ViewerAPI._log` writes one safe line per call instead."""

    name = "viewer_api.drop_httpx_request_lines"

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


_httpx_logger = logging.getLogger("httpx")
if not any(getattr(f, "name", None) == _DropHttpxRequestLines.name for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_DropHttpxRequestLines())

# --- Rules the API states (§3), defined once ---------------------------------------------------

DICOM_UID_MAX_LENGTH: Final = 64
DESCRIPTION_MAX_LENGTH: Final = 1000  # our choice, §12.22
METADATA_MAX_PAIRS: Final = 50
METADATA_KEY_MAX_LENGTH: Final = 100
METADATA_VALUE_MAX_LENGTH: Final = 1000
LIST_LIMIT_MAX: Final = 100
_DICOM_COMPONENT = re.compile(r"[0-9]+")


def dicom_uid_problem(value: str) -> str | None:
    """Say what is wrong with a DICOM UID (PS3.5 §9.1), or None when it is valid."""
    if not value:
        return "Enter the Study Instance UID."
    if len(value) > DICOM_UID_MAX_LENGTH:
        return (
            f"A Study Instance UID has at most {DICOM_UID_MAX_LENGTH} characters; "
            f"this one has {len(value)}."
        )
    for position, component in enumerate(value.split("."), start=1):
        if component == "":
            return (
                "A Study Instance UID cannot start or end with a dot or contain two dots "
                f"in a row (component {position} is empty)."
            )
        if not _DICOM_COMPONENT.fullmatch(component):
            return "A Study Instance UID contains only digits separated by dots."
        if len(component) > 1 and component.startswith("0"):
            return (
                f"Component {position} ({component}) starts with a zero; only a component "
                "that is exactly 0 may start with 0."
            )
    return None


def _check_dicom_uid(value: str) -> str:
    problem = dicom_uid_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def metadata_problems(pairs: Mapping[str, str]) -> list[str]:
    """Every way a metadata map breaks the API's limits (§3), in words a coordinator reads."""
    problems: list[str] = []
    if len(pairs) > METADATA_MAX_PAIRS:
        problems.append(f"At most {METADATA_MAX_PAIRS} metadata pairs are allowed.")
    for key, value in pairs.items():
        if not key.strip():
            problems.append("Metadata keys cannot be empty.")
        if len(key) > METADATA_KEY_MAX_LENGTH:
            problems.append(
                f"Metadata key {key[:20]!r}… is longer than {METADATA_KEY_MAX_LENGTH} characters."
            )
        if len(value) > METADATA_VALUE_MAX_LENGTH:
            problems.append(
                f"The value of metadata key {key[:20]!r} is longer than "
                f"{METADATA_VALUE_MAX_LENGTH} characters."
            )
    return problems


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    problems = metadata_problems(value)
    if problems:
        raise ValueError(" ".join(problems))
    return value


StudyId = Annotated[str, StringConstraints(pattern=r"^stu_[0-9a-fA-F]{32}$")]
UserId = Annotated[str, StringConstraints(pattern=r"^usr_[0-9a-fA-F]{32}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^cus_[0-9a-fA-F]{32}$")]
DicomUid = Annotated[str, AfterValidator(_check_dicom_uid)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_MAX_LENGTH)
]
Metadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]
Limit = Annotated[int, Field(ge=1, le=LIST_LIMIT_MAX)]
_LIMIT: Final = TypeAdapter(Limit)


class Severity(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    STAT = "stat"

    @property
    def label(self) -> str:
        return {"normal": "Normal", "high": "High", "stat": "STAT"}[self.value]


class ViewerStatus(StrEnum):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {"incomplete": "Incomplete", "complete": "Complete"}[self.value]


# The explicit null filters of §2.3: "unassigned" and "no Express customer".
UNASSIGNED: Final = "unassigned"
NO_CUSTOMER: Final = "none"


# --- Models: what goes out ---------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body: camelCase keys, and only the fields the caller set (§2.1)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class StudyCreate(_Request):
    """Body of `POST /v1/viewer/studies` (§6.1)."""

    severity: Severity
    study_description: Description
    study_instance_uid: DicomUid
    assigned_to: UserId | None = None
    express_customer_id: CustomerId | None = None
    metadata: Metadata | None = None

    def wire(self) -> dict[str, Any]:
        # On create, "not given" and "none" mean the same: leave the key out.
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class StudyUpdate(_Request):
    """Body of `PATCH /v1/viewer/studies/{studyId}` (§6.3).

    Only fields that were set are sent; `assigned_to=None` sends `null` (unassign) and
    `metadata=None` sends `null` (clear).
    """

    severity: Severity | None = None
    study_description: Description | None = None
    study_viewer_status: ViewerStatus | None = None
    assigned_to: UserId | None = None
    metadata: Metadata | None = None

    def wire(self) -> dict[str, Any]:
        # Only `assignedTo` and `metadata` may be null on the wire (§6.3); None for the others
        # means "leave unchanged", never a null the API would reject.
        fields = {
            name
            for name in self.model_fields_set
            if name in _UPDATE_NULLABLE or getattr(self, name) is not None
        }
        return self.model_dump(mode="json", by_alias=True, include=fields)


_UPDATE_NULLABLE: Final = frozenset({"assigned_to", "metadata"})


class StudyFilters(_Request):
    """Query of `GET /v1/viewer/studies` (§6.4). Use UNASSIGNED / NO_CUSTOMER for null filters."""

    assigned_to: UserId | Literal["unassigned"] | None = None
    express_customer_id: CustomerId | Literal["none"] | None = None
    is_cancelled: bool | None = None
    severity: Severity | None = None
    study_viewer_status: ViewerStatus | None = None
    study_description: str | None = None
    limit: Limit | None = None

    def query(self) -> dict[str, str]:
        params = _query(self)
        if params.get("assignedTo") == UNASSIGNED:
            params["assignedTo"] = "null"  # our convention for the null filter, §2.3
        if params.get("expressCustomerId") == NO_CUSTOMER:
            params["expressCustomerId"] = "null"
        return params


class UserFilters(_Request):
    """Query of `GET /v1/viewer/users` (§7.3)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    invited_source: Literal["dashboard", "api"] | None = None
    level: Literal["owner", "admin", "member"] | None = None
    limit: Limit | None = None

    def query(self) -> dict[str, str]:
        return _query(self)


def _query(model: BaseModel) -> dict[str, str]:
    """Query parameters per §2.2: camelCase, lowercase booleans, None and "" dropped."""
    params: dict[str, str] = {}
    for key, value in model.model_dump(mode="json", by_alias=True).items():
        if value is None or value == "":
            continue
        params[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return params


# --- Models: what comes in ---------------------------------------------------------------------


class _Response(BaseModel):
    """Unknown extra keys are ignored; missing required keys fail (§13)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def _full_name(
    first: str | None, middle: str | None, last: str | None, *suffixes: str | None
) -> str:
    name = " ".join(part for part in (first, middle, last) if part)
    extra = ", ".join(suffix for suffix in suffixes if suffix)
    return f"{name}, {extra}" if name and extra else name


class UserRef(_Response):
    user_id: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix1: str | None = None
    suffix2: str | None = None

    @property
    def display_name(self) -> str:
        """Name with suffixes, e.g. "John R. Smith, MD"; the email when there is no name."""
        name = _full_name(
            self.first_name, self.middle_name, self.last_name, self.suffix1, self.suffix2
        )
        return name or self.email


class ApiKeyRef(_Response):
    api_key_id: str
    description: str
    is_viewer_enabled: bool | None = None
    is_clinical_context_enrichment_enabled: bool | None = None


class CustomerRef(_Response):
    express_customer_id: str
    express_customer_name: str


class Study(_Response):
    """A Viewer study (§4.3). Enum fields accept values we do not know yet (§13)."""

    study_id: str
    study_instance_uid: str
    study_description: str
    severity: Severity | str = Field(union_mode="left_to_right")
    study_viewer_status: ViewerStatus | str = Field(union_mode="left_to_right")
    is_cancelled: bool
    cancelled_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    assigned_to: UserRef | None = None
    created_by_api_key: ApiKeyRef | None = None
    created_by_user: UserRef | None = None
    express_customer: CustomerRef | None = None
    metadata: dict[str, str] | None = None

    @property
    def severity_label(self) -> str:
        return self.severity.label if isinstance(self.severity, Severity) else self.severity

    @property
    def viewer_status_label(self) -> str:
        status = self.study_viewer_status
        return status.label if isinstance(status, ViewerStatus) else status


class User(_Response):
    """A Viewer user (§4.3)."""

    user_id: str
    email: str
    first_name: str
    last_name: str
    level: str
    clinic_role: str
    can_manage_studies: bool
    has_dashboard_access: bool
    invited_source: str
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    middle_name: str | None = None
    phone_number: str | None = None
    suffix1: str | None = None
    suffix2: str | None = None

    @property
    def display_name(self) -> str:
        return _full_name(
            self.first_name, self.middle_name, self.last_name, self.suffix1, self.suffix2
        )


class ExpressCustomer(_Response):
    """An Express customer (§10)."""

    express_customer_id: str
    express_customer_name: str
    is_active: bool
    user_count: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by_api_key_id: str | None = None
    created_by_user_id: str | None = None
    metadata: dict[str, str] | None = None


class ActionResult(_Response):
    success: bool
    message: str | None = None


class _UrlResult(_Response):
    url: str


Item = TypeVar("Item", bound=_Response)
Model = TypeVar("Model", bound=BaseModel)
Cached = TypeVar("Cached")


class Page(BaseModel, Generic[Item]):
    """One page of a list (§5)."""

    items: list[Item]
    cursor: str | None = None
    has_more: bool | None = None

    @property
    def next_cursor(self) -> str | None:
        """The cursor of the next page, or None on the last page (the SDK's rules, §5)."""
        if self.has_more is False or not self.items or not self.cursor:
            return None
        return self.cursor


# --- Exceptions --------------------------------------------------------------------------------


class ViewerAPIError(Exception):
    """Base of every failure; `message` is written for a coordinator.

    For an error answer, `code` is the API's error code and `body` the parsed JSON (or raw
    text) of the answer; both may hold patient data, so they are for code, never for logs.
    """

    default_message = "The Viewer API could not complete the request."
    code: str | None = None
    body: Any = None

    def __init__(self, message: str | None = None, *, status_code: int | None = None) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        super().__init__(self.message)


class InvalidRequest(ViewerAPIError):
    """The API rejected the input (400/422). `field_errors` uses our snake_case field names."""

    default_message = "The Viewer API did not accept some of the values."

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
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
        status_code: int | None = None,
        existing: Study | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
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
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        if message is None and retry_after is not None and retry_after > 0:
            seconds = math.ceil(retry_after)
            message = (
                "The Viewer API is busy (too many requests). Try again in "
                f"{seconds} second{'s' if seconds != 1 else ''}."
            )
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Unavailable(ViewerAPIError):
    """No usable answer: timeout, connection error or a 5xx."""

    default_message = (
        "The Viewer API is not responding right now. Nothing you entered is lost; try again "
        "in a minute."
    )


class BadResponse(ViewerAPIError):
    """A 2xx answer that is not JSON or not the expected shape."""

    default_message = (
        "The Viewer API sent an answer Viewer Admin could not read. Try again; if it keeps "
        "happening, tell an administrator."
    )


# Outcomes that leave a create in doubt: the request may have reached the API.
class _OutcomeUnknown(Unavailable):
    def __init__(self, *, status_code: int | None = None, in_flight: bool = False) -> None:
        super().__init__(status_code=status_code)
        # No answer came (timeout, dropped connection) or a gateway gave up waiting (502,
        # 504): the API may still be carrying the request out.
        self.in_flight = in_flight


# --- The client --------------------------------------------------------------------------------

# Failures that happen before a single byte of the request left: the API cannot have acted.
_ERRORS_BEFORE_SENDING = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
_MAX_ATTEMPTS: Final = 3
_BACKOFF_BASE_SECONDS: Final = 0.25
_BACKOFF_CAP_SECONDS: Final = 2.0
# Retries of one call (waits included) start only while this much time has not yet passed.
_RETRY_BUDGET_SECONDS: Final = 6.0


def _segment(value: str) -> str:
    """One percent-encoded path segment, as the SDK writes it (§2.4): RFC 3986 `pchar`s stay
    (so do the dots of a UID), "/" and everything else is encoded; "." and ".." are refused."""
    if value in {"", ".", ".."}:
        raise NotFound()
    return quote(value, safe="!$&'()*+,;=:@")


class ViewerAPI:
    """An httpx client for one base URL and key, with retries, error mapping and logging."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        max_connections: int = 8,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url or not api_key:
            raise AuthError(
                "Viewer Admin is not connected to the Viewer API (VIEWER_API_BASE_URL or "
                "VIEWER_API_KEY is missing). Ask an administrator."
            )
        self.base_url = base_url.rstrip("/")
        # Same base URL and key → same namespace on every app instance, so they share cache
        # entries; the key itself only enters through a one-way hash.
        self.cache_namespace = hashlib.sha256(f"{self.base_url}\n{api_key}".encode()).hexdigest()[
            :16
        ]
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": f"ViewerAdmin/{settings.VERSION} httpx/{httpx.__version__}",
            },
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            # One pooled keep-alive connection per server thread: concurrent requests never
            # queue for a connection, and none is opened anew per call.
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def sleep(self, seconds: float) -> None:
        """Wait between attempts (tests give the client a recording fake)."""
        self._sleep(seconds)

    # One call, mapped to data or to our exceptions. Only GETs are retried (connection errors,
    # timeouts, 408, 429, 5xx), at most _MAX_ATTEMPTS times and never after the retry budget:
    # a wait the API asks for (Retry-After) is honoured, and when it would overrun the budget
    # the call gives up at once. `template` is the path with placeholders; it is what gets
    # logged, never the real path (which may hold a UID).
    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        not_found: str | None = None,
    ) -> Any:
        path = template.format(**{k: _segment(v) for k, v in (path_params or {}).items()})
        retry = method == "GET"
        deadline = time.monotonic() + _RETRY_BUDGET_SECONDS
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            retry_after: float | None = None
            try:
                response = self._http.request(method, path.lstrip("/"), params=params, json=json)
            except httpx.RequestError as exc:
                self._log(method, template, type(exc).__name__, started, attempt)
                error: ViewerAPIError = (
                    Unavailable(status_code=None)
                    if isinstance(exc, _ERRORS_BEFORE_SENDING)
                    else _OutcomeUnknown(status_code=None, in_flight=True)
                )
            else:
                self._log(method, template, response.status_code, started, attempt)
                if response.is_success:
                    return self._json(response)
                error = _error_from_response(response, not_found=not_found)
                retry_after = _retry_after(response)
            if not (retry and _retryable(error) and attempt < _MAX_ATTEMPTS):
                raise error
            wait = _backoff(attempt, retry_after)
            if time.monotonic() + wait > deadline:
                raise error
            self.sleep(wait)

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:  # not JSON, or not UTF-8
            raise BadResponse(status_code=response.status_code) from None

    @staticmethod
    def _log(method: str, template: str, outcome: object, started: float, attempt: int) -> None:
        logger.info(
            "viewer_api %s %s status=%s duration_ms=%d attempt=%d",
            method,
            template,
            outcome,
            (time.monotonic() - started) * 1000,
            attempt,
        )


def _retryable(error: ViewerAPIError) -> bool:
    return isinstance(error, Unavailable | RateLimited)


def _backoff(attempt: int, retry_after: float | None) -> float:
    """The wait before the next attempt: what the API asked for, else capped backoff."""
    if retry_after is not None and retry_after > 0:
        return retry_after
    base = min(_BACKOFF_BASE_SECONDS * 2 ** (attempt - 1), _BACKOFF_CAP_SECONDS)
    return base * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not security


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date (§1.6)."""
    raw_ms = response.headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _error_from_response(
    response: httpx.Response, *, not_found: str | None = None
) -> ViewerAPIError:
    """Translate an error status to our hierarchy, keeping the API's message and details."""
    status = response.status_code
    message, field_errors, code, body = _error_body(response)
    error: ViewerAPIError
    if status in (400, 422):
        error = InvalidRequest(message, status_code=status, field_errors=field_errors)
    elif status == 401:
        error = AuthError(status_code=status)
    elif status == 403:
        error = AuthError(
            "The Viewer API does not allow Viewer Admin's API key to do this. Ask an "
            "administrator to check that the key has Viewer access.",
            status_code=status,
        )
    elif status == 404:
        error = NotFound(not_found, status_code=status)
    elif status == 409:
        error = Conflict(message, status_code=status)
    elif status == 429:
        error = RateLimited(status_code=status, retry_after=_retry_after(response))
    elif status == 408 or status >= 500:
        error = _OutcomeUnknown(status_code=status, in_flight=status in (502, 504))
    else:
        error = ViewerAPIError(message, status_code=status)
    error.code = code
    error.body = body
    return error


def _error_body(
    response: httpx.Response,
) -> tuple[str | None, dict[str, list[str]], str | None, Any]:
    """Message, per-field details and code from `{"error": {...}}` (§12.1), with the parsed
    body. Without that shape the message is the raw text (unless it is an HTML page)."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    try:
        error = body["error"]
        message = str(error["message"])
    except (KeyError, TypeError):
        text = response.text.strip()
        if "html" in response.headers.get("content-type", "").lower():
            text = ""
        return (text[:300] or None), {}, None, body
    code = error.get("code")
    field_errors: dict[str, list[str]] = {}
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("field") and detail.get("message"):
            field = _our_field_name(str(detail["field"]))
            field_errors.setdefault(field, []).append(str(detail["message"]))
    return message, field_errors, (str(code) if code else None), body


def _our_field_name(wire_field: str) -> str:
    """`studyInstanceUid` → `study_instance_uid`; `metadata.ward` → `metadata`."""
    head = re.split(r"[.\[]", wire_field, maxsplit=1)[0]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", head).lower()


def _parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        logger.warning(
            "viewer_api unexpected response shape: %s",
            ", ".join(sorted({_safe_location(e["loc"]) for e in exc.errors()})),
        )
        raise BadResponse() from None


def _safe_location(loc: tuple[int | str, ...]) -> str:
    """Where a response broke the model, for the log: field names and list indexes only (a
    metadata key is data, so the path stops at `metadata`)."""
    parts: list[str] = []
    for part in loc:
        parts.append(str(part))
        if part == "metadata":
            break
    return ".".join(parts)


def _parse_page(model: type[Item], key: str, data: Any) -> Page[Item]:
    """A list envelope (§5): the items under `key`, plus `cursor` and `hasMore`."""
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        logger.warning("viewer_api list response without %r", key)
        raise BadResponse()
    envelope = {"items": data[key], "cursor": data.get("cursor"), "has_more": data.get("hasMore")}
    return _parse(Page[model], envelope)  # type: ignore[valid-type]


def _walk(fetch: Callable[[str | None], Page[Item]]) -> Iterator[Page[Item]]:
    """Every page, following cursors (§5); a cursor the API hands out twice is a BadResponse
    rather than an endless loop."""
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return
        if cursor in seen:
            logger.warning("viewer_api list cursor repeated; stopping")
            raise BadResponse()
        seen.add(cursor)


# --- The process-wide client -------------------------------------------------------------------

_lock = threading.Lock()
_client: ViewerAPI | None = None


def get_client() -> ViewerAPI:
    """The one client of this process, built from settings on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = ViewerAPI(
                base_url=settings.VIEWER_API_BASE_URL,
                api_key=settings.VIEWER_API_KEY,
                timeout=settings.VIEWER_API_TIMEOUT_SECONDS,
                connect_timeout=settings.VIEWER_API_CONNECT_TIMEOUT_SECONDS,
                max_connections=settings.VIEWER_API_MAX_CONNECTIONS,
            )
        return _client


def set_client(client: ViewerAPI | None) -> None:
    """Replace the process-wide client (None: rebuild from settings on next use)."""
    global _client
    with _lock:
        old, _client = _client, client
    if old is not None and old is not client:
        old.close()


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("VIEWER_API_"):
        set_client(None)


# --- Studies (§6) ------------------------------------------------------------------------------


def study_create(*, data: StudyCreate) -> Study:
    """Create a study. Never sends twice: when the outcome is unknown (timeout after sending,
    dropped connection, 408/5xx) it looks the UID up, and a study with the submitted values is
    the result; otherwise the original error stands. A duplicate UID raises Conflict carrying
    the existing study (other conflicts keep the API's message and carry none)."""
    client = get_client()
    try:
        body = client.request("POST", "/v1/viewer/studies", json=data.wire())
    except _OutcomeUnknown as exc:
        found = _recover_created(client, data, in_flight=exc.in_flight)
        if found is None:
            raise
        logger.info("viewer_api create outcome recovered by UID lookup")
        return found
    except Conflict as exc:
        existing = _find_by_uid(data.study_instance_uid)
        if existing is None:
            raise
        conflict = Conflict(
            "A study with this Study Instance UID already exists.",
            status_code=exc.status_code,
            existing=existing,
        )
        conflict.code, conflict.body = exc.code, exc.body
        raise conflict from None
    return _parse(Study, body)


# When a create may still be running on the API, the UID is looked up again after these waits
# while the API says it does not know it yet.
_RECOVERY_WAITS: Final = (0.5, 1.5)


def _recover_created(client: ViewerAPI, data: StudyCreate, *, in_flight: bool) -> Study | None:
    """The study this create made, if a lookup by UID finds it with the submitted values."""
    for wait in (0.0, *(_RECOVERY_WAITS if in_flight else ())):
        if wait:
            client.sleep(wait)
        try:
            found = study_get_by_uid(study_instance_uid=data.study_instance_uid)
        except NotFound:
            continue
        except ViewerAPIError:
            return None
        return found if _matches(found, data) else None
    return None


def _find_by_uid(study_instance_uid: str) -> Study | None:
    try:
        return study_get_by_uid(study_instance_uid=study_instance_uid)
    except ViewerAPIError:
        return None


def _matches(study: Study, data: StudyCreate) -> bool:
    """Whether a study found by UID is the one this create asked for (a new study is never
    cancelled; every submitted value must be there, unsent optional ones empty)."""
    return (
        not study.is_cancelled
        and study.severity == data.severity
        and study.study_description == data.study_description
        and (study.assigned_to.user_id if study.assigned_to else None) == data.assigned_to
        and (study.express_customer.express_customer_id if study.express_customer else None)
        == data.express_customer_id
        and (study.metadata or {}) == (data.metadata or {})
    )


_STUDY_NOT_FOUND: Final = (
    "The Viewer API has no such study. It may have been removed, or the link is out of date."
)
_USER_NOT_FOUND: Final = "The Viewer API has no such user. Choose another assignee."
_CUSTOMER_NOT_FOUND: Final = "The Viewer API has no such Express customer. Choose another one."


def study_get(*, study_id: str) -> Study:
    body = get_client().request(
        "GET",
        "/v1/viewer/studies/{studyId}",
        path_params={"studyId": study_id},
        not_found=_STUDY_NOT_FOUND,
    )
    return _parse(Study, body)


def study_get_by_uid(*, study_instance_uid: str) -> Study:
    body = get_client().request(
        "GET",
        "/v1/viewer/studies/by-uid/{studyInstanceUid}",
        path_params={"studyInstanceUid": study_instance_uid},
        not_found="The Viewer API has no study with this Study Instance UID.",
    )
    return _parse(Study, body)


def study_update(*, study_id: str, changes: StudyUpdate) -> Study:
    body = get_client().request(
        "PATCH",
        "/v1/viewer/studies/{studyId}",
        path_params={"studyId": study_id},
        json=changes.wire(),
        not_found=_STUDY_NOT_FOUND,
    )
    return _parse(Study, body)


def study_list(*, filters: StudyFilters | None = None, cursor: str | None = None) -> Page[Study]:
    params = (filters or StudyFilters()).query()
    if cursor:
        params["cursor"] = cursor
    body = get_client().request("GET", "/v1/viewer/studies", params=params)
    return _parse_page(Study, "studies", body)


def study_pages(*, filters: StudyFilters | None = None) -> Iterator[Page[Study]]:
    """Every page, sending the original filters with each cursor (§5)."""
    return _walk(lambda cursor: study_list(filters=filters, cursor=cursor))


def _study_action(path: str, study_id: str) -> Any:
    return get_client().request(
        "POST", path, json={"studyId": study_id}, not_found=_STUDY_NOT_FOUND
    )


def study_cancel(*, study_id: str) -> ActionResult:
    return _parse(ActionResult, _study_action("/v1/viewer/studies/cancel", study_id))


def study_uncancel(*, study_id: str) -> ActionResult:
    return _parse(ActionResult, _study_action("/v1/viewer/studies/uncancel", study_id))


def study_viewer_url(*, study_id: str) -> str:
    """A one-off link that opens the study in the Avara Viewer (§6.7). Never cache it."""
    return _parse(_UrlResult, _study_action("/v1/viewer/studies/reroute-url", study_id)).url


# --- Users (§7) --------------------------------------------------------------------------------


def user_list(*, filters: UserFilters | None = None, cursor: str | None = None) -> Page[User]:
    params = (filters or UserFilters()).query()
    if cursor:
        params["cursor"] = cursor
    body = get_client().request("GET", "/v1/viewer/users", params=params)
    return _parse_page(User, "users", body)


def user_get(*, user_id: str) -> User:
    body = get_client().request(
        "GET",
        "/v1/viewer/users/{userId}",
        path_params={"userId": user_id},
        not_found=_USER_NOT_FOUND,
    )
    return _parse(User, body)


def user_search(*, query: str, limit: int = 10) -> list[User]:
    """Users matching a name or an email, for the assignee type-ahead; cached briefly.

    The API filters by first-name and last-name substrings and by exact email (§7.3), so a
    query becomes at most two small filtered calls, never a walk over every user.
    """
    text = " ".join(query.split())
    if not text:
        return []
    return _cached(
        f"users:search:{limit}:{text.lower()}",
        lambda: _search_users(text, limit),
        TypeAdapter(list[User]),
    )


def _search_users(text: str, limit: int) -> list[User]:
    if "@" in text:
        attempts = [UserFilters(email=text, limit=limit)]
    elif " " in text:
        first, _, last = text.rpartition(" ")
        attempts = [UserFilters(first_name=first.split(" ")[0], last_name=last, limit=limit)]
    else:
        attempts = [
            UserFilters(last_name=text, limit=limit),
            UserFilters(first_name=text, limit=limit),
        ]
    found: dict[str, User] = {}
    for filters in attempts:
        for user in user_list(filters=filters).items:
            found.setdefault(user.user_id, user)
    users = sorted(found.values(), key=lambda u: (u.last_name.lower(), u.first_name.lower()))
    return users[:limit]


def user_get_cached(*, user_id: str) -> User:
    """`user_get`, cached briefly: for showing the chosen assignee again."""
    return _cached(f"users:get:{user_id}", lambda: user_get(user_id=user_id), TypeAdapter(User))


# --- Express customers (§10) -------------------------------------------------------------------


def customer_list(*, cursor: str | None = None, limit: int | None = None) -> Page[ExpressCustomer]:
    params: dict[str, str] = {}
    if cursor:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = str(_LIMIT.validate_python(limit))
    body = get_client().request("GET", "/v1/express", params=params)
    return _parse_page(ExpressCustomer, "expressCustomers", body)


def customer_get(*, customer_id: str) -> ExpressCustomer:
    body = get_client().request(
        "GET",
        "/v1/express/{expressCustomerId}",
        path_params={"expressCustomerId": customer_id},
        not_found=_CUSTOMER_NOT_FOUND,
    )
    return _parse(ExpressCustomer, body)


def customers_all() -> list[ExpressCustomer]:
    """Every Express customer (a clinic has few), cached briefly."""

    def load() -> list[ExpressCustomer]:
        pages = _walk(lambda cursor: customer_list(cursor=cursor, limit=LIST_LIMIT_MAX))
        return [customer for page in pages for customer in page.items]

    return _cached("customers:all", load, TypeAdapter(list[ExpressCustomer]))


def customers_active() -> list[ExpressCustomer]:
    return [customer for customer in customers_all() if customer.is_active]


# --- Health ------------------------------------------------------------------------------------


def ping() -> tuple[bool, str]:
    """Whether the API answers an authenticated request; for /healthz (no secrets)."""
    try:
        get_client().request("GET", "/v1/viewer/studies", params={"limit": "1"})
    except ViewerAPIError as exc:
        return False, type(exc).__name__
    return True, "reachable"


# --- Cache -------------------------------------------------------------------------------------


def _cached(key: str, load: Callable[[], Cached], adapter: TypeAdapter[Cached]) -> Cached:
    """Get-or-load through the shared Django cache. Values are stored as plain JSON data and
    keys carry a hash of the base URL and key, so app instances sharing a cache agree and two
    configurations never mix."""
    full_key = f"viewer-api:v1:{get_client().cache_namespace}:{key}"
    hashed = hashlib.sha256(full_key.encode()).hexdigest()
    raw = cache.get(hashed)
    if raw is not None:
        try:
            return adapter.validate_python(raw)
        except ValidationError:
            cache.delete(hashed)
    value = load()
    cache.set(hashed, adapter.dump_python(value, mode="json"), settings.VIEWER_API_CACHE_SECONDS)
    return value
