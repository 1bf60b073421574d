"""`/healthz`: a JSON report of the app's dependencies for load balancers and operators.

Each check returns ("ok" | "error", detail). The response never carries a secret: details are
short fixed strings or exception class names, never messages that could echo settings.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studies import viewer_api

Check = Callable[[], tuple[bool, str]]


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return False, type(exc).__name__
    return True, "reachable"


def checks() -> dict[str, Check]:
    return {"database": check_database, "viewer_api": viewer_api.ping}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = {name: check() for name, check in checks().items()}
    healthy = all(ok for ok, _ in results.values())
    body = {
        "status": "ok" if healthy else "error",
        # The built-in stand-in of the Viewer API is served: not for real patients' studies.
        "sandbox": "on" if settings.SANDBOX_ENABLED else "off",
        "checks": {
            name: {"status": "ok" if ok else "error", "detail": detail}
            for name, (ok, detail) in results.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)
