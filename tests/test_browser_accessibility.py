"""Every page a coordinator or an observer sees, at 1280 and at 390 px wide, in a real
Chromium: axe-core (axe-playwright-python, which bundles it; injected by Playwright, so the
page's CSP stays strict) finds no violation, and a full-page screenshot of each is left under
test-results/pages/ for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page

from imports.models import StudyImport
from sandbox.factories import SandboxFactory
from studies.models import Submission
from tests.conftest import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
AXE = Axe()


@pytest.fixture
def clinic(
    sandbox_url: str, sandbox_factory: SandboxFactory, coordinator: User, observer: User
) -> dict[str, str]:
    """A few studies of every kind, an unsent attempt and an import: something on every page."""
    lee = sandbox_factory.user(first_name="Ann", last_name="Lee", suffix1="MD")
    lakeside = sandbox_factory.customer(name="Lakeside Imaging", members=[lee])
    study = sandbox_factory.study(
        study_description="CT Chest with contrast",
        severity="stat",
        assigned_to=lee,
        express_customer=lakeside,
        metadata={"department": "radiology"},
    )
    sandbox_factory.study(study_description="MR Knee", severity="high")
    sandbox_factory.study(study_description="X-ray Hand", study_viewer_status="complete")
    sandbox_factory.study(study_description="US Abdomen", is_cancelled=True)
    for number in range(12):
        sandbox_factory.study(study_description=f"CT Head {number}")
    Submission.objects.create(
        created_by=coordinator,
        status=Submission.Status.UNSENT,
        study_instance_uid="1.2.840.99.1",
        payload={
            "severity": "high",
            "studyDescription": "PET/CT unsent",
            "studyInstanceUid": "1.2.840.99.1",
        },
        error_message="The Viewer API could not be reached.",
    )
    study_import = StudyImport.objects.create(created_by=coordinator, file_name="studies.csv")
    return {"study": study.study_id, "import": str(study_import.pk)}


def coordinator_pages(clinic: dict[str, str]) -> list[tuple[str, str]]:
    study = clinic["study"]
    return [
        ("worklist", "/"),
        ("worklist-newest-first", "/?order=newest"),
        ("worklist-no-rows", "/?q=no-such-study"),
        ("worklist-more-filters", "/?cancelled=all"),
        ("study", f"/studies/{study}/"),
        ("study-edit", f"/studies/{study}/edit/"),
        ("study-cancel", f"/studies/{study}/cancel/"),
        ("study-new", "/studies/new/"),
        ("study-not-found", f"/studies/stu_{'0' * 32}/"),
        ("uid-not-found", "/studies/lookup/?uid=1.2.3.4"),
        ("unsent", "/studies/unsent/"),
        ("pacs-find", "/studies/pacs/"),
        ("imports", "/imports/"),
        ("import-new", "/imports/new/"),
        ("import", f"/imports/{clinic['import']}/"),
        ("page-not-found", "/no-such-page/"),
    ]


def observer_pages(clinic: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("worklist", "/"),
        ("study", f"/studies/{clinic['study']}/"),
        ("pacs-find", "/studies/pacs/"),
        ("forbidden", "/studies/new/"),
    ]


@pytest.fixture
def screenshots(pytestconfig: pytest.Config) -> Path:
    folder = Path(str(pytestconfig.getoption("--output") or "test-results")) / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def context_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Any]:
    contexts = []

    def _open(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def check(page: Page, name: str, folder: Path, problems: list[str]) -> None:
    """axe on the page as it is now, and its screenshot."""
    page.wait_for_load_state("networkidle")
    results = AXE.run(page)
    if results.violations_count:
        problems.append(f"{name}:\n{results.generate_report()}")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_every_page_has_no_axe_violation(
    context_page: Any,
    live_server: Any,
    clinic: dict[str, str],
    screenshots: Path,
    role: str,
    width: str,
) -> None:
    problems: list[str] = []
    page = context_page(WIDTHS[width])
    if role == "coordinator":  # the sign-in page, before signing in
        page.goto(f"{live_server.url}/login/")
        check(page, f"sign-in-{width}", screenshots, problems)
    sign_in_through_form(page, live_server.url, role)
    pages = coordinator_pages(clinic) if role == "coordinator" else observer_pages(clinic)
    for name, path in pages:
        page.goto(f"{live_server.url}{path}")
        check(page, f"{role}-{name}-{width}", screenshots, problems)

    # What opens on the worklist: the quick-create panel and the shortcut list.
    page.goto(f"{live_server.url}/?filters=none")
    if role == "coordinator":
        page.locator("[data-quick-create-panel] summary").click()
        check(page, f"{role}-worklist-quick-create-{width}", screenshots, problems)
    page.locator("h1").click()
    page.keyboard.press("?")
    check(page, f"{role}-shortcuts-{width}", screenshots, problems)
    assert not problems, "\n\n".join(problems)
