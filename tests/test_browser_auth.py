"""Sign-in and sign-out in a real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signing_in_as_coordinator_lands_on_the_home_page(
    sign_in: Callable[[str], Page], coordinator: User, csp_violations: list[str]
) -> None:
    page = sign_in("coordinator")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert csp_violations == []


def test_wrong_password_shows_an_error_and_no_session(
    page: Page, live_server: Any, coordinator: User
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")


def test_sign_out_ends_the_session(
    sign_in: Callable[[str], Page], live_server: Any, observer: User
) -> None:
    page = sign_in("observer")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
