"""The worklist through a coordinator's shift, in a real Chromium (issue 16): rows above the
fold, cards on a phone, the live worklist, the remembered quick-create panel and the keyboard
shortcuts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxStudy
from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def at_size(
    browser: Browser, live_server: Any, sandbox_url: str, coordinator: User
) -> Iterator[Callable[..., Page]]:
    """A signed-in coordinator's page at the given viewport size."""
    contexts = []

    def _open(viewport: dict[str, int], username: str = "coordinator") -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        contexts.append(context)
        return sign_in_through_form(context.new_page(), live_server.url, username)

    yield _open
    for context in contexts:
        context.close()


def rows_above_the_fold(page: Page) -> int:
    return int(
        page.evaluate(
            """() => [...document.querySelectorAll('#worklist-rows tr.worklist-row')]
                 .filter(row => row.getBoundingClientRect().bottom <= window.innerHeight).length"""
        )
    )


def test_ten_rows_above_the_fold_at_1280_by_800(
    at_size: Callable[..., Page], sandbox_factory: SandboxFactory
) -> None:
    for number in range(30):
        sandbox_factory.study(
            study_description=f"CT Abdomen {number}",
            severity=("stat", "high", "normal")[number % 3],
        )
    page = at_size(DESKTOP)
    expect(page.locator("#worklist-rows tr.worklist-row")).to_have_count(30)
    assert rows_above_the_fold(page) >= 10
    # One compact filter bar; the rest behind "More filters", closed while none of them is set.
    filters = page.get_by_role("search", name="Filter studies")
    for label in ("Description contains", "Severity", "Viewer status"):
        expect(filters.get_by_label(label, exact=True)).to_be_visible()
    expect(filters.get_by_label("Express customer")).to_be_hidden()
    filters.get_by_text("More filters").click()
    expect(filters.get_by_label("Express customer")).to_be_visible()


def test_rows_read_as_cards_at_390_px(
    at_size: Callable[..., Page], sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.study(study_description="MR Knee", severity="stat")
    page = at_size(PHONE)
    row = page.locator("#worklist-rows tr.worklist-row").first
    expect(row).to_be_visible()
    assert row.evaluate("r => getComputedStyle(r).display") == "flex"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    cell = row.locator("td[data-label='Severity']")
    assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"Severity"'


def test_the_quick_create_panel_is_remembered(at_size: Callable[..., Page]) -> None:
    page = at_size(DESKTOP)
    panel = page.locator("[data-quick-create-panel]")
    expect(panel).not_to_have_attribute("open", "")
    with page.expect_response("**/worklist/panel/"):
        panel.locator("summary").click()
    page.reload()
    expect(panel).to_have_attribute("open", "")
    with page.expect_response("**/worklist/panel/"):
        panel.locator("summary").click()
    page.reload()
    expect(panel).not_to_have_attribute("open", "")


def test_live_worklist_announces_changes_and_leaves_the_page_alone(
    at_size: Callable[..., Page],
    sandbox_factory: SandboxFactory,
    settings: Any,
    csp_violations: list[str],
) -> None:
    settings.WORKLIST_POLL_SECONDS = 1
    watched = sandbox_factory.study(study_description="Watched")
    page = at_size(DESKTOP)
    checks: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: (
            checks.append(request.headers) if "/worklist/changes/" in request.url else None
        ),
    )
    page.evaluate("window.__marker = 1")
    quick = page.get_by_role("region", name="Quick create")
    quick.locator("summary").click()
    quick.get_by_label("Study description").fill("Half typed")

    notice = page.locator("[data-live-notice]")
    page.wait_for_timeout(2500)
    expect(notice).to_be_empty()  # nothing changed yet
    assert checks
    assert all(headers.get("x-background") == "true" for headers in checks)

    sandbox_factory.study(study_description="Someone else's new study")
    SandboxStudy.objects.filter(pk=watched.pk).update(
        study_description="Watched, edited", updated_at=watched.updated_at + timedelta(seconds=1)
    )
    expect(notice).to_have_text("2 new or changed studies \u2014 show", timeout=10_000)
    expect(page.locator("#worklist-rows tr.worklist-row")).to_have_count(1)  # not reloaded
    expect(quick.get_by_label("Study description")).to_have_value("Half typed")
    assert page.evaluate("window.__marker") == 1

    notice.get_by_role("link", name="show").click()
    expect(page.locator("#worklist-rows tr.worklist-row")).to_have_count(2)
    expect(notice).to_be_empty()
    expect(quick.get_by_label("Study description")).to_have_value("Half typed")
    assert page.evaluate("window.__marker") == 1
    assert csp_violations == []


def set_hidden(page: Page, hidden: bool) -> None:
    """What the browser does when the tab goes to the background (or comes back)."""
    page.evaluate(
        """hidden => {
             const state = hidden ? 'hidden' : 'visible';
             const property = value => ({configurable: true, get: () => value});
             Object.defineProperty(document, 'hidden', property(hidden));
             Object.defineProperty(document, 'visibilityState', property(state));
             document.dispatchEvent(new Event('visibilitychange'));
           }""",
        hidden,
    )


def test_live_worklist_pauses_while_the_tab_is_hidden(
    at_size: Callable[..., Page], settings: Any
) -> None:
    settings.WORKLIST_POLL_SECONDS = 1
    page = at_size(DESKTOP)
    checks: list[float] = []
    page.on(
        "request",
        lambda request: (
            checks.append(time.monotonic()) if "/worklist/changes/" in request.url else None
        ),
    )
    page.wait_for_timeout(2500)
    assert checks, "no check while visible"
    set_hidden(page, True)
    page.wait_for_timeout(300)
    hidden_from = len(checks)
    page.wait_for_timeout(3000)
    assert len(checks) == hidden_from, "checked while hidden"
    set_hidden(page, False)
    page.wait_for_timeout(500)
    assert len(checks) > hidden_from, "no check on coming back"


def test_keyboard_shortcuts(at_size: Callable[..., Page], live_server: Any) -> None:
    page = at_size(DESKTOP)
    page.locator("body").press("/")
    expect(page.get_by_label("Find a study by its UID")).to_be_focused()
    page.get_by_label("Find a study by its UID").press("Escape")
    page.locator("h1").click()

    page.keyboard.press("n")
    quick = page.get_by_role("region", name="Quick create")
    expect(quick.locator("details")).to_have_attribute("open", "")
    expect(quick.get_by_label("Severity")).to_be_focused()
    page.locator("h1").click()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("New study")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Typing "n" into a field types it.
    page.get_by_label("Find a study by its UID").fill("")
    page.get_by_label("Find a study by its UID").press("n")
    expect(page.get_by_label("Find a study by its UID")).to_have_value("n")

    # Elsewhere "n" opens the full form.
    page.goto(f"{live_server.url}/studies/unsent/")
    page.keyboard.press("n")
    expect(page).to_have_url(f"{live_server.url}/studies/new/")
