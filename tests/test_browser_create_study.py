"""The create-study form in a real Chromium, against the sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import Submission
from tests.conftest import SandboxFaults
from tests.pages import assignee_radio

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL_URL = re.compile(r"/studies/(stu_[0-9a-f]{32})/$")


@pytest.fixture
def people(sandbox_factory: SandboxFactory) -> dict[str, Any]:
    return {
        "smith": sandbox_factory.user(
            first_name="John",
            middle_name="R.",
            last_name="Smith",
            suffix1="MD",
            email="john.smith@clinic.example",
            clinic_role="Radiologist",
        ),
        "smithers": sandbox_factory.user(
            first_name="Ann", last_name="Smithers", clinic_role="Imaging Technologist"
        ),
        "customer": sandbox_factory.customer(name="Harbor Clinic"),
    }


@pytest.fixture
def form_page(
    sign_in: Callable[[str], Page],
    live_server: Any,
    sandbox_url: str,
    coordinator: User,
    people: dict[str, Any],
) -> Page:
    # `people` first: the customer list is cached once a page has loaded it.
    page = sign_in("coordinator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New study").click()
    expect(page.get_by_role("heading", name="New study")).to_be_visible()
    return page


def row_input(page: Page, index: int, name: str) -> Any:
    return page.locator(f'[name="metadata-{index}-{name}"]')


def fill_rows(page: Page, rows: list[tuple[str, str]]) -> None:
    for index, (key, value) in enumerate(rows):
        if index > 0:
            page.get_by_role("button", name="Add row").click()
        row_input(page, index, "key").fill(key)
        row_input(page, index, "value").fill(value)


def choose_assignee(page: Page, query: str, name: str) -> None:
    page.get_by_label("Assignee", exact=True).fill(query)
    choice = assignee_radio(page, name)
    expect(choice).to_be_visible()
    choice.check()


def fill_form(page: Page, uid: str) -> None:
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Study description").fill("MRI Brain with Contrast")
    page.get_by_label("Study Instance UID").fill(uid)
    choose_assignee(page, "Smith", "John R. Smith, MD")
    page.get_by_label("Express customer").select_option(label="Harbor Clinic")
    fill_rows(page, [("ward", "ED"), ("referrer", "Dr. Osei"), ("bed", "4")])


def test_fill_everything_and_see_every_value_on_the_detail_page(
    form_page: Page, people: dict[str, Any], csp_violations: list[str]
) -> None:
    page = form_page
    uid = random_uid()
    fill_form(page, uid)
    expect(assignee_radio(page, "Ann Smithers")).to_be_visible()
    expect(page.get_by_text("Radiologist · john.smith@clinic.example")).to_be_visible()
    expect(page.locator("[data-formset-count]")).to_have_text("3")
    page.get_by_role("button", name="Create study").click()

    expect(page).to_have_url(DETAIL_URL)
    study_id = DETAIL_URL.search(page.url).group(1)
    expect(page.get_by_role("heading", name="MRI Brain with Contrast")).to_be_visible()
    expect(
        page.get_by_text("Study created: MRI Brain with Contrast, assigned to John R. Smith, MD.")
    ).to_be_visible()
    details = page.locator("dl.details")
    expect(details).to_contain_text("High")
    expect(details).to_contain_text(uid)
    expect(details).to_contain_text("Incomplete")
    expect(details).to_contain_text("John R. Smith, MD")
    expect(details).to_contain_text("john.smith@clinic.example")
    expect(details).to_contain_text("Harbor Clinic")
    expect(details.locator("time")).to_have_count(2)  # created and updated, exact and relative
    expect(details).to_contain_text(re.compile(r"\((just now|\d+\s+seconds? ago)\)"))
    expect(details).to_contain_text(study_id)
    table = page.locator("table.metadata-table")
    for key, value in (("ward", "ED"), ("referrer", "Dr. Osei"), ("bed", "4")):
        expect(table.get_by_role("row", name=f"{key} {value}")).to_be_visible()
    expect(page.get_by_role("button", name="Copy UID")).to_be_visible()
    study = SandboxStudy.objects.get()
    assert study.metadata == {"ward": "ED", "referrer": "Dr. Osei", "bed": "4"}
    assert study.assigned_to_id == people["smith"].user_id
    assert csp_violations == []


def test_rows_up_to_fifty_then_the_add_control_disappears(
    form_page: Page, csp_violations: list[str]
) -> None:
    page = form_page
    add = page.get_by_role("button", name="Add row")
    counter = page.locator(".metadata__counter")
    expect(counter).to_have_text("1 / 50 rows")
    for count in range(2, 51):
        add.click()
        expect(page.locator("[data-formset-count]")).to_have_text(str(count))
    expect(counter).to_have_text("50 / 50 rows")
    expect(add).to_be_hidden()
    expect(page.locator('[name="metadata-TOTAL_FORMS"]')).to_have_value("50")
    expect(row_input(page, 49, "key")).to_be_visible()

    page.get_by_role("button", name="Remove row 50").click()
    expect(counter).to_have_text("49 / 50 rows")
    expect(add).to_be_visible()
    assert csp_violations == []


def test_removing_a_row_renumbers_and_sends_only_the_rest(
    form_page: Page, people: dict[str, Any], csp_violations: list[str]
) -> None:
    page = form_page
    page.get_by_label("Study description").fill("CT Head")
    page.get_by_label("Study Instance UID").fill(random_uid())
    fill_rows(page, [("ward", "ED"), ("drop", "me"), ("bed", "4")])
    expect(page.get_by_role("checkbox", name="Remove")).to_have_count(0)  # JS replaced them

    page.get_by_role("button", name="Remove row 2").click()
    expect(page.locator("[data-formset-count]")).to_have_text("2")
    expect(row_input(page, 1, "key")).to_have_value("bed")
    expect(page.locator('[name="metadata-TOTAL_FORMS"]')).to_have_value("2")
    page.get_by_role("button", name="Create study").click()

    expect(page).to_have_url(DETAIL_URL)
    assert SandboxStudy.objects.get().metadata == {"ward": "ED", "bed": "4"}
    assert csp_violations == []


def test_an_invalid_uid_is_shown_at_the_field_with_input_kept(
    form_page: Page, people: dict[str, Any], csp_violations: list[str]
) -> None:
    page = form_page
    fill_form(page, "1.2.840.0113")
    page.get_by_role("button", name="Create study").click()

    uid = page.get_by_label("Study Instance UID")
    expect(page.locator("#id_study_instance_uid_error")).to_have_text(
        re.compile(r"Component 4 \(0113\) starts with a zero")
    )
    expect(uid).to_have_attribute("aria-invalid", "true")
    expect(uid).to_have_value("1.2.840.0113")
    expect(page.get_by_label("Severity")).to_have_value("high")
    expect(page.get_by_label("Study description")).to_have_value("MRI Brain with Contrast")
    expect(assignee_radio(page, "John R. Smith, MD")).to_be_checked()
    expect(page.get_by_label("Express customer")).to_have_value(people["customer"].customer_id)
    expect(row_input(page, 2, "value")).to_have_value("4")
    expect(page.locator("[data-formset-count]")).to_have_text("3")
    assert SandboxStudy.objects.count() == 0
    assert csp_violations == []


def test_an_unavailable_api_keeps_every_input_and_shows_the_banner(
    form_page: Page,
    people: dict[str, Any],
    sandbox_faults: SandboxFaults,
    csp_violations: list[str],
) -> None:
    page = form_page
    uid = random_uid()
    fill_form(page, uid)
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="POST", count=5)
    page.get_by_role("button", name="Create study").click()

    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("The study was not created.")
    expect(banner).to_contain_text("not responding")
    expect(page.get_by_label("Severity")).to_have_value("high")
    expect(page.get_by_label("Study description")).to_have_value("MRI Brain with Contrast")
    expect(page.get_by_label("Study Instance UID")).to_have_value(uid)
    expect(assignee_radio(page, "John R. Smith, MD")).to_be_checked()
    expect(page.get_by_label("Express customer")).to_have_value(people["customer"].customer_id)
    for index, (key, value) in enumerate([("ward", "ED"), ("referrer", "Dr. Osei"), ("bed", "4")]):
        expect(row_input(page, index, "key")).to_have_value(key)
        expect(row_input(page, index, "value")).to_have_value(value)
    expect(page.get_by_role("button", name="Create study")).to_be_enabled()
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.get().status == Submission.Status.UNSENT

    sandbox_faults.clear()
    page.get_by_role("button", name="Create study").click()
    expect(page).to_have_url(DETAIL_URL)
    assert SandboxStudy.objects.count() == 1
    assert Submission.objects.get().status == Submission.Status.CREATED
    assert csp_violations == []


def test_a_double_click_on_submit_creates_one_study(
    form_page: Page, csp_violations: list[str]
) -> None:
    page = form_page
    page.get_by_label("Study description").fill("CT Head")
    page.get_by_label("Study Instance UID").fill(random_uid())
    page.get_by_role("button", name="Create study").dblclick()
    expect(page).to_have_url(DETAIL_URL)
    expect(page.get_by_role("heading", name="CT Head")).to_be_visible()
    assert SandboxStudy.objects.count() == 1
    assert Submission.objects.count() == 1
    assert csp_violations == []


def test_two_submissions_that_reach_the_server_still_create_one_study(
    form_page: Page, sandbox_faults: SandboxFaults
) -> None:
    """Without the button lock (as after back-and-resubmit), the form token does the work."""
    page = form_page
    page.get_by_label("Study description").fill("CT Head")
    page.get_by_label("Study Instance UID").fill(random_uid())
    sandbox_faults.arm("latency", seconds=1, path="/v1/viewer/studies", method="POST")
    page.locator("form.study-form").evaluate("form => form.removeAttribute('data-submit-once')")
    page.get_by_role("button", name="Create study").dblclick()
    expect(page).to_have_url(DETAIL_URL)
    expect(page.get_by_role("heading", name="CT Head")).to_be_visible()
    assert SandboxStudy.objects.count() == 1
