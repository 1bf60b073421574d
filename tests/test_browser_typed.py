"""What the coordinator typed is what gets created, and every screen says what is true (issue
18), in a real Chromium against the sandbox: with and without JavaScript where they differ.

Every browser test also fails on a console error or a CSP violation (tests/conftest.py); the
first test here shows that the listener catches one."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Locator, Page, expect

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import Submission
from tests.conftest import SandboxFaults, _watch_context, sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL_URL = re.compile(r"/studies/(stu_[0-9a-f]{32})/$")


@pytest.fixture
def patels(sandbox_factory: SandboxFactory) -> dict[str, Any]:
    return {
        "nikhil": sandbox_factory.user(
            first_name="Nikhil", last_name="Patel", email="nikhil.patel@clinic.example"
        ),
        "priya": sandbox_factory.user(
            first_name="Priya", last_name="Patel", email="priya.patel@clinic.example"
        ),
    }


@pytest.fixture
def worklist(
    sign_in: Callable[[str], Page], sandbox_url: str, coordinator: User, patels: dict[str, Any]
) -> Page:
    return sign_in("coordinator")


def quick(page: Page) -> Locator:
    """The quick-create region, its panel opened (it starts folded)."""
    region = page.get_by_role("region", name="Quick create")
    if region.locator("details[open]").count() == 0:
        region.locator("summary").click()
    return region


def fill_quick(page: Page, description: str, uid: str) -> None:
    form = quick(page)
    form.get_by_label("Study description").fill(description)
    form.get_by_label("Study Instance UID").fill(uid)


# --- The console listener ----------------------------------------------------------------------


@pytest.mark.console_errors_expected
def test_the_console_listener_catches_a_csp_violation(
    browser: Browser, live_server: Any, coordinator: User
) -> None:
    problems: list[str] = []
    context = browser.new_context()
    _watch_context(context, problems, str(live_server.url))
    page = sign_in_through_form(context.new_page(), live_server.url, "coordinator")
    assert problems == []
    page.evaluate(
        "() => { const s = document.createElement('style'); s.textContent = 'p{}';"
        " document.head.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    context.close()
    assert any("Content Security Policy" in problem for problem in problems), problems


# --- 1. An assignee searched for but not chosen --------------------------------------------------


def test_quick_create_chooses_the_one_user_with_the_typed_name_and_says_so(
    worklist: Page, patels: dict[str, Any], sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.study(study_description="Older study")
    page = worklist
    page.reload()
    expect(page.locator("[data-shown-count]")).to_have_text("1")
    # The help sits between the label and the box, as on the full form.
    help_box = quick(page).get_by_text("Digits separated by dots").bounding_box()
    assert help_box["y"] < quick(page).get_by_label("Study Instance UID").bounding_box()["y"]
    expect(quick(page).get_by_text(re.compile("part of an email finds nothing"))).to_be_visible()
    uid = random_uid()
    fill_quick(page, "CT Chest typed", uid)
    quick(page).get_by_label("Assignee", exact=True).fill("Nikhil Patel")
    expect(quick(page).get_by_role("option", name=re.compile("Nikhil Patel"))).to_be_visible()
    quick(page).get_by_role("button", name="Create study").click()  # "Nobody" still checked

    banner = quick(page).get_by_role("status").filter(has_text="Study created")
    expect(banner).to_contain_text("assigned to Nikhil Patel (the one user named “Nikhil Patel”)")
    study = SandboxStudy.objects.get(study_instance_uid=uid)
    assert study.assigned_to_id == patels["nikhil"].user_id
    # The summary counts the new row too, and the list says where it ends.
    expect(page.locator("[data-shown-count]")).to_have_text("2")
    expect(page.locator("[data-end-of-list]")).to_contain_text("End of the list")


def test_an_ambiguous_assignee_search_creates_nothing_and_says_so_at_the_field(
    worklist: Page,
) -> None:
    page = worklist
    fill_quick(page, "CT Chest ambiguous", random_uid())
    quick(page).get_by_label("Assignee", exact=True).fill("Patel")
    expect(quick(page).get_by_role("option", name=re.compile("Priya Patel"))).to_be_visible()
    quick(page).get_by_role("button", name="Create study").click()

    expect(quick(page).get_by_text("The study was not created.")).to_be_visible()
    expect(
        quick(page).get_by_text(re.compile("2 users match “Patel”, none of them"))
    ).to_be_visible()
    assert SandboxStudy.objects.count() == 0
    # The keyboard goes to the field the message is about, not to <body>.
    expect(quick(page).get_by_label("Assignee", exact=True)).to_be_focused()
    # Changing the search clears the old message at once.
    quick(page).get_by_label("Assignee", exact=True).fill("Priya Patel")
    expect(quick(page).get_by_text(re.compile("none of them"))).to_have_count(0)


def test_full_form_without_javascript_enter_in_the_search_searches_and_an_exact_name_is_chosen(
    browser: Browser, live_server: Any, sandbox_url: str, coordinator: User, patels: dict[str, Any]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = sign_in_through_form(context.new_page(), live_server.url, "coordinator")
    page.goto(f"{live_server.url}/studies/new/")
    uid = random_uid()
    page.get_by_label("Study description").fill("MRI Knee no JS")
    page.get_by_label("Study Instance UID").fill(uid)
    search = page.get_by_label("Assignee", exact=True)
    search.fill("Nikhil Patel")
    search.press("Enter")  # searches: nothing is created
    expect(page.get_by_text("1 user matches “Nikhil Patel”.")).to_be_visible()
    assert SandboxStudy.objects.count() == 0
    expect(page.get_by_label("Study description")).to_have_value("MRI Knee no JS")

    page.get_by_label("Study description").press("Enter")  # still pending: searches again
    assert SandboxStudy.objects.count() == 0
    page.get_by_role("button", name="Create study", exact=True).last.click()
    expect(page).to_have_url(DETAIL_URL)
    expect(
        page.get_by_text("Study created: MRI Knee no JS, assigned to Nikhil Patel")
    ).to_be_visible()
    assert (
        SandboxStudy.objects.get(study_instance_uid=uid).assigned_to_id == patels["nikhil"].user_id
    )
    context.close()


def test_quick_create_without_javascript_enter_in_the_search_never_creates(
    no_js_page: Page, patels: dict[str, Any]
) -> None:
    page = no_js_page
    fill_quick(page, "CT Chest no JS", random_uid())
    quick(page).get_by_label("Assignee", exact=True).fill("Patel")
    quick(page).get_by_label("Assignee", exact=True).press("Enter")
    expect(quick(page).get_by_text("2 users match “Patel”.")).to_be_visible()
    assert SandboxStudy.objects.count() == 0
    quick(page).get_by_role("radio", name=re.compile("Priya Patel")).check()
    quick(page).get_by_label("Study description").press("Enter")  # a user is chosen: creates
    expect(
        page.get_by_text("Study created: CT Chest no JS, assigned to Priya Patel.")
    ).to_be_visible()


# --- The combobox (issue 16's keyboard rule for the same component) -----------------------------


def test_the_assignee_search_is_a_combobox_arrows_enter_escape_and_a_count(
    worklist: Page, patels: dict[str, Any]
) -> None:
    page = worklist
    box = quick(page).get_by_role("combobox", name="Assignee")
    box.fill("Patel")
    expect(quick(page).get_by_role("status").filter(has_text="2 users match")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = quick(page).get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(3)  # Nobody and the two
    box.press("ArrowDown")
    box.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active
    expect(page.locator(f"#{active}")).to_contain_text("Nikhil Patel")  # sorted by last, first
    box.press("ArrowUp")
    expect(page.locator(f"#{box.get_attribute('aria-activedescendant')}")).to_contain_text("Nobody")
    box.press("ArrowDown")
    box.press("Enter")  # chooses; does not submit
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-expanded", "false")
    chosen = listbox.get_by_role("option", name=re.compile("Nikhil Patel"))
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(listbox.get_by_role("option", name=re.compile("Priya Patel"))).to_be_hidden()
    assert SandboxStudy.objects.count() == 0
    box.press("ArrowDown")  # opens again
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")  # closes to the chosen one, keeps the text
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("Patel")
    expect(chosen).to_be_visible()


def test_the_worklist_assignee_filter_combobox_filters_with_enter(
    worklist: Page, sandbox_factory: SandboxFactory, patels: dict[str, Any]
) -> None:
    sandbox_factory.study(study_description="Priya's study", assigned_to=patels["priya"])
    sandbox_factory.study(study_description="Someone else's")
    page = worklist
    page.reload()
    box = page.get_by_role("combobox", name=re.compile("^Find a user"))
    box.fill("Priya")
    expect(page.locator("#worklist-filters").get_by_role("status")).to_have_text(
        "1 user matches “Priya”."
    )
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowDown")  # Anyone, Unassigned, Priya Patel
    box.press("Enter")
    expect(page.locator("#worklist-rows tr.worklist-row")).to_have_count(1)
    expect(page.locator("#worklist-rows")).to_contain_text("Priya's study")


# --- 2. One validation experience; sending ----------------------------------------------------


def test_the_full_form_shows_the_apps_messages_not_browser_bubbles_and_clears_them(
    worklist: Page, live_server: Any
) -> None:
    page = worklist
    page.goto(f"{live_server.url}/studies/new/")
    assert page.locator("form.study-form").evaluate("form => form.noValidate") is True
    uid_help = page.get_by_text("Digits separated by dots, at most 64 characters.")
    page.get_by_role("button", name="Create study", exact=True).last.click()
    expect(page.get_by_text("Enter a study description.")).to_be_visible()
    # Help sits between the label and the box, as on the quick-create form.
    uid_box = page.get_by_label("Study Instance UID")
    assert uid_help.bounding_box()["y"] < uid_box.bounding_box()["y"]
    page.get_by_label("Study description").fill("Fixed")
    expect(page.get_by_text("Enter a study description.")).to_have_count(0)
    expect(page.get_by_label("Study description")).not_to_have_attribute("aria-invalid", "true")
    assert SandboxStudy.objects.count() == 0
    # The assignee help is honest about email.
    expect(
        page.get_by_text(re.compile("whole email address: part of an email finds nothing"))
    ).to_be_visible()


def test_a_slow_api_says_still_sending_and_the_form_is_sent_once(
    worklist: Page, sandbox_faults: SandboxFaults
) -> None:
    page = worklist
    sandbox_faults.arm("latency", seconds=7, path="/v1/viewer/studies", method="POST")
    uid = random_uid()
    fill_quick(page, "CT slow", uid)
    create = quick(page).get_by_role("button", name="Create study")
    create.click()
    expect(quick(page).get_by_text("Sending…")).to_be_visible()
    # Only the submit button's spinner: the assignee search is not busy.
    expect(quick(page).locator(".assignee-picker__search.htmx-request")).to_have_count(0)
    expect(create).to_be_disabled()
    quick(page).get_by_label("Study description").press("Enter")  # a second try is dropped
    expect(quick(page).get_by_text("Still sending — the Viewer API is slow")).to_be_visible(
        timeout=6500
    )
    expect(quick(page).get_by_role("status").filter(has_text="Study created")).to_be_visible(
        timeout=15000
    )
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1
    assert Submission.objects.count() == 1


# --- 5. Unsent: live count, links, names, confirmation -------------------------------------


def test_a_failed_quick_create_updates_the_unsent_count_and_links_to_it(
    worklist: Page, sandbox_faults: SandboxFaults, patels: dict[str, Any]
) -> None:
    page = worklist
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="POST", count=3)
    fill_quick(page, "CT unsent", random_uid())
    box = quick(page).get_by_label("Assignee", exact=True)
    box.fill("Priya Patel")
    quick(page).get_by_role("option", name=re.compile("Priya Patel")).click()
    quick(page).get_by_role("button", name="Create study").click()
    expect(quick(page).get_by_role("alert")).to_contain_text("saved as unsent")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=re.compile("Unsent"))).to_contain_text("1")
    quick(page).get_by_role("link", name="See the unsent studies").click()

    attempt = page.get_by_role("listitem").filter(has_text="CT unsent")
    expect(attempt).to_contain_text("Priya Patel")
    expect(attempt).not_to_contain_text(patels["priya"].user_id)
    attempt.get_by_role("link", name=re.compile("Discard")).click()
    expect(page.get_by_role("heading", name="Discard this unsent study?")).to_be_visible()
    assert Submission.objects.get().status == Submission.Status.UNSENT  # not yet
    page.get_by_role("button", name="Discard it").click()
    expect(page.get_by_text("The unsent study was discarded.")).to_be_visible()
    assert Submission.objects.get().status == Submission.Status.DISCARDED


# --- 4, 6. Edit: read-only fields; History old → new ---------------------------------------


def test_edit_shows_what_cannot_change_and_history_shows_old_and_new_values(
    worklist: Page, live_server: Any, sandbox_factory: SandboxFactory, patels: dict[str, Any]
) -> None:
    customer = sandbox_factory.customer(name="Harbor Clinic")
    study = sandbox_factory.study(
        study_description="CT Head",
        severity="normal",
        express_customer=customer,
        metadata={"ward": "ED"},
    )
    page = worklist
    page.goto(f"{live_server.url}/studies/{study.study_id}/edit/")
    fixed = page.get_by_role("region", name="Not editable")
    expect(fixed).to_contain_text(study.study_instance_uid)
    expect(fixed).to_contain_text("Harbor Clinic")
    expect(fixed).to_contain_text("does not allow changing")
    page.get_by_label("Severity").select_option("stat")
    page.get_by_label("Assignee", exact=True).fill("Nikhil Patel")
    page.get_by_role("button", name="Save changes").last.click()  # typed, not chosen: chosen
    expect(page).to_have_url(DETAIL_URL)
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("Severity: Normal → STAT")
    expect(history).to_contain_text("Assignee: Unassigned → Nikhil Patel")
    expect(history).not_to_contain_text("ED")


# --- 9. A failed look-up --------------------------------------------------------------------


def test_a_failed_uid_lookup_offers_to_create_the_study_with_that_uid(worklist: Page) -> None:
    page = worklist
    uid = random_uid()
    lookup = page.get_by_role("search", name="Look up a study")
    lookup.get_by_role("searchbox").fill(uid)
    lookup.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name="Study not found")).to_be_visible()
    page.get_by_role("link", name="Create a study with this UID").click()
    expect(page.get_by_role("heading", name="New study")).to_be_visible()
    expect(page.get_by_label("Study Instance UID")).to_have_value(uid)

    lookup = page.get_by_role("search", name="Look up a study")
    lookup.get_by_role("searchbox").fill("1.02")
    lookup.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name="Not a Study Instance UID")).to_be_visible()
    expect(page.get_by_role("link", name="Create a study with this UID")).to_have_count(0)


# --- 8, 10. The worklist: summary after Load more, focus after swaps --------------------------


def test_load_more_updates_the_summary_and_the_list_ends_with_a_marker(
    worklist: Page, sandbox_factory: SandboxFactory
) -> None:
    for number in range(53):
        sandbox_factory.study(study_description=f"Study {number}")
    page = worklist
    page.reload()
    summary = page.locator("[data-worklist-summary]")
    expect(summary).to_contain_text("50 shown, more below")
    expect(page.locator("[data-end-of-list]")).to_have_count(0)
    page.get_by_role("link", name="Load more").click()
    expect(summary).to_contain_text("53 shown, the whole list")
    expect(page.locator("[data-end-of-list]")).to_be_visible()


def test_focus_stays_on_the_chip_and_on_reset_filters(worklist: Page) -> None:
    page = worklist
    page.get_by_role("link", name="STAT", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("^STAT"))).to_have_attribute(
        "aria-current", "true"
    )
    expect(page.locator("#chip-stat")).to_be_focused()
    page.locator("#chip-unassigned").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#chip-unassigned")).to_have_attribute("aria-current", "true")
    expect(page.locator("#chip-unassigned")).to_be_focused()
    page.get_by_role("link", name="Reset filters").click()
    expect(page.locator("#chip-stat")).not_to_have_attribute("aria-current", "true")
    expect(page.locator("#reset-filters")).to_be_focused()
