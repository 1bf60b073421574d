"""A real OpenID Connect provider on loopback: the npm package oidc-provider, run with the
machine's node from tests/oidc_provider (script/test installs it there with `npm ci`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devservices.base import free_port, stop_process, wait_until

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "viewer-admin-tests"
CLIENT_SECRET = "a-client-secret-for-the-loopback-test-provider-only"

# The people the provider knows, by login name, with their claims.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "preferred_username": "alice",
        "email": "alice@hospital.example",
        "given_name": "Alice",
        "family_name": "Adeyemi",
        "groups": ["staff", "viewer-admin-coordinators"],
    },
    "oscar": {
        "preferred_username": "oscar",
        "email": "oscar@hospital.example",
        "groups": "viewer-admin-observers",
    },
    "nina": {"preferred_username": "nina", "email": "nina@hospital.example", "groups": ["staff"]},
}


@dataclass
class OIDCProvider:
    issuer: str
    settings: dict[str, Any]


def _ready(issuer: str) -> bool:
    try:
        return httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def oidc_provider(live_server: Any) -> Iterator[OIDCProvider]:
    """The provider, with one client whose redirect URI is live_server's callback. Its
    `settings` are the app's OIDC_* settings that point at it."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail(
            "The OpenID provider for the tests needs node and its package: run script/test, "
            f"or `npm ci --prefix {PROVIDER_DIR}` (Debian: apt-get install nodejs npm)."
        )
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{live_server.url}/accounts/oidc/callback/"],
    }
    env = {
        **os.environ,
        "OIDC_TEST_PORT": str(port),
        "OIDC_TEST_CLIENT": json.dumps(client),
        "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS),
    }
    with tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            [node, "provider.mjs"], cwd=PROVIDER_DIR, env=env, stdout=log_file, stderr=log_file
        )
    try:
        wait_until(lambda: _ready(issuer), what="oidc-provider", process=process, log=log_path)
        yield OIDCProvider(
            issuer=issuer,
            settings={
                "OIDC_ENABLED": True,
                "OIDC_RP_CLIENT_ID": CLIENT_ID,
                "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_PROVIDER_NAME": "Hospital ID",
                "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{issuer}/auth",
                "OIDC_OP_TOKEN_ENDPOINT": f"{issuer}/token",
                "OIDC_OP_USER_ENDPOINT": f"{issuer}/me",
                "OIDC_OP_JWKS_ENDPOINT": f"{issuer}/jwks",
            },
        )
    finally:
        stop_process(process)
        log_path.unlink(missing_ok=True)


@pytest.fixture
def oidc_enabled(oidc_provider: OIDCProvider, settings: Any) -> OIDCProvider:
    """Single sign-on on for this test, against the loopback provider."""
    for name, value in oidc_provider.settings.items():
        setattr(settings, name, value)
    return oidc_provider
