"""Sign-in, roles, health and the production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARGS = {
    "str": "x",
    "int": "1",
    "rowid": "1",
    "slug": "x",
    "path": "x/y",
    "uuid": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
}
PUBLIC = {"/login/", "/healthz", "/accounts/oidc/authenticate/", "/accounts/oidc/callback/"}


def iter_paths(patterns: list[Any], prefix: str = "") -> list[str]:
    """Every URL of the URLconf as a concrete path, with sample values for converters."""
    paths: list[str] = []
    for pattern in patterns:
        route = str(pattern.pattern)
        for name, converter in getattr(pattern.pattern, "converters", {}).items():
            kind = type(converter).__name__.removesuffix("Converter").lower()
            sample = SAMPLE_ARGS.get(kind) or converter.to_url(SAMPLE_ARGS["str"])
            route = re.sub(rf"<(?:\w+:)?{name}>", sample, route)
        if isinstance(pattern, URLResolver):
            if getattr(pattern, "namespace", None) in {"admin", "sandbox"}:
                continue  # admin has its own sign-in; the sandbox is an API with bearer keys
            paths += iter_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern) and "(?P" not in route and "^" not in route:
            paths.append("/" + prefix + route)
    return paths


@pytest.mark.django_db
def test_every_page_but_login_and_health_sends_anonymous_visitors_to_sign_in(client: Any) -> None:
    paths = iter_paths(get_resolver().url_patterns)
    assert "/" in paths
    for path in paths:
        if path in PUBLIC:
            continue
        for method in (client.get, client.post):
            response = method(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith(reverse("login")), path


@pytest.mark.django_db
def test_admin_has_its_own_sign_in(client: Any) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_login_page_is_public_and_sets_a_strict_csp(client: Any) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert b"<script>" not in response.content
    assert b"style=" not in response.content


@pytest.mark.django_db
def test_wrong_password_shows_an_error_and_no_session(client: Any, coordinator: User) -> None:
    response = client.post(reverse("login"), {"username": "coordinator", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_requires_post(coordinator_client: Any) -> None:
    assert coordinator_client.get(reverse("logout")).status_code == 405
    response = coordinator_client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in coordinator_client.session


@pytest.mark.django_db
def test_roles(coordinator: User, observer: User) -> None:
    assert coordinator.has_perm("studies.manage_studies")
    assert not observer.has_perm("studies.manage_studies")


@pytest.mark.django_db
def test_pages_carry_the_csrf_token_for_htmx_on_body(coordinator_client: Any) -> None:
    response = coordinator_client.get(reverse("home"))
    assert response.status_code == 200
    assert b'<body hx-headers=\'{"X-CSRFToken": "' in response.content
    assert b"django_htmx/htmx-2.min.js" in response.content


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_the_database_and_the_viewer_api(client: Any, sandbox_url: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["viewer_api"] == {"status": "ok", "detail": "reachable"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewer_admin import health

    monkeypatch.setattr(health, "check_database", lambda: (False, "OperationalError"))
    monkeypatch.setattr(health.viewer_api, "ping", lambda: (True, "reachable"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {
        "status": "error",
        "detail": "OperationalError",
    }


@pytest.mark.django_db
def test_healthz_is_503_without_leaking_secrets_when_the_api_is_unreachable(
    client: Any, settings: Any
) -> None:
    settings.VIEWER_API_BASE_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.VIEWER_API_KEY = "secret-key-never-shown"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["viewer_api"] == {"status": "error", "detail": "Unavailable"}
    assert b"secret-key-never-shown" not in response.content
    assert b"nothing-listens-here" not in response.content


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "VIEWER_API_"))}
    return subprocess.run(  # noqa: S603 - fixed command line
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "p" * 20 + "-a-long-random-production-secret-key-for-tests-" + "q" * 10,
    "DJANGO_ALLOWED_HOSTS": "viewer-admin.example",
    "VIEWER_API_BASE_URL": "https://api.avarasoftware.com",
    "VIEWER_API_KEY": "test-key",
}


def test_production_settings_pass_check_deploy_with_no_warnings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "VIEWER_API_BASE_URL", "VIEWER_API_KEY"])
def test_production_refuses_to_start_without_required_settings(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr
    assert "test-key" not in result.stderr


def test_production_never_creates_demo_accounts() -> None:
    result = run_manage("create_demo_users", "--password", "x", **PRODUCTION_ENV)
    assert result.returncode != 0
    assert "never created in production" in result.stderr
