"""Single sign-on configuration: the role claim mapping and the OIDC_* environment."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.oidc import role_for
from studies.roles import COORDINATORS, OBSERVERS
from tests.test_foundation import PRODUCTION_ENV, run_manage

SSO_ENV = {
    "OIDC_RP_CLIENT_ID": "viewer-admin",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.hospital.example/auth",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.hospital.example/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.hospital.example/me",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.hospital.example/jwks",
}


@pytest.mark.parametrize(
    ("claim", "role"),
    [
        (["staff", "viewer-admin-coordinators"], COORDINATORS),
        ("viewer-admin-observers", OBSERVERS),
        (["viewer-admin-observers", "viewer-admin-coordinators"], COORDINATORS),
        (["staff"], None),
        (None, None),
    ],
)
def test_the_role_claim_maps_to_a_group(claim: Any, role: str | None) -> None:
    assert role_for({"groups": claim}) == role


def test_the_claim_and_its_values_come_from_settings(settings: Any) -> None:
    settings.OIDC_ROLES_CLAIM = "roles"
    settings.OIDC_OBSERVER_VALUES = ["reader"]
    assert role_for({"roles": ["reader"], "groups": ["viewer-admin-coordinators"]}) == OBSERVERS


def _print_settings(*names: str, **env: str) -> list[str]:
    code = "from django.conf import settings; " + "; ".join(
        f"print(repr(settings.{name}))" for name in names
    )
    result = run_manage("shell", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-len(names) :]


def test_single_sign_on_is_configured_by_the_environment() -> None:
    enabled, backends = _print_settings(
        "OIDC_ENABLED", "AUTHENTICATION_BACKENDS", **SSO_ENV, LOCAL_PASSWORDS_ENABLED="false"
    )
    assert enabled == "True"
    assert "ModelBackend" not in backends
    assert "RoleMappingOIDCBackend" in backends


def test_passwords_cannot_be_switched_off_without_single_sign_on() -> None:
    result = run_manage("check", LOCAL_PASSWORDS_ENABLED="false")
    assert result.returncode != 0
    assert "LOCAL_PASSWORDS_ENABLED=false needs single sign-on" in result.stderr


def test_production_with_single_sign_on_passes_check_deploy() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, **SSO_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secret" not in result.stdout + result.stderr
