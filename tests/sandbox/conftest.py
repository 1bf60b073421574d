"""Fixtures for the sandbox's own tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import avara
import pytest
from django.test import Client

from tests.sandbox.support import Api


@pytest.fixture
def api(client: Client, db: None, settings: Any) -> Api:
    return Api(client, settings.VIEWER_API_KEY)


@pytest.fixture
def sdk(sandbox_url: str, settings: Any) -> avara.Avara:
    """The official SDK against the live sandbox, validating every response strictly."""
    return avara.Avara(
        api_key=settings.VIEWER_API_KEY,
        base_url=sandbox_url,
        _strict_response_validation=True,
        max_retries=0,
    )
