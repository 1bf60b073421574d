"""The worklist in a real Chromium, against the sandbox served by the live server: quick-create
without a reload, inline errors, filters in the URL, "Load more", and the page without
JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy, now_ms
from tests.conftest import SandboxFaults
from tests.pages import assignee_radio

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worklist(
    sign_in: Callable[[str], Page], sandbox_url: str, coordinator: User
) -> Callable[[str], Page]:
    """Signed in as a coordinator, on the worklist with the given query string; a marker on
    `window` tells whether the page was reloaded since."""

    def _open(query: str = "") -> Page:
        page = sign_in("coordinator")
        if query:
            page.goto(page.url + query)
        page.evaluate("window.__marker = 1")
        return page

    return _open


def rows(page: Page) -> Locator:
    return page.locator("#worklist-rows tr.worklist-row")


def quick_create(page: Page) -> Locator:
    """The quick-create region, its panel opened (it starts folded)."""
    region = page.get_by_role("region", name="Quick create")
    if region.locator("details[open]").count() == 0:
        region.locator("summary").click()
    return region


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1


def test_quick_create_adds_the_row_without_a_reload(
    worklist: Callable[[str], Page],
    sandbox_factory: SandboxFactory,
    csp_violations: list[str],
) -> None:
    sandbox_factory.study(study_description="Older study")
    assignee = sandbox_factory.user(first_name="Jane", last_name="Doe", suffix1="MD")
    page = worklist("")
    expect(rows(page)).to_have_count(1)
    form = quick_create(page)
    uid = random_uid()

    form.get_by_label("Severity").select_option("stat")
    form.get_by_label("Study description").fill("CT Chest quick")
    form.get_by_label("Study Instance UID").fill(uid)
    form.get_by_role("combobox", name="Assignee").fill("Doe")
    assignee_radio(form, "Jane Doe, MD").check()
    form.get_by_role("button", name="Create study", exact=True).click()

    first = rows(page).first
    expect(first).to_contain_text("CT Chest quick")
    expect(first).to_contain_text("STAT")
    expect(first).to_contain_text("Jane Doe, MD")
    expect(first).to_have_class(re.compile(r"\bis-new\b"))
    expect(rows(page)).to_have_count(2)
    study = SandboxStudy.objects.get(study_instance_uid=uid)
    assert study.severity == "stat"
    assert study.assigned_to_id == assignee.pk

    message = form.get_by_role("status").filter(has_text="Study created")
    expect(message.get_by_role("link", name="CT Chest quick")).to_have_attribute(
        "href", f"/studies/{study.study_id}/"
    )
    expect(form.get_by_label("Study description")).to_have_value("")
    expect(form.get_by_label("Study Instance UID")).to_have_value("")
    expect(form.get_by_label("Severity")).to_have_value("normal")
    expect(form.get_by_label("Severity")).to_be_focused()
    assert_not_reloaded(page)
    assert csp_violations == []


def test_quick_create_with_the_keyboard_alone(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory
) -> None:
    page = worklist("")
    form = quick_create(page)
    form.get_by_label("Severity").focus()
    page.keyboard.press("Tab")
    expect(form.get_by_label("Study description")).to_be_focused()
    page.keyboard.type("MRI Knee typed")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Study Instance UID")).to_be_focused()
    page.keyboard.type("1.2.840.99.1")
    page.keyboard.press("Enter")

    expect(rows(page).first).to_contain_text("MRI Knee typed")
    expect(form.get_by_label("Severity")).to_be_focused()
    assert SandboxStudy.objects.filter(study_instance_uid="1.2.840.99.1").count() == 1
    assert_not_reloaded(page)


def test_an_invalid_uid_shows_its_error_inline_with_the_input_kept(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.study(study_description="Existing study")
    page = worklist("")
    form = quick_create(page)
    form.get_by_label("Severity").select_option("high")
    form.get_by_label("Study description").fill("Chest X-ray")
    form.get_by_label("Study Instance UID").fill("1.02.3")
    form.get_by_role("button", name="Create study", exact=True).click()

    expect(form.get_by_text("Component 2 (02) starts with a zero")).to_be_visible()
    expect(form.get_by_label("Study Instance UID")).to_have_value("1.02.3")
    expect(form.get_by_label("Study description")).to_have_value("Chest X-ray")
    expect(form.get_by_label("Severity")).to_have_value("high")
    expect(rows(page)).to_have_count(1)
    assert SandboxStudy.objects.count() == 1
    assert_not_reloaded(page)


def test_a_duplicate_uid_links_to_the_existing_study(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory
) -> None:
    existing = sandbox_factory.study(study_description="The first one")
    page = worklist("")
    form = quick_create(page)
    form.get_by_label("Study description").fill("Second try")
    form.get_by_label("Study Instance UID").fill(existing.study_instance_uid)
    form.get_by_role("button", name="Create study", exact=True).click()

    link = form.get_by_role("link", name=re.compile("Open the existing study"))
    expect(link).to_have_attribute("href", f"/studies/{existing.study_id}/")
    expect(form.get_by_label("Study description")).to_have_value("Second try")
    expect(rows(page)).to_have_count(1)
    assert_not_reloaded(page)


def test_more_options_opens_the_full_form_with_what_was_typed(
    worklist: Callable[[str], Page],
) -> None:
    page = worklist("")
    form = quick_create(page)
    form.get_by_label("Severity").select_option("stat")
    form.get_by_label("Study description").fill("PET/CT whole body")
    form.get_by_label("Study Instance UID").fill("1.2.3.4")
    form.get_by_role("button", name="More options").click()

    expect(page).to_have_url(re.compile(r"/studies/new/\?"))
    expect(page.get_by_role("heading", name="New study")).to_be_visible()
    expect(page.get_by_label("Severity")).to_have_value("stat")
    expect(page.get_by_label("Study description")).to_have_value("PET/CT whole body")
    expect(page.get_by_label("Study Instance UID")).to_have_value("1.2.3.4")


def test_changing_a_filter_updates_the_url_and_the_rows(
    worklist: Callable[[str], Page],
    sandbox_factory: SandboxFactory,
    live_server: Any,
    csp_violations: list[str],
) -> None:
    for description in ("MRI Brain", "CT Brain"):
        sandbox_factory.study(study_description=description, severity="stat")
    for description in ("CT Head", "CT Chest", "X-ray Hand"):
        sandbox_factory.study(study_description=description)
    page = worklist("")
    expect(rows(page)).to_have_count(5)
    filters = page.get_by_role("search", name="Filter studies")

    filters.get_by_label("Severity").select_option("stat")
    expect(page).to_have_url(f"{live_server.url}/?severity=stat")
    expect(rows(page)).to_have_count(2)

    filters.get_by_label("Description contains").press_sequentially("mri")
    expect(page).to_have_url(f"{live_server.url}/?q=mri&severity=stat")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("MRI Brain")
    expect(filters.get_by_label("Description contains")).to_be_focused()

    filters.get_by_label("Description contains").fill("")
    expect(rows(page)).to_have_count(2)
    page.get_by_role("link", name=re.compile("^STAT")).click()  # the chip: STAT off again
    expect(page).to_have_url(f"{live_server.url}/?filters=none")
    expect(rows(page)).to_have_count(5)
    expect(filters.get_by_label("Severity")).to_have_value("")
    assert_not_reloaded(page)

    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/?severity=stat")
    expect(rows(page)).to_have_count(2)

    page.get_by_role("link", name="Reset filters").click()
    expect(page).to_have_url(f"{live_server.url}/?filters=none")
    expect(rows(page)).to_have_count(5)
    expect(filters.get_by_label("Severity")).to_have_value("")
    assert_not_reloaded(page)
    assert csp_violations == []


def test_the_unassigned_chip_and_an_empty_state(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory, live_server: Any
) -> None:
    someone = sandbox_factory.user(first_name="Amir", last_name="Haddad")
    sandbox_factory.study(study_description="Assigned one", assigned_to=someone)
    sandbox_factory.study(study_description="Nobody's", severity="high")
    page = worklist("")
    page.get_by_role("link", name="Unassigned", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/?assigned_to=unassigned")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Nobody's")
    page.get_by_role("link", name="STAT", exact=True).click()
    expect(page.get_by_text("No studies match these filters.")).to_be_visible()
    expect(page.locator(".filter-list")).to_contain_text("Unassigned")
    expect(page.locator(".filter-list")).to_contain_text("Severity STAT")
    page.get_by_role("link", name="Clear all filters").click()
    expect(rows(page)).to_have_count(2)
    assert_not_reloaded(page)


def test_the_assignee_filter_finds_a_user_by_type_ahead(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory, live_server: Any
) -> None:
    rad = sandbox_factory.user(first_name="Priya", last_name="Raman", suffix1="MD")
    sandbox_factory.study(study_description="For Priya", assigned_to=rad)
    sandbox_factory.study(study_description="Not for Priya")
    page = worklist("")
    filters = page.get_by_role("search", name="Filter studies")
    filters.get_by_role("combobox", name=re.compile("^Find a user")).fill("Raman")
    assignee_radio(filters, "Priya Raman, MD").check()
    expect(page).to_have_url(f"{live_server.url}/?assigned_to={rad.user_id}")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("For Priya")
    assert_not_reloaded(page)


def test_load_more_appends_the_next_page(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory, live_server: Any
) -> None:
    start = now_ms()
    for number in range(1, 56):
        sandbox_factory.study(
            study_description=f"Study {number:02d}",
            created_at=start - timedelta(minutes=number),
        )
    page = worklist("")
    expect(rows(page)).to_have_count(50)
    expect(rows(page).last).to_contain_text("Study 50")

    page.get_by_role("link", name="Load more").click()
    expect(rows(page)).to_have_count(55)
    expect(rows(page).nth(50)).to_contain_text("Study 51")
    expect(rows(page).last).to_contain_text("Study 55")
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)
    expect(rows(page).nth(50).get_by_role("link")).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}/")
    assert_not_reloaded(page)


def test_load_more_after_a_new_study_shows_no_row_twice(
    worklist: Callable[[str], Page], sandbox_factory: SandboxFactory
) -> None:
    start = now_ms()
    for number in range(1, 56):
        sandbox_factory.study(
            study_description=f"Study {number:02d}",
            created_at=start - timedelta(minutes=number),
        )
    page = worklist("")
    expect(rows(page)).to_have_count(50)
    # Someone creates a study: every row shifts one place, so "Study 50" is also on page two.
    sandbox_factory.study(study_description="Brand new", created_at=start)

    page.get_by_role("link", name="Load more").click()
    expect(rows(page)).to_have_count(55)
    expect(rows(page).filter(has_text="Study 50")).to_have_count(1)
    expect(rows(page).nth(50)).to_contain_text("Study 51")
    expect(rows(page).nth(50).get_by_role("link")).to_be_focused()
    assert_not_reloaded(page)


def test_api_unavailable_shows_a_banner_and_a_retry_link(
    worklist: Callable[[str], Page],
    sandbox_factory: SandboxFactory,
    sandbox_faults: SandboxFaults,
    csp_violations: list[str],
) -> None:
    sandbox_factory.study(study_description="Visible after retry")
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="GET", count=10)
    page = worklist("")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The worklist could not be loaded.")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    sandbox_faults.clear()
    alert.get_by_role("link", name="Try again").click()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_role("alert")).to_have_count(0)
    assert csp_violations == []


def test_observers_have_no_quick_create(
    sign_in: Callable[[str], Page], sandbox_url: str, observer: User
) -> None:
    page = sign_in("observer")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    expect(page.get_by_role("region", name="Quick create")).to_have_count(0)


# --- Without JavaScript ----------------------------------------------------------------------


def test_without_javascript_filters_paging_and_quick_create_still_work(
    no_js_page: Page, sandbox_factory: SandboxFactory, live_server: Any
) -> None:
    page = no_js_page
    start = now_ms()
    for number in range(1, 53):
        sandbox_factory.study(
            study_description=f"Normal {number:02d}", created_at=start - timedelta(minutes=number)
        )
    sandbox_factory.study(study_description="Urgent one", severity="stat")
    page.reload()
    filters = page.get_by_role("search", name="Filter studies")
    filters.get_by_label("Severity").select_option("stat")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"severity=stat"))
    expect(rows(page)).to_have_count(1)

    page.goto(f"{live_server.url}/?filters=none")  # a plain / brings the STAT filter back
    expect(rows(page)).to_have_count(50)
    page.get_by_role("link", name="Load more").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(rows(page)).to_have_count(3)

    form = quick_create(page)
    form.get_by_label("Study description").fill("Posted without JS")
    form.get_by_label("Study Instance UID").fill("1.2.840.77")
    form.get_by_role("button", name="Create study", exact=True).click()
    study = SandboxStudy.objects.get(study_instance_uid="1.2.840.77")
    expect(page).to_have_url(f"{live_server.url}/studies/{study.study_id}/")
    expect(page.get_by_text("Posted without JS").first).to_be_visible()
