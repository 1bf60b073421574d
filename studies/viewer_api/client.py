"""The process-wide client: built from settings on first use, replaced with `set_client` (tests
install one with a fake transport), rebuilt when a `VIEWER_API_*` setting changes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from studies.process_client import ProcessClient
from studies.viewer_api.exceptions import ViewerAPIError
from studies.viewer_api.parsing import Model, parse
from studies.viewer_api.transport import ViewerAPI


def _from_settings() -> ViewerAPI:
    return ViewerAPI(
        base_url=settings.VIEWER_API_BASE_URL,
        api_key=settings.VIEWER_API_KEY,
        timeout=settings.VIEWER_API_TIMEOUT_SECONDS,
        connect_timeout=settings.VIEWER_API_CONNECT_TIMEOUT_SECONDS,
        max_connections=settings.VIEWER_API_MAX_CONNECTIONS,
    )


_client = ProcessClient(_from_settings, setting_prefix="VIEWER_API_")
# The one client of this process, and replacing it (None: rebuild from settings on next use).
get_client = _client.get
set_client = _client.set


def call(
    model: type[Model],
    method: str,
    template: str,
    *,
    path_params: Mapping[str, str] | None = None,
    json: Mapping[str, Any] | None = None,
    not_found: str | None = None,
) -> Model:
    """One request through the process-wide client, its answer read as `model`."""
    body = get_client().request(
        method, template, path_params=path_params, json=json, not_found=not_found
    )
    return parse(model, body)


def ping() -> tuple[bool, str]:
    """Whether the API answers an authenticated request; for /healthz (no secrets)."""
    try:
        get_client().request("GET", "/v1/viewer/studies", params={"limit": "1"})
    except ViewerAPIError as exc:
        return False, type(exc).__name__
    return True, "reachable"
