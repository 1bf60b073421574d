"""`/healthz`: a JSON report of the app's dependencies for load balancers and operators.

Each check returns ("ok" | "error", detail). The response never carries a secret: details are
short fixed strings or exception class names, never messages that could echo settings. The
cache's entry also names its backend ("redis" or "database"), so an operator sees whether an
instance shares the fleet's Redis.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studies import viewer_api

Check = Callable[[], tuple[bool, str]]

_BACKENDS = {"RedisCache": "redis", "DatabaseCache": "database"}


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return False, type(exc).__name__
    return True, "reachable"


def cache_backend() -> str:
    """The default cache's kind: "redis", "database", or another backend's class name."""
    name = type(caches[DEFAULT_CACHE_ALIAS]).__name__
    return _BACKENDS.get(name, name)


def check_cache() -> tuple[bool, str]:
    """Write a value and read it back: the cache is reachable and keeps what it is given."""
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        kept = cache.get(key) == value
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        return False, type(exc).__name__
    return (True, "reachable") if kept else (False, "not kept")


def checks() -> dict[str, Check]:
    return {"database": check_database, "cache": check_cache, "viewer_api": viewer_api.ping}


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results = {name: check() for name, check in checks().items()}
    healthy = all(ok for ok, _ in results.values())
    body: dict[str, Any] = {
        "status": "ok" if healthy else "error",
        # The built-in stand-in of the Viewer API is served: not for real patients' studies.
        "sandbox": "on" if settings.SANDBOX_ENABLED else "off",
        "checks": {
            name: {"status": "ok" if ok else "error", "detail": detail}
            for name, (ok, detail) in results.items()
        },
    }
    if "cache" in body["checks"]:
        body["checks"]["cache"]["backend"] = cache_backend()
    return JsonResponse(body, status=200 if healthy else 503)
