"""Automatic log-off after SESSION_IDLE_MINUTES without real input, enforced by the server.

Every request of a signed-in person counts as activity and moves the deadline, except
**background requests**, which never do:

- requests carrying the header `X-Background: true` (the page's own session checks and draft
  saves send it; an htmx poll gets it with `hx-headers='{"X-Background": "true"}'`), and
- requests to a path in `BACKGROUND_PATHS` (the session status check).

When the deadline has passed the request is signed out (recorded as an automatic log-off)
and then handled as any anonymous request: a page goes to sign-in with `next` pointing back,
an htmx request gets `HX-Redirect` to sign-in (viewer_admin.middleware). A create or edit
form posted after the deadline is kept as a draft first (accounts.drafts).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from accounts import drafts
from accounts.audit import IDLE_LOGOFF_FLAG

LAST_ACTIVITY_KEY = "_accounts_last_activity"
BACKGROUND_HEADER = "X-Background"
BACKGROUND_PATHS = ("/accounts/session/",)


def idle_seconds() -> float:
    return float(settings.SESSION_IDLE_MINUTES) * 60


def is_background(request: HttpRequest) -> bool:
    if request.headers.get(BACKGROUND_HEADER, "").lower() == "true":
        return True
    return request.method == "GET" and request.path in BACKGROUND_PATHS


def seconds_left(request: HttpRequest) -> float:
    """Seconds until this session is logged off (0 when it is due)."""
    last = request.session.get(LAST_ACTIVITY_KEY)
    if last is None:
        return idle_seconds()
    return max(0.0, idle_seconds() - (time.time() - float(last)))


def mark_activity(request: HttpRequest) -> None:
    request.session[LAST_ACTIVITY_KEY] = time.time()


class IdleLogoffMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            last = request.session.get(LAST_ACTIVITY_KEY)
            now = time.time()
            if last is not None and now - float(last) >= idle_seconds():
                self._log_off(request)
            elif last is None or (
                # Write the session at most every few seconds, not on every request.
                not is_background(request) and now - float(last) >= min(30.0, idle_seconds() / 30)
            ):
                mark_activity(request)
        return self.get_response(request)

    def _log_off(self, request: HttpRequest) -> None:
        if request.method == "POST" and _csrf_ok(request):
            drafts.capture(request)
        setattr(request, IDLE_LOGOFF_FLAG, True)
        minutes = settings.SESSION_IDLE_MINUTES
        logout(request)
        messages.info(
            request,
            f"You were signed out after {minutes:g} minutes without activity. "
            "Sign in again to go on.",
        )


def _csrf_ok(request: HttpRequest) -> bool:
    """A draft is only kept from a post that would have passed the CSRF check."""

    def view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
        return HttpResponse()

    return CsrfViewMiddleware(view).process_view(request, view, (), {}) is None
