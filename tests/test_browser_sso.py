"""Single sign-on in a real Chromium against a real OpenID provider on loopback
(tests/services/oidc_provider.py), with the role claim mapped to the groups."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from playwright.sync_api import Page, expect

from accounts.models import SignInEvent
from studies.roles import COORDINATORS, OBSERVERS
from tests.conftest import PASSWORD
from tests.services.oidc_provider import OIDCProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in_with_provider(page: Page, base_url: str, login: str, next_path: str = "/") -> None:
    page.goto(f"{base_url}{next_path}")
    page.get_by_role("link", name="Sign in with Hospital ID").click()
    # The provider's own sign-in page (oidc-provider's development interaction).
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password")
    page.locator('button[type="submit"]').click()


def test_a_coordinator_signs_in_through_the_provider_and_gets_the_coordinator_role(
    oidc_enabled: OIDCProvider, page: Page, live_server: Any, sandbox_url: str
) -> None:
    sign_in_with_provider(page, live_server.url, "alice", "/studies/unsent/")
    page.wait_for_url(f"{live_server.url}/studies/unsent/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="New study")).to_be_visible()
    alice = User.objects.get(username="alice")
    assert list(alice.groups.values_list("name", flat=True)) == [COORDINATORS]
    assert (alice.email, alice.first_name, alice.last_name) == (
        "alice@hospital.example",
        "Alice",
        "Adeyemi",
    )
    assert not alice.has_usable_password()
    event = SignInEvent.objects.get(kind=SignInEvent.Kind.SIGN_IN)
    assert (event.user, event.method) == (alice, "sso")


def test_the_role_follows_the_claim_at_every_sign_in(
    oidc_enabled: OIDCProvider,
    page: Page,
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
) -> None:
    # oscar was a coordinator here; the provider says observer.
    oscar = User.objects.create_user("oscar")
    oscar.groups.add(Group.objects.get(name=COORDINATORS))
    sign_in_with_provider(page, live_server.url, "oscar", "/studies/unsent/")
    page.wait_for_url(f"{live_server.url}/studies/unsent/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name="New study")).to_have_count(0)
    assert list(oscar.groups.values_list("name", flat=True)) == [OBSERVERS]


def test_a_person_without_a_viewer_admin_role_is_refused(
    oidc_enabled: OIDCProvider, page: Page, live_server: Any
) -> None:
    sign_in_with_provider(page, live_server.url, "nina")
    page.wait_for_url(f"{live_server.url}/login/?sso=failed")
    expect(page.get_by_role("alert")).to_contain_text("Single sign-on did not sign you in")
    assert not User.objects.filter(username="nina").exists()
    assert SignInEvent.objects.filter(kind=SignInEvent.Kind.FAILED, method="sso").exists()


def test_with_local_passwords_switched_off_only_single_sign_on_signs_in(
    oidc_enabled: OIDCProvider,
    page: Page,
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
    settings: Any,
    client: Any,
) -> None:
    settings.LOCAL_PASSWORDS_ENABLED = False
    settings.AUTHENTICATION_BACKENDS = [
        backend
        for backend in settings.AUTHENTICATION_BACKENDS
        if backend != "django.contrib.auth.backends.ModelBackend"
    ]
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in with Hospital ID")).to_be_visible()

    # A password post (a form kept open from before, or a script) does not sign in.
    response = client.post("/login/", {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 403
    assert "switched off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="coordinator", password=PASSWORD) is None
    admin = client.post(
        "/admin/login/", {"username": "coordinator", "password": PASSWORD, "next": "/admin/"}
    )
    assert "_auth_user_id" not in client.session, admin.status_code

    sign_in_with_provider(page, live_server.url, "alice", "/studies/unsent/")
    page.wait_for_url(f"{live_server.url}/studies/unsent/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
