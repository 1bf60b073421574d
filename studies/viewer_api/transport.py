"""The transport: the one httpx client, with retries, backoff, Retry-After, error mapping and one
safe log line per attempt. Nothing else in Viewer Admin opens a connection to the Viewer API."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import httpx
from django.conf import settings

from studies.viewer_api.exceptions import (
    AuthError,
    BadResponse,
    Conflict,
    ErrorContext,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Unavailable,
    ViewerAPIError,
)

# The package's one logger (its name is what log configuration and readers filter on).
logger = logging.getLogger("studies.viewer_api")


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
    # the call gives up at once (`retry=False`: a read-back, whose caller backs off itself).
    # A mutating call whose answer is lost after it was sent (timeout, dropped connection,
    # 408/5xx, an unreadable 2xx body) raises OutcomeUnknown: the API may have done it.
    # `template` is the path with placeholders; it is what gets logged, never the real path
    # (which may hold a UID).
    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        not_found: str | None = None,
        retry: bool | None = None,
    ) -> Any:
        path = template.format(**{k: _segment(v) for k, v in (path_params or {}).items()})
        mutating = method != "GET"
        if retry is None:
            retry = not mutating
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
                    OutcomeUnknown(status_code=None, in_flight=True)
                    if mutating and not isinstance(exc, _ERRORS_BEFORE_SENDING)
                    else Unavailable(status_code=None)
                )
            else:
                self._log(method, template, response.status_code, started, attempt)
                if response.is_success:
                    return self._json(response, mutating=mutating)
                error = _error_from_response(response, not_found=not_found, mutating=mutating)
                retry_after = _retry_after(response)
            if not (retry and _retryable(error) and attempt < _MAX_ATTEMPTS):
                raise error
            wait = _backoff(attempt, retry_after)
            if time.monotonic() + wait > deadline:
                raise error
            self.sleep(wait)

    @staticmethod
    def _json(response: httpx.Response, *, mutating: bool) -> Any:
        try:
            return response.json()
        except ValueError:  # not JSON, or not UTF-8
            if mutating:  # a success we cannot read: done, probably, but unconfirmed
                raise OutcomeUnknown(status_code=response.status_code) from None
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


def _segment(value: str) -> str:
    """One percent-encoded path segment, as the SDK writes it (§2.4): RFC 3986 `pchar`s stay
    (so do the dots of a UID), "/" and everything else is encoded; "." and ".." are refused."""
    if value in {"", ".", ".."}:
        raise NotFound()
    return quote(value, safe="!$&'()*+,;=:@")


def _retryable(error: ViewerAPIError) -> bool:
    return isinstance(error, Unavailable | RateLimited)


def _backoff(attempt: int, retry_after: float | None) -> float:
    """The wait before the next attempt: what the API asked for, else capped backoff."""
    if retry_after is not None and retry_after > 0:
        return retry_after
    base = min(_BACKOFF_BASE_SECONDS * 2.0 ** (attempt - 1), _BACKOFF_CAP_SECONDS)
    return base * random.uniform(0.75, 1.0)  # noqa: S311 - jitter, not security


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date (§1.6)."""
    raw_ms: str | None = response.headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw: str | None = response.headers.get("retry-after")
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
    response: httpx.Response, *, not_found: str | None = None, mutating: bool = False
) -> ViewerAPIError:
    """Translate an error status to our hierarchy, keeping the API's message and details."""
    status = response.status_code
    message, field_errors, code, body = _error_body(response)
    context: ErrorContext = {"status_code": status, "code": code, "body": body}
    if status in (400, 422):
        return InvalidRequest(message, field_errors=field_errors, **context)
    if status == 401:
        return AuthError(**context)
    if status == 403:
        return AuthError(
            "The Viewer API does not allow Viewer Admin's API key to do this. Ask an "
            "administrator to check that the key has Viewer access.",
            **context,
        )
    if status == 404:
        return NotFound(not_found or "", **context)
    if status == 409:
        return Conflict(message, **context)
    if status == 429:
        return RateLimited(retry_after=_retry_after(response), **context)
    if status == 408 or status >= 500:
        if mutating:
            return OutcomeUnknown(in_flight=status in (502, 504), **context)
        return Unavailable(**context)
    return ViewerAPIError(message, **context)


def _error_body(
    response: httpx.Response,
) -> tuple[str, dict[str, list[str]], str | None, Any]:
    """Message, per-field details and code from `{"error": {...}}` (§12.1), with the parsed
    body. Without that shape the message is the raw text (unless it is an HTML page); "" when
    there is none (the exception's own message is shown then)."""
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
        return text[:300], {}, None, body
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
