"""The shared cache: the database cache by default, Django's Redis backend with REDIS_URL.

The Redis tests run against a real redis-server (see tests/services/redis.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command

from devservices.base import free_port
from sandbox.factories import SandboxFactory
from studies import viewer_api
from viewer_admin import health
from viewer_admin.settings import caches_for

ROOT = Path(__file__).resolve().parent.parent


def backend_for(**env: str) -> str:
    """The cache backend the settings choose in a fresh process with this environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_ENV"}}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; c = settings.CACHES['default'];"
            " print(c['BACKEND'], c['LOCATION'])",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "viewer_admin.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_redis_url_switches_the_cache_to_redis() -> None:
    assert backend_for() == "django.core.cache.backends.db.DatabaseCache viewer_admin_cache"
    assert backend_for(REDIS_URL="redis://cache.internal:6379/2") == (
        "django.core.cache.backends.redis.RedisCache redis://cache.internal:6379/2"
    )


@pytest.mark.django_db(transaction=True)
def test_api_lists_are_cached_in_redis_for_every_instance(
    redis_cache: Any, redis_url: str, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    user = sandbox_factory.user(first_name="Ada", last_name="Okafor")
    assert [u.last_name for u in viewer_api.user_search(query="Okafor")] == ["Okafor"]

    server = redis.Redis.from_url(redis_url)
    keys = server.keys("viewer-admin:*")
    assert keys, "the search result is stored in Redis"
    assert all(0 < server.ttl(key) <= django_settings.VIEWER_API_CACHE_SECONDS for key in keys)

    # Another instance (another client object, same API and key) is served from the same
    # entry, even though the API's answer has changed meanwhile.
    type(user).objects.filter(pk=user.pk).update(last_name="Okafor-Reyes")
    viewer_api.set_client(None)
    assert [u.last_name for u in viewer_api.user_search(query="Okafor")] == ["Okafor"]

    redis_cache.clear()
    assert [u.last_name for u in viewer_api.user_search(query="Okafor")] == ["Okafor-Reyes"]


@pytest.mark.django_db
def test_healthz_reports_the_redis_cache(
    redis_cache: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health.viewer_api, "ping", lambda: (True, "reachable"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == {
        "status": "ok",
        "detail": "reachable",
        "backend": "redis",
    }


@pytest.mark.django_db
def test_healthz_reports_the_database_cache(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CACHES = caches_for("")
    # A run with REDIS_URL set made its test database without the cache table.
    call_command("createcachetable")
    monkeypatch.setattr(health.viewer_api, "ping", lambda: (True, "reachable"))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == {
        "status": "ok",
        "detail": "reachable",
        "backend": "database",
    }


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_unreachable(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing_listens = f"redis://:secret-password@127.0.0.1:{free_port()}/0"
    settings.CACHES = caches_for(nothing_listens)
    monkeypatch.setattr(health.viewer_api, "ping", lambda: (True, "reachable"))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["cache"] == {
        "status": "error",
        "detail": "ConnectionError",
        "backend": "redis",
    }
    assert body["checks"]["database"]["status"] == "ok"
    assert b"secret-password" not in response.content
