"""The process-wide client: built from settings on first use, replaced with `set_client` (tests
install one with a fake transport), rebuilt when a `VIEWER_API_*` setting changes."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from studies.viewer_api.exceptions import ViewerAPIError
from studies.viewer_api.transport import ViewerAPI

_lock = threading.Lock()
_client: ViewerAPI | None = None


def get_client() -> ViewerAPI:
    """The one client of this process, built from settings on first use."""
    global _client
    with _lock:
        if _client is None:
            _client = ViewerAPI(
                base_url=settings.VIEWER_API_BASE_URL,
                api_key=settings.VIEWER_API_KEY,
                timeout=settings.VIEWER_API_TIMEOUT_SECONDS,
                connect_timeout=settings.VIEWER_API_CONNECT_TIMEOUT_SECONDS,
                max_connections=settings.VIEWER_API_MAX_CONNECTIONS,
            )
        return _client


def set_client(client: ViewerAPI | None) -> None:
    """Replace the process-wide client (None: rebuild from settings on next use)."""
    global _client
    with _lock:
        old, _client = _client, client
    if old is not None and old is not client:
        old.close()


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("VIEWER_API_"):
        set_client(None)


def ping() -> tuple[bool, str]:
    """Whether the API answers an authenticated request; for /healthz (no secrets)."""
    try:
        get_client().request("GET", "/v1/viewer/studies", params={"limit": "1"})
    except ViewerAPIError as exc:
        return False, type(exc).__name__
    return True, "reachable"
