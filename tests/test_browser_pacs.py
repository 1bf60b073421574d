"""Find in PACS and Read from DICOM file in a real Chromium, against a real Orthanc and the
sandbox: with htmx (the panel fills the form in place) and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from devservices.dicom_demo import instance_bytes
from tests.services.orthanc import find

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DETAIL_URL = re.compile(r"/studies/(stu_[0-9a-f]{32})/$")
FILLED = (
    "Filled in: Study Instance UID, study description and metadata rows AccessionNumber, "
    "ModalitiesInStudy, StudyDate. Check them, then create the study."
)


@pytest.fixture
def form_page(
    sign_in: Callable[[str], Page], sandbox_url: str, pacs: str, coordinator: User
) -> Page:
    page = sign_in("coordinator")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New study").click()
    expect(page.get_by_role("heading", name="New study")).to_be_visible()
    return page


def _metadata(page: Page) -> dict[str, str]:
    rows = {}
    for index in range(page.locator("[data-formset-rows] [data-formset-row]").count()):
        key = page.locator(f'[name="metadata-{index}-key"]').input_value()
        if key:
            rows[key] = page.locator(f'[name="metadata-{index}-value"]').input_value()
    return rows


def test_find_by_patient_name_use_create_and_see_it_in_pacs(
    form_page: Page, csp_violations: list[str]
) -> None:
    page = form_page
    john = find("DOE^JOHN")
    page.get_by_label("Severity").select_option("high")
    page.locator('[name="metadata-0-key"]').fill("ward")
    page.locator('[name="metadata-0-value"]').fill("ED")

    page.get_by_role("button", name="Find in PACS").click()
    panel = page.locator("#pacs-panel-new")
    panel.get_by_label("Patient name").fill("doe^jo")
    panel.get_by_label("Patient name").press("Enter")
    row = panel.locator("[data-pacs-result]", has_text="MR Knee Right")
    expect(row).to_have_count(1)
    expect(panel.locator("[data-pacs-result]")).to_have_count(1)
    expect(row).to_contain_text("DOE, JOHN")
    expect(row).to_contain_text("3 / 5")
    row.get_by_role("link", name="Use this study").click()

    expect(panel.get_by_role("status").filter(has_text="Filled in")).to_have_text(FILLED)
    expect(page.get_by_label("Study Instance UID")).to_have_value(john.study_instance_uid)
    expect(page.get_by_label("Study description")).to_have_value("MR Knee Right")
    expect(page.get_by_label("Severity")).to_have_value("high")  # what was typed stays
    assert _metadata(page) == {
        "ward": "ED",
        "AccessionNumber": john.accession_number,
        "ModalitiesInStudy": "MR",
        "StudyDate": john.study_date.isoformat(),
    }
    assert page.url.endswith("/studies/new/")  # filled in place

    page.get_by_role("button", name="Create study").last.click()
    page.wait_for_url(DETAIL_URL)
    expect(page.get_by_role("heading", name="MR Knee Right")).to_be_visible()
    expect(page.locator(".pacs-status")).to_have_text(
        re.compile(r"In PACS:\s+3 series, 5 images \(MR\)")
    )
    assert csp_violations == []


def test_a_dicom_file_fills_the_form_and_a_non_dicom_file_says_so(
    form_page: Page, tmp_path: Any
) -> None:
    page = form_page
    smith = find("SMITH^ANNA")
    page.get_by_label("Study description").fill("typed by hand")

    text = tmp_path / "notes.dcm"
    text.write_text("not a DICOM file at all\n" * 20)
    page.get_by_label("DICOM file").set_input_files(str(text))
    page.get_by_role("button", name="Read from DICOM file").click()
    expect(page.locator("#dicom-file-result")).to_have_text(
        "This is not a DICOM file (it has no DICOM header). Choose a .dcm file."
    )
    expect(page.get_by_label("Study description")).to_have_value("typed by hand")
    expect(page.get_by_label("Study Instance UID")).to_have_value("")

    image = tmp_path / "image.dcm"
    image.write_bytes(instance_bytes(smith))
    page.get_by_label("DICOM file").set_input_files(str(image))
    page.get_by_role("button", name="Read from DICOM file").click()
    expect(page.locator("#dicom-file-result")).to_contain_text("Filled in: Study Instance UID")
    expect(page.get_by_label("Study Instance UID")).to_have_value(smith.study_instance_uid)
    expect(page.get_by_label("Study description")).to_have_value("PET/CT Whole Body")
    assert _metadata(page)["ModalitiesInStudy"] == "PT"


def test_quick_create_finds_and_fills_in_place(
    sign_in: Callable[[str], Page], sandbox_url: str, pacs: str, coordinator: User
) -> None:
    page = sign_in("coordinator")
    jane = find("DOE^JANE")
    quick = page.locator("#quick-create")
    quick.locator("summary").click()  # the quick-create panel starts folded
    quick.get_by_role("button", name="Find in PACS").click()
    panel = page.locator("#pacs-panel-quick")
    panel.get_by_label("Patient ID").fill(jane.patient_id)
    panel.get_by_role("button", name="Search the PACS").click()
    panel.get_by_role("link", name="Use this study").click()
    expect(quick.get_by_label("Study Instance UID")).to_have_value(jane.study_instance_uid)
    expect(quick.get_by_label("Study description")).to_have_value("CT Head without Contrast")
    expect(panel.get_by_role("status").filter(has_text="Filled in")).to_contain_text(
        "Not filled: metadata AccessionNumber, ModalitiesInStudy, StudyDate"
    )


def test_without_javascript_the_search_page_hands_the_study_back(
    no_js_page: Page, live_server: Any, pacs: str
) -> None:
    page = no_js_page
    garcia = find("GARCIA^LUIS")
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Severity").select_option("stat")
    page.locator('[name="metadata-0-key"]').fill("ward")
    page.locator('[name="metadata-0-value"]').fill("ED")
    page.get_by_role("button", name="Find in PACS").click()

    expect(page.get_by_role("heading", name="Find in PACS", level=1)).to_be_visible()
    assert "csrfmiddlewaretoken" not in page.url
    page.get_by_label("Study date from").fill("2025-01-01")
    page.get_by_label("to", exact=True).fill("2025-12-31")
    page.get_by_role("button", name="Search the PACS").click()
    row = page.locator("[data-pacs-result]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("GARCIA, LUIS")
    row.get_by_role("link", name="Use this study").click()

    expect(page.get_by_role("heading", name="New study")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Filled in: Study Instance UID")
    expect(page.get_by_label("Study Instance UID")).to_have_value(garcia.study_instance_uid)
    expect(page.get_by_label("Study description")).to_have_value("CR Chest 2 Views")
    expect(page.get_by_label("Severity")).to_have_value("stat")
    assert _metadata(page)["ward"] == "ED"
    assert _metadata(page)["AccessionNumber"] == garcia.accession_number


def test_without_javascript_a_dicom_file_is_read_and_a_bad_one_refused(
    no_js_page: Page, live_server: Any, tmp_path: Any
) -> None:
    page = no_js_page
    page.goto(f"{live_server.url}/studies/new/")
    page.get_by_label("Study description").fill("typed by hand")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00" * 50)
    page.get_by_label("DICOM file").set_input_files(str(junk))
    page.get_by_role("button", name="Read from DICOM file").click()
    expect(page.locator("#dicom-file-result")).to_contain_text("This is not a DICOM file")
    expect(page.get_by_label("Study description")).to_have_value("typed by hand")

    john = find("DOE^JOHN")
    image = tmp_path / "image.dcm"
    image.write_bytes(instance_bytes(john))
    page.get_by_label("DICOM file").set_input_files(str(image))
    page.get_by_role("button", name="Read from DICOM file").click()
    expect(page.get_by_label("Study Instance UID")).to_have_value(john.study_instance_uid)
    expect(page.get_by_label("Study description")).to_have_value("MR Knee Right")
