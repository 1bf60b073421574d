"""The sandbox in production: HTTPS, or plain HTTP from loopback only.

With `SANDBOX_ENABLED=true` in production mode the sandbox (fault injection included) is
served by the same server as the app. A plain-HTTP request to it is answered only when it
comes straight from this machine (the app calling its own sandbox at `http://127.0.0.1:…`);
any other plain-HTTP request gets a 403 in the sandbox's error format, unless
`SANDBOX_ALLOW_INSECURE=true`. A request forwarded by a proxy (it carries `X-Forwarded-For` or
`Forwarded`) does not count as loopback. Locally nothing is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox.errors import error_response

PREFIX = "/sandbox/"
REFUSAL = (
    "The sandbox is served over plain HTTP only to this machine (loopback). Use HTTPS, or set "
    "SANDBOX_ALLOW_INSECURE=true to allow plain HTTP."
)


def is_direct_loopback(request: HttpRequest) -> bool:
    """From this machine, and not forwarded on behalf of someone else."""
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def transport_allowed(request: HttpRequest) -> bool:
    if not (settings.SANDBOX_ENABLED and settings.PRODUCTION):
        return True
    if settings.SANDBOX_ALLOW_INSECURE or request.is_secure():
        return True
    return is_direct_loopback(request)


class SandboxTransportMiddleware:
    """Refuses plain-HTTP sandbox requests from other machines in production (see above)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PREFIX) and not transport_allowed(request):
            return error_response(403, "forbidden", REFUSAL)
        return self.get_response(request)
