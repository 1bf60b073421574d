"""Pooled keep-alive connections to the Viewer API, as many as the server has threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from studies import viewer_api
from tests.threads import run_together

ROOT = Path(__file__).resolve().parent.parent


def max_connections(**env: str) -> str:
    """VIEWER_API_MAX_CONNECTIONS as the settings read it in a fresh process, or the error."""
    names = {"VIEWER_API_MAX_CONNECTIONS", "GUNICORN_THREADS", "DJANGO_ENV"}
    base = {k: v for k, v in os.environ.items() if k not in names}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.VIEWER_API_MAX_CONNECTIONS)",
        ],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "viewer_admin.settings", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_the_pool_size_follows_the_server_threads_unless_set() -> None:
    assert max_connections() == "8"
    assert max_connections(GUNICORN_THREADS="12") == "12"
    assert max_connections(GUNICORN_THREADS="12", VIEWER_API_MAX_CONNECTIONS="20") == "20"
    assert "VIEWER_API_MAX_CONNECTIONS must be greater than zero" in max_connections(
        VIEWER_API_MAX_CONNECTIONS="0"
    )


def pool() -> Any:
    """The connection pool of the process-wide client (httpx's transport, httpcore's pool)."""
    return viewer_api.get_client()._http._transport._pool


@pytest.fixture
def fresh_client(settings: Any) -> Any:
    settings.VIEWER_API_MAX_CONNECTIONS = 2
    viewer_api.set_client(None)
    yield
    viewer_api.set_client(None)


@pytest.mark.django_db(transaction=True)
def test_calls_share_a_bounded_pool_of_kept_alive_connections(
    sandbox_url: str, fresh_client: None
) -> None:
    assert (pool()._max_connections, pool()._max_keepalive_connections) == (2, 2)

    for _ in range(3):
        assert viewer_api.ping() == (True, "reachable")
    assert len(pool().connections) == 1, "one connection, kept alive and reused"

    # More callers at once than connections: they take turns, none fails, none opens a third.
    assert run_together(5, lambda index: viewer_api.ping()) == [(True, "reachable")] * 5
    assert 1 <= len(pool().connections) <= 2
