"""Automatic log-off in a real Chromium: the warning with "Stay signed in", the log-off at the
deadline, and the half-filled form kept as a draft and offered again after signing in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from accounts.models import FormDraft, SignInEvent
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_idle(settings: Any) -> None:
    settings.SESSION_IDLE_MINUTES = 0.15  # 9 seconds
    settings.SESSION_IDLE_WARNING_SECONDS = 4


def test_idle_log_off_keeps_the_half_filled_form_and_offers_it_again(
    short_idle: None,
    sign_in: Callable[[str], Page],
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
    csp_violations: list[str],
) -> None:
    page = sign_in("coordinator")
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Study description").fill("CT Chest, half done")
    page.locator('[name="metadata-0-key"]').fill("ward")
    page.get_by_role("button", name="Add row").click()
    page.locator('[name="metadata-1-key"]').fill("bed")
    page.locator('[name="metadata-1-value"]').fill("4")

    # Typing counted as activity; with no further input the warning comes before the deadline.
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible(timeout=20_000)
    expect(warning).to_contain_text("You will be signed out in")
    warning.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    assert not SignInEvent.objects.filter(kind=SignInEvent.Kind.IDLE_LOGOFF).exists()

    # Left alone: the warning again, then sign-in, with the way back to the form.
    expect(warning).to_be_visible(timeout=15_000)
    page.wait_for_url(f"{live_server.url}/login/?next=%2Fstudies%2Fnew%2F", timeout=15_000)
    expect(page.get_by_text("You were signed out after")).to_be_visible()
    assert SignInEvent.objects.filter(kind=SignInEvent.Kind.IDLE_LOGOFF, user=coordinator).exists()
    assert FormDraft.objects.get(user=coordinator).data["study_description"] == [
        "CT Chest, half done"
    ]

    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/studies/new/")
    expect(page.get_by_label("Study description")).to_have_value("")
    offer = page.get_by_text("You have a draft of this form")
    expect(offer).to_be_visible()
    page.get_by_role("button", name="Restore the draft").click()
    expect(page.get_by_label("Study description")).to_have_value("CT Chest, half done")
    expect(page.get_by_label("Severity")).to_have_value("high")
    expect(page.locator('[name="metadata-0-key"]')).to_have_value("ward")
    expect(page.locator('[name="metadata-1-value"]')).to_have_value("4")
    expect(offer).to_be_hidden()
    for _ in range(50):  # "Restore" drops the draft on the server, in the background
        if not FormDraft.objects.exists():
            break
        page.wait_for_timeout(100)
    assert not FormDraft.objects.exists()
    assert csp_violations == []


def test_without_input_no_request_keeps_the_session_alive(
    short_idle: None,
    sign_in: Callable[[str], Page],
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
) -> None:
    page = sign_in("coordinator")
    page.goto(f"{live_server.url}/studies/unsent/")
    page.wait_for_url(f"{live_server.url}/login/?next=%2Fstudies%2Funsent%2F", timeout=20_000)
    assert SignInEvent.objects.filter(kind=SignInEvent.Kind.IDLE_LOGOFF).count() == 1
