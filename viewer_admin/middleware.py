"""Project-wide HTTP middleware."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect


class ContentSecurityPolicyMiddleware:
    """Send the project's Content-Security-Policy on every response.

    The policy allows scripts and styles from our own origin only (no 'unsafe-inline'), so an
    inline script or style attribute anywhere in a template stops working and is caught by the
    browser tests. It is read per request, so a test can change the setting.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every page the app renders (the sign-in page included).

    Pages show patient data; on a shared workstation the browser must not keep them, so that
    after sign-out the Back button asks the server again (and lands on the sign-in page)
    instead of showing the last study from its cache. Static files are answered by whitenoise
    before this middleware and keep their long cache lifetimes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class HtmxLoginRedirectMiddleware:
    """Send an htmx request whose session has expired to the sign-in page, for real.

    The browser would follow the redirect to the sign-in page inside the htmx request and swap
    the sign-in form into a fragment of the page. Instead the answer tells htmx to load the
    sign-in page as a whole page (`HX-Redirect`), with `next` pointing at the page the
    coordinator was on (htmx's `HX-Current-URL`), not at the fragment's URL.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or not _is_login_redirect(response):
            return response
        login = redirect_to_login(_current_page(request), resolve_url(settings.LOGIN_URL))
        client_redirect = HttpResponseClientRedirect(login["Location"])
        client_redirect.headers["Cache-Control"] = "no-store"
        return client_redirect


def _is_login_redirect(response: HttpResponse) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    location = urlsplit(response.headers.get("Location", ""))
    return location.path == urlsplit(resolve_url(settings.LOGIN_URL)).path


def _current_page(request: HttpRequest) -> str:
    """Path and query of the page the htmx request came from; the request's own path when
    htmx did not say or named another site."""
    current = request.htmx.current_url or ""  # type: ignore[attr-defined]  # HtmxMiddleware sets it
    if current and url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.get_full_path()
