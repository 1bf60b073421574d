"""Short-lived caching of API reads through the shared Django cache."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from pydantic import TypeAdapter, ValidationError

from studies.viewer_api.client import get_client

Cached = TypeVar("Cached")


def cached(key: str, load: Callable[[], Cached], adapter: TypeAdapter[Cached]) -> Cached:
    """Get-or-load through the shared Django cache. Values are stored as plain JSON data and
    keys carry a hash of the base URL and key, so app instances sharing a cache agree and two
    configurations never mix."""
    hashed = _hashed(key)
    raw = cache.get(hashed)
    if raw is not None:
        try:
            return adapter.validate_python(raw)
        except ValidationError:
            cache.delete(hashed)
    value = load()
    cache.set(hashed, adapter.dump_python(value, mode="json"), settings.VIEWER_API_CACHE_SECONDS)
    return value


def remember(entries: Mapping[str, Cached], adapter: TypeAdapter[Cached]) -> None:
    """Store values that `cached` would load under these keys (one cache round trip), e.g. the
    users a search found, so that showing one of them again needs no call."""
    if entries:
        cache.set_many(
            {
                _hashed(key): adapter.dump_python(value, mode="json")
                for key, value in entries.items()
            },
            settings.VIEWER_API_CACHE_SECONDS,
        )


def _hashed(key: str) -> str:
    full_key = f"viewer-api:v1:{get_client().cache_namespace}:{key}"
    return hashlib.sha256(full_key.encode()).hexdigest()
