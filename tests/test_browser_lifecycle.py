"""A study's life after creation, in a real Chromium against the sandbox: edit severity and
metadata, cancel behind a confirmation and uncancel, open it in the Viewer in a new tab, look
it up by UID from the header, and an expired session during an htmx request."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import AuditEntry
from tests.conftest import PASSWORD
from viewer_admin.csp import content_security_policy, origin_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def study(sandbox_factory: SandboxFactory, sandbox_url: str) -> SandboxStudy:
    return sandbox_factory.study(
        study_description="MRI Knee Left", severity="normal", metadata={"ward": "ED", "bed": "4"}
    )


@pytest.fixture
def detail(
    sign_in: Callable[[str], Page], live_server: Any, coordinator: User, study: SandboxStudy
) -> Page:
    page = sign_in("coordinator")
    page.goto(f"{live_server.url}/studies/{study.study_id}/")
    expect(page.get_by_role("heading", name="MRI Knee Left")).to_be_visible()
    return page


def history_rows(page: Page) -> Any:
    return page.locator("table.history-table tbody tr")


def test_edit_severity_and_metadata_from_the_detail_page(
    detail: Page, study: SandboxStudy, csp_violations: list[str]
) -> None:
    page = detail
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name="Edit study")).to_be_visible()
    expect(page.get_by_label("Severity")).to_have_value("normal")
    expect(page.locator('[name="metadata-1-value"]')).to_have_value("4")
    expect(page.locator("[data-formset-count]")).to_have_text("2")

    page.get_by_label("Severity").select_option("stat")
    page.locator('[name="metadata-0-value"]').fill("ICU")
    page.get_by_role("button", name="Remove row 2").click()
    page.get_by_role("button", name="Add row").click()
    page.locator('[name="metadata-1-key"]').fill("referrer")
    page.locator('[name="metadata-1-value"]').fill("Dr. Osei")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(re.compile(rf"/studies/{study.study_id}/$"))
    expect(page.get_by_text("Study saved. Changed: Severity, Metadata.")).to_be_visible()
    expect(page.locator(".study-title__badges")).to_contain_text("STAT")
    table = page.locator("table.metadata-table")
    expect(table.get_by_role("row", name="ward ICU")).to_be_visible()
    expect(table.get_by_role("row", name="referrer Dr. Osei")).to_be_visible()
    expect(table.get_by_role("row", name="bed 4")).to_have_count(0)
    expect(history_rows(page)).to_have_count(1)
    expect(history_rows(page).first).to_contain_text("Update")
    expect(history_rows(page).first).to_contain_text("Severity: Normal → STAT")
    expect(history_rows(page).first).to_contain_text("Metadata: 2 pairs → ")
    expect(history_rows(page).first).to_contain_text("coordinator")
    after = SandboxStudy.objects.get(pk=study.pk)
    assert after.severity == "stat"
    assert after.metadata == {"ward": "ICU", "referrer": "Dr. Osei"}
    assert csp_violations == []


def test_cancel_with_confirmation_then_uncancel(
    detail: Page, study: SandboxStudy, csp_violations: list[str]
) -> None:
    page = detail
    page.get_by_role("link", name="Cancel study").click()
    expect(page.get_by_role("heading", name="Cancel this study?")).to_be_visible()
    assert not SandboxStudy.objects.get(pk=study.pk).is_cancelled  # only asked so far
    page.get_by_role("button", name="Cancel study").click()

    expect(page.get_by_text("Study cancelled. It counts as inactive now.")).to_be_visible()
    expect(page.get_by_text("This study is cancelled")).to_be_visible()
    expect(page.locator(".study-title__badges")).to_contain_text("Cancelled")
    assert SandboxStudy.objects.get(pk=study.pk).is_cancelled

    page.get_by_role("link", name="Uncancel").click()
    expect(page.get_by_role("heading", name="Uncancel this study?")).to_be_visible()
    page.get_by_role("button", name="Uncancel study").click()
    expect(page.get_by_text("Study uncancelled. It is active again.")).to_be_visible()
    expect(page.get_by_text("This study is cancelled")).to_have_count(0)
    assert not SandboxStudy.objects.get(pk=study.pk).is_cancelled
    expect(history_rows(page)).to_have_count(2)
    expect(history_rows(page).nth(0)).to_contain_text("Uncancel")
    expect(history_rows(page).nth(1)).to_contain_text("Cancel")
    assert csp_violations == []


def test_keeping_the_study_on_the_confirmation_page_changes_nothing(
    detail: Page, study: SandboxStudy
) -> None:
    page = detail
    page.get_by_role("link", name="Cancel study").click()
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", name="MRI Knee Left")).to_be_visible()
    assert not SandboxStudy.objects.get(pk=study.pk).is_cancelled
    assert AuditEntry.objects.count() == 0


def open_viewer(page: Page) -> Page:
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open in Viewer").click()
    viewer = opened.value
    viewer.wait_for_load_state()
    return viewer


def test_open_in_viewer_opens_a_new_tab(
    detail: Page, study: SandboxStudy, sandbox_url: str, csp_violations: list[str]
) -> None:
    viewer = open_viewer(detail)
    expect(viewer).to_have_url(re.compile(rf"^{re.escape(sandbox_url)}/_sandbox/viewer\?token="))
    expect(viewer.get_by_text("This is the sandbox, not the Avara Viewer.")).to_be_visible()
    expect(detail).to_have_url(re.compile(rf"/studies/{study.study_id}/$"))  # still there
    assert AuditEntry.objects.get().action == AuditEntry.Action.REROUTE
    assert csp_violations == []


@pytest.fixture
def viewer_elsewhere(live_server: Any, sandbox_url: str, settings: Any) -> str:
    """The Viewer's links on another origin than the app's pages, as in production: the app
    reaches the sandbox as 127.0.0.1 while the browser shows it as localhost."""
    assert "localhost" in live_server.url
    base = live_server.url.replace("localhost", "127.0.0.1") + "/sandbox"
    settings.VIEWER_API_BASE_URL = base
    settings.CONTENT_SECURITY_POLICY = content_security_policy(form_action=[origin_of(base)])
    return origin_of(base)


def test_open_in_viewer_reaches_a_viewer_on_another_origin(
    viewer_elsewhere: str, detail: Page, csp_violations: list[str]
) -> None:
    viewer = open_viewer(detail)
    expect(viewer).to_have_url(re.compile(rf"^{re.escape(viewer_elsewhere)}/sandbox/_sandbox/"))
    expect(viewer.get_by_text("This is the sandbox, not the Avara Viewer.")).to_be_visible()
    assert csp_violations == []


def test_look_up_a_study_by_uid_from_the_header(
    detail: Page, study: SandboxStudy, live_server: Any, csp_violations: list[str]
) -> None:
    page = detail
    page.goto(f"{live_server.url}/")
    box = page.get_by_role("search", name="Look up a study").get_by_label("Find a study by its UID")
    box.fill(study.study_instance_uid)
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/studies/{study.study_id}/$"))

    unknown = random_uid()
    box.fill(unknown)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name="Study not found")).to_be_visible()
    expect(page.get_by_text("No study has this Study Instance UID.")).to_be_visible()
    expect(box).to_have_value(unknown)
    # The not-found page is a 404, which the console reports; nothing else may appear there.
    assert [error for error in csp_violations if "404" not in error] == []


def test_an_expired_session_during_an_htmx_request_goes_to_sign_in(
    sign_in: Callable[[str], Page],
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
    csp_violations: list[str],
) -> None:
    page = sign_in("coordinator")
    page.goto(f"{live_server.url}/?severity=stat")
    page.context.clear_cookies()
    page.get_by_label("Description contains").fill("CT")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/%3Fseverity%3Dstat")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#worklist")).to_have_count(0)
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/?severity=stat")
    assert csp_violations == []


# --- Without JavaScript ----------------------------------------------------------------------


def test_without_javascript_edit_and_cancel_still_work(
    no_js_page: Page, study: SandboxStudy, live_server: Any
) -> None:
    page = no_js_page
    page.goto(f"{live_server.url}/studies/{study.study_id}/edit/")
    page.get_by_label("Study description").fill("MRI Knee Left, weight-bearing")
    page.get_by_role("button", name="Add row").click()
    expect(page.get_by_label("Study description")).to_have_value("MRI Knee Left, weight-bearing")
    page.locator('[name="metadata-2-key"]').fill("side")
    page.locator('[name="metadata-2-value"]').fill("left")
    page.get_by_role("checkbox", name="Remove").first.check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Study saved. Changed: Study description, Metadata.")).to_be_visible()
    after = SandboxStudy.objects.get(pk=study.pk)
    assert after.study_description == "MRI Knee Left, weight-bearing"
    assert after.metadata == {"bed": "4", "side": "left"}

    page.get_by_role("button", name="Mark complete").click()
    expect(page.get_by_text("Marked complete.")).to_be_visible()
    page.get_by_role("link", name="Cancel study").click()
    page.get_by_role("button", name="Cancel study").click()
    expect(page.get_by_text("This study is cancelled")).to_be_visible()
    after = SandboxStudy.objects.get(pk=study.pk)
    assert (after.study_viewer_status, after.is_cancelled) == ("complete", True)
