"""A real Redis for the cache tests.

`redis_url` is the server that `REDIS_URL` names when the run was started with one (script/test
starts its PostgreSQL run under `python -m devservices --with postgres,redis`); otherwise a
throw-away `redis-server` started for this test session. Without Debian's redis-server
package the tests that need it are skipped, and the skip reason says how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from devservices import redis
from devservices.base import ServiceUnavailable


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get(redis.ENV_VAR, "").strip()
    if given:
        yield given
        return
    try:
        with redis.running() as url:
            yield url
    except ServiceUnavailable as exc:
        pytest.skip(f"no Redis server for the cache tests: {exc}")


def redis_caches(url: str) -> dict[str, Any]:
    """CACHES as the settings build them for REDIS_URL=url."""
    from viewer_admin.settings import caches_for

    return caches_for(url)


@pytest.fixture
def redis_cache(redis_url: str, settings: Any) -> Iterator[Any]:
    """The default cache switched to Django's Redis backend on `redis_url`, emptied before and
    after the test."""
    from django.core.cache import cache

    settings.CACHES = redis_caches(redis_url)
    cache.clear()
    yield cache
    cache.clear()
