"""Fault injection (sandbox only): arm the next N matching `/v1` requests to misbehave.

Faults are armed through `POST <base>/_sandbox/faults` (see `sandbox.views.faults`) and stored in
the database, so a test or a demo can arm one from any thread or process and the server applies
it. Each matching request consumes one count; the oldest armed fault that matches wins. Disarming
(`DELETE`, or emptying the table) also cuts short requests still waiting out a latency or hang
fault: they answer 503 without doing anything, so a hang never outlives the test that armed it.

Kinds (§12.23 and the issue's list):
- `latency`: wait `seconds` (default 1), then answer normally. With `persistent: true` it is
  never used up: every matching request waits that long (a fixed upstream latency, e.g. for the
  benchmark), on top of whatever other fault it meets, until disarmed.
- `hang`: wait `seconds` (default 30, meant to exceed the client's timeout), then answer.
- `status`: answer `status` (500, 502 or 503; default 500) with the error body, doing nothing.
- `rate_limit`: answer 429 `rate_limited` with `Retry-After: retryAfter` (default 1).
- `malformed_json`: answer 200 with `Content-Type: application/json` and a body that is not JSON.
- `commit_then_fail`: carry the request out for real, then answer 502 (`mode: "status"`, the
  default) or, with `mode: "drop"`, announce the full Content-Length, send half of the body and
  shut the connection down, so the client sees a transport error, or, with `mode:
  "malformed"`, answer the real status with a body that is not JSON (a reply mangled on its
  way back: the change is made, the answer unreadable). With `outage: N` the API then goes
  down: the next N requests under `/v1`, whatever their method, answer 503 and do nothing (so
  a client that reads back what happened cannot find out either).

Every fault counts the requests it was applied to (`applied`), so a persistent fault doubles as
a counter of the calls that reach the API.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from django.db.models import F
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

from sandbox.errors import error_response
from sandbox.models import SandboxFault, now_ms
from sandbox.serializers import JSON, timestamp
from sandbox.validation import Errors

logger = logging.getLogger(__name__)

Kind = SandboxFault.Kind
HTTP_METHODS: Final = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")
MAX_COUNT: Final = 10_000
MAX_SECONDS: Final = 600.0
FAULT_STATUSES: Final = (500, 502, 503)
COMMIT_MODES: Final = ("status", "drop", "malformed")
MALFORMED_BODY: Final = b'{"studies": [{"studyId": "stu_'


# --- Arming ----------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return value


def _seconds(body: Mapping[str, Any], default: float, errors: Errors) -> float:
    raw = body.get("seconds", default)
    value = _number(raw)
    if value is None or not 0 <= value <= MAX_SECONDS:
        errors.add("seconds", f"must be a number of seconds from 0 to {MAX_SECONDS:g}")
        return default
    return value


def build_fault(body: Mapping[str, Any]) -> SandboxFault:
    """An unsaved fault from the control endpoint's JSON body, or a 400 naming the field."""
    errors = Errors()
    kind = body.get("fault")
    if kind not in Kind.values:
        errors.add("fault", "must be one of: " + ", ".join(Kind.values))

    method = body.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
            errors.add("method", "must be one of: " + ", ".join(HTTP_METHODS))
            method = None
        else:
            method = method.upper()

    path = body.get("path")
    if path is not None and (
        not isinstance(path, str) or not path.startswith("/") or len(path) > 200 or "\x00" in path
    ):
        errors.add("path", 'must be a path relative to the sandbox base, e.g. "/v1/viewer/studies"')
        path = None

    persistent = body.get("persistent", False)
    if not isinstance(persistent, bool) or (persistent and kind != Kind.LATENCY):
        errors.add("persistent", "must be true or false, and true only for a latency fault")
        persistent = False
    count = body.get("count", 1)
    if persistent and "count" in body:
        errors.add("count", "a persistent fault is never used up: leave count out")
    elif isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        errors.add("count", f"must be a whole number from 1 to {MAX_COUNT}")
        count = 1

    options: dict[str, Any] = {}
    if kind == Kind.LATENCY:
        options["seconds"] = _seconds(body, 1.0, errors)
        if persistent:
            options["persistent"] = True
    elif kind == Kind.HANG:
        options["seconds"] = _seconds(body, 30.0, errors)
    elif kind == Kind.STATUS:
        status = body.get("status", 500)
        if isinstance(status, bool) or status not in FAULT_STATUSES:
            errors.add("status", "must be 500, 502 or 503")
        options["status"] = status
    elif kind == Kind.RATE_LIMIT:
        retry_after = _number(body.get("retryAfter", 1))
        if retry_after is None or not 0 <= retry_after <= 3600:
            errors.add("retryAfter", "must be a number of seconds from 0 to 3600")
        options["retryAfter"] = retry_after
    elif kind == Kind.COMMIT_THEN_FAIL:
        mode = body.get("mode", "status")
        if mode not in COMMIT_MODES:
            errors.add("mode", "must be status, drop or malformed")
        options["mode"] = mode
        outage = body.get("outage", 0)
        if isinstance(outage, bool) or not isinstance(outage, int) or not 0 <= outage <= MAX_COUNT:
            errors.add("outage", f"must be a whole number from 0 to {MAX_COUNT}")
        elif outage:
            options["outage"] = outage

    errors.raise_if_any()
    return SandboxFault(
        kind=str(kind),  # checked above: one of Kind.values
        method=method or "",
        path=path or "",
        count=count,
        remaining=count,
        options=options,
    )


def is_persistent(fault: SandboxFault) -> bool:
    return bool(fault.options.get("persistent"))


def fault_json(fault: SandboxFault) -> JSON:
    persistent = is_persistent(fault)
    return {
        "id": fault.fault_id,
        "fault": fault.kind,
        "method": fault.method or None,
        "path": fault.path or None,
        "count": None if persistent else fault.count,
        "remaining": None if persistent else fault.remaining,
        "applied": fault.applied,
        "createdAt": timestamp(fault.created_at),
        **fault.options,
    }


# --- Applying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """The faults one request meets: a persistent latency (waited out first) and one used-up
    fault, either or both absent."""

    delay: SandboxFault | None = None
    fault: SandboxFault | None = None


def take_faults(method: str, path: str) -> Taken:
    """The oldest persistent latency and the oldest other armed fault matching this request;
    the latter loses one count.

    `path` is the request path relative to the sandbox base (e.g. `/v1/viewer/studies`). The
    decrement is a conditional UPDATE, so concurrent requests never share one count; `applied`
    is incremented in the same statement.
    """
    delay: SandboxFault | None = None
    for fault in SandboxFault.objects.filter(remaining__gt=0):
        if fault.method and fault.method != method:
            continue
        if not path.startswith(fault.path or "/v1"):
            continue
        if is_persistent(fault):
            if delay is None:
                SandboxFault.objects.filter(pk=fault.pk).update(applied=F("applied") + 1)
                delay = fault
            continue
        taken = SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1, applied=F("applied") + 1
        )
        if taken:
            return Taken(delay=delay, fault=fault)
    return Taken(delay=delay)


# Requests waiting out a `latency` or `hang` fault in this process, so that disarming can
# interrupt them at once. Other processes notice through the database within POLL_SECONDS.
POLL_SECONDS: Final = 0.25
_waiting: dict[int, threading.Event] = {}
_waiting_lock = threading.Lock()


def _still_armed(fault_id: str) -> bool:
    """Whether the fault's row still exists (spent rows stay until disarmed or flushed)."""
    try:
        return SandboxFault.objects.filter(pk=fault_id).exists()
    except Exception:  # noqa: BLE001 - no database means nothing is armed any more
        return False


def _wait(fault: SandboxFault, seconds: float) -> bool:
    """Sleep `seconds`; False as soon as the fault is disarmed (DELETE, or a flushed table)."""
    event = threading.Event()
    with _waiting_lock:
        _waiting[id(event)] = event
    try:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if event.wait(min(left, POLL_SECONDS)):
                return False
            # Waited to the end: done, with no look at the database (a disarm now is too late).
            if deadline - time.monotonic() > 0 and not _still_armed(fault.fault_id):
                return False
        return True
    finally:
        with _waiting_lock:
            _waiting.pop(id(event), None)


def disarm_all(wait_seconds: float = 2.0) -> int:
    """Delete every fault, spent ones included, and interrupt the requests of this process that
    are waiting out a fault; returns how many faults were deleted."""
    deleted, _ = SandboxFault.objects.all().delete()
    with _waiting_lock:
        events = list(_waiting.values())
    for event in events:
        event.set()
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        with _waiting_lock:
            if not _waiting:
                break
        time.sleep(0.01)
    return deleted


def purge_spent(older_than: timedelta = timedelta(days=1)) -> None:
    """Forget faults that were used up long ago."""
    SandboxFault.objects.filter(remaining=0, created_at__lt=now_ms() - older_than).delete()


def route_of(request: HttpRequest) -> str:
    """The route the request matched, for log lines: `/v1/viewer/studies/by-uid/{uid}`, never
    the UID itself (paths and query strings carry identifiers)."""
    match = getattr(request, "resolver_match", None)
    route = str(match.route) if match is not None and match.route else ""
    route = route.removeprefix("sandbox/")
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) if route else "{unmatched}"


def apply_fault(
    request: HttpRequest, path: str, work: Callable[[], HttpResponse]
) -> HttpResponseBase:
    """Answer the request through `work`, unless an armed fault says otherwise."""
    taken = take_faults(request.method or "", path)
    if taken.delay is not None and not _wait(taken.delay, float(taken.delay.options["seconds"])):
        return _disarmed_while_waiting()
    fault = taken.fault
    if fault is None:
        return work()
    logger.info(
        "Sandbox fault %s (%s) on %s %s",
        fault.kind,
        fault.fault_id,
        request.method,
        route_of(request),
    )
    options = fault.options
    if fault.kind in (Kind.LATENCY, Kind.HANG):
        if not _wait(fault, float(options.get("seconds", 0))):
            return _disarmed_while_waiting()
        return work()
    if fault.kind == Kind.STATUS:
        status = int(options.get("status", 500))
        return error_response(status, "internal", f"Injected sandbox fault: HTTP {status}.")
    if fault.kind == Kind.RATE_LIMIT:
        retry_after = float(options.get("retryAfter", 1))
        return error_response(
            429,
            "rate_limited",
            "Injected sandbox fault: too many requests.",
            headers={"Retry-After": f"{retry_after:g}"},
        )
    if fault.kind == Kind.MALFORMED_JSON:
        return HttpResponse(MALFORMED_BODY, content_type="application/json")
    # commit_then_fail: the work is done (and committed) whatever the client then sees.
    done = work()
    outage = int(options.get("outage", 0))
    if outage:
        SandboxFault.objects.create(
            kind=Kind.STATUS, count=outage, remaining=outage, options={"status": 503}
        )
    if options.get("mode") == "malformed":
        return HttpResponse(
            MALFORMED_BODY, status=done.status_code, content_type="application/json"
        )
    if options.get("mode") == "drop":
        dropped = _dropped_connection(request, done)
        if dropped is not None:
            return dropped
    return error_response(
        502,
        "internal",
        "Injected sandbox fault: the request was carried out, then the reply failed.",
    )


def _disarmed_while_waiting() -> HttpResponse:
    return error_response(
        503, "internal", "Injected sandbox fault: disarmed while waiting; nothing done."
    )


def _connection_fd(environ: Mapping[str, Any]) -> int | None:
    """The file descriptor of the client connection, under gunicorn or Django's own server."""
    gunicorn_socket = environ.get("gunicorn.socket")
    if isinstance(gunicorn_socket, socket.socket):
        return gunicorn_socket.fileno()
    stream = environ.get("wsgi.input")
    # Django's development/live server wraps the socket reader in a LimitedStream that keeps
    # the reader's bound `read` method.
    for candidate in (stream, getattr(getattr(stream, "_read", None), "__self__", None)):
        fileno = getattr(candidate, "fileno", None)
        if fileno is None:
            continue
        try:
            fd = fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            continue
        if isinstance(fd, int) and fd >= 0:
            return fd
    return None


def _dropped_connection(request: HttpRequest, done: HttpResponse) -> HttpResponseBase | None:
    """The real response's status and headers with its full Content-Length, but only half of its
    body, after which the connection is shut down. None when the connection cannot be reached
    (e.g. under Django's test client)."""
    body = done.content
    fd = _connection_fd(request.META)
    if fd is None:
        return None
    duplicate = os.dup(fd)
    try:
        connection = socket.socket(fileno=duplicate)
    except OSError:
        os.close(duplicate)
        return None

    def stream() -> Iterator[bytes]:
        try:
            yield body[: max(1, len(body) // 2)]
        finally:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    response = StreamingHttpResponse(
        stream(), status=done.status_code, content_type="application/json"
    )
    response["Content-Length"] = str(max(len(body), 2))
    return response
