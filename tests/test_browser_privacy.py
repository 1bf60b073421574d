"""A shared workstation: after sign-out, Back shows the sign-in page, never the study data the
browser saw before (every page is `Cache-Control: no-store`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserType, Page, expect

from sandbox.factories import SandboxFactory
from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "MRI Brain for Haddad"


@pytest.fixture
def workstation_page(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Page]:
    """Chromium as a coordinator's workstation runs it: with the back/forward cache, which
    Playwright turns off by default (it keeps whole pages, scripts and all, after they are
    left, and brings them back on Back without asking the server)."""
    browser = browser_type.launch(
        **browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"]
    )
    yield browser.new_page()
    browser.close()


def test_back_after_sign_out_shows_the_sign_in_page(
    workstation_page: Page,
    live_server: Any,
    sandbox_url: str,
    sandbox_factory: SandboxFactory,
    coordinator: User,
) -> None:
    study = sandbox_factory.study(study_description=DESCRIPTION)
    page = sign_in_through_form(workstation_page, live_server.url, "coordinator")
    expect(page.get_by_text(DESCRIPTION)).to_be_visible()
    page.goto(f"{live_server.url}/studies/{study.study_id}/")
    expect(page.get_by_role("heading", name=DESCRIPTION)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")

    page.go_back(wait_until="commit")  # the detail page
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/login/?next=/studies/{study.study_id}/")
    expect(page.get_by_text(DESCRIPTION)).to_have_count(0)

    # The redirect to sign-in replaced the detail page in the history; before it: the worklist.
    page.go_back(wait_until="commit")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text(DESCRIPTION)).to_have_count(0)
