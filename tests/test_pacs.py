"""Find in PACS, Use this study, Read from DICOM file and In PACS?, through a real Orthanc
(tests/services/orthanc.py) and, for "already in the Viewer", the sandbox over HTTP.

Faults a real Orthanc cannot be made to produce (a 5xx, a slow or malformed answer) are
injected with a mock transport; every other case talks to Orthanc."""

from __future__ import annotations

import html as html_lib
import io
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.contrib.messages import get_messages
from django.core.files import uploadedfile
from django.test import Client

from devservices.base import free_port
from devservices.dicom_demo import instance_bytes, instance_dataset
from sandbox.factories import SandboxFactory
from studies import dicomweb
from tests.pages import html, input_value
from tests.services.orthanc import PACS_STUDIES, PACS_USER, find

pytestmark = pytest.mark.django_db


def _search(client: Client, **query: str) -> str:
    response = client.get("/studies/pacs/", query)
    assert response.status_code == 200
    return html_lib.unescape(html(response))


def _redirect_query(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 302, response.content[:500]
    url = urlsplit(response["Location"])
    assert url.path == "/studies/new/"
    return parse_qs(url.query)


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Search ----------------------------------------------------------------------------------


def test_a_search_by_patient_name_lists_the_patients_studies(
    coordinator_client: Client, pacs: str
) -> None:
    page = _search(coordinator_client, patient_name="doe")
    jane, john = find("DOE^JANE"), find("DOE^JOHN")
    assert "DOE, JANE" in page
    assert "DOE, JOHN" in page
    assert "SMITH" not in page
    assert "MR Knee Right" in page
    assert "2026-10-03" in page  # John's study date
    assert jane.accession_number in page
    assert john.accession_number in page
    assert "<td>3 / 5</td>" in page  # John: 3 series, 5 instances
    assert page.count("Use this study") == 2


@pytest.mark.parametrize(
    ("query", "expected", "absent"),
    [
        ({"patient_id": "TPID0003"}, "SMITH, ANNA", "DOE, JANE"),
        ({"accession_number": "TACC00004"}, "GARCIA, LUIS", "DOE, JANE"),
        ({"modality": "PT"}, "SMITH, ANNA", "DOE, JOHN"),
        ({"date_from": "2025-01-01", "date_to": "2025-12-31"}, "GARCIA, LUIS", "DOE, JANE"),
        ({"patient_name": "*ANN*"}, "SMITH, ANNA", "DOE, JANE"),
    ],
)
def test_each_search_field_narrows_the_results(
    coordinator_client: Client, pacs: str, query: dict[str, str], expected: str, absent: str
) -> None:
    page = _search(coordinator_client, **query)
    assert expected in page
    assert absent not in page


def test_results_are_paged_by_the_pacs(coordinator_client: Client, pacs: str) -> None:
    first = _search(coordinator_client, patient_name="PAGING")
    assert first.count("data-pacs-result") == 5  # the test limit
    assert "Results 1\u20135" in first
    assert "Previous</a>" not in first
    link = re.search(r'<a href="([^"]*)">Next</a>', first)
    assert link is not None
    second = html(coordinator_client.get(html_lib.unescape(link.group(1))))
    assert second.count("data-pacs-result") == 2
    assert "Results 6\u20137" in second
    assert "Previous</a>" in second
    assert "Next</a>" not in second


def test_an_empty_search_or_a_bad_date_says_so_at_the_form(
    coordinator_client: Client, pacs: str
) -> None:
    page = _search(coordinator_client, patient_name="")
    assert "Enter a patient name, patient ID, accession number, date or modality." in page
    page = _search(coordinator_client, date_from="2026-05-01", date_to="2026-04-01")
    assert "The start date is after the end date." in page
    page = _search(coordinator_client, date_from="yesterday")
    assert "Enter a date as YYYY-MM-DD." in page


def test_no_match_says_so(coordinator_client: Client, pacs: str) -> None:
    assert "No study in the PACS matches this search." in _search(
        coordinator_client, patient_name="NOBODY"
    )


def test_the_form_values_come_along_and_the_csrf_token_leaves_the_address(
    coordinator_client: Client, pacs: str
) -> None:
    response = coordinator_client.get(
        "/studies/pacs/",
        {
            "csrfmiddlewaretoken": "secret-token",
            "severity": "high",
            "study_description": "typed by hand",
            "metadata-0-key": "ward",
            "metadata-0-value": "ED",
        },
    )
    assert response.status_code == 302
    assert "csrfmiddlewaretoken" not in response["Location"]
    page = html(coordinator_client.get(response["Location"] + "&patient_name=DOE%5EJANE"))
    assert input_value(page, "severity") == "high"
    assert input_value(page, "study_description") == "typed by hand"
    assert input_value(page, "metadata-0-key") == "ward"


def test_without_a_pacs_the_pages_say_none_is_configured(
    coordinator_client: Client, settings: Any
) -> None:
    settings.DICOMWEB_URL = ""
    assert "No PACS is configured." in _search(coordinator_client, patient_name="DOE")
    assert "No PACS is configured." in html(coordinator_client.get("/studies/new/"))
    page = html(coordinator_client.get("/studies/pacs/in-pacs/", {"uid": "1.2.3"}))
    assert "No PACS is configured." in page


# --- Use this study --------------------------------------------------------------------------


def test_use_this_study_hands_the_study_back_to_the_form_with_what_was_typed(
    coordinator_client: Client, pacs: str
) -> None:
    john = find("DOE^JOHN")
    response = coordinator_client.get(
        "/studies/pacs/use/",
        {
            "uid": john.study_instance_uid,
            "severity": "stat",
            "study_description": "will be replaced",
            "metadata-0-key": "ward",
            "metadata-0-value": "ED",
            "metadata-1-key": "AccessionNumber",
            "metadata-1-value": "typed",
        },
    )
    query = _redirect_query(response)
    assert query["study_instance_uid"] == [john.study_instance_uid]
    assert query["study_description"] == ["MR Knee Right"]
    assert query["severity"] == ["stat"]
    assert _messages(response) == [
        "Filled in: Study Instance UID, study description and metadata rows AccessionNumber, "
        "ModalitiesInStudy, StudyDate. Check them, then create the study."
    ]
    page = html(coordinator_client.get(response["Location"]))
    assert input_value(page, "study_instance_uid") == john.study_instance_uid
    assert input_value(page, "study_description") == "MR Knee Right"
    rows = {
        input_value(page, f"metadata-{i}-key"): input_value(page, f"metadata-{i}-value")
        for i in range(5)
    }
    assert rows == {
        "ward": "ED",
        "AccessionNumber": john.accession_number,
        "ModalitiesInStudy": "MR",
        "StudyDate": "2026-10-03",
        "": "",
    }
    # Patient name and ID are not copied unless configured.
    assert "DOE" not in page
    assert john.patient_id not in page


def test_patient_attributes_are_copied_only_when_configured(
    coordinator_client: Client, pacs: str, settings: Any
) -> None:
    settings.DICOMWEB_METADATA_ATTRIBUTES = ["PatientID", "StudyDescription"]
    jane = find("DOE^JANE")
    query = _redirect_query(
        coordinator_client.get("/studies/pacs/use/", {"uid": jane.study_instance_uid})
    )
    assert query["metadata-0-key"] == ["PatientID"]
    assert query["metadata-0-value"] == [jane.patient_id]
    assert query["metadata-1-key"] == ["StudyDescription"]


def test_use_of_a_study_the_pacs_does_not_have_fills_nothing(
    coordinator_client: Client, pacs: str
) -> None:
    response = coordinator_client.get(
        "/studies/pacs/use/", {"uid": "1.2.3.4", "study_description": "kept"}
    )
    query = _redirect_query(response)
    assert query == {"study_description": ["kept"]}
    assert _messages(response) == ["Nothing was filled: the PACS has no study with this UID."]


def test_observers_can_search_but_not_use_or_read_files(observer_client: Client, pacs: str) -> None:
    page = _search(observer_client, patient_name="DOE")
    assert "DOE, JANE" in page
    assert "Use this study" not in page
    jane = find("DOE^JANE")
    assert (
        observer_client.get("/studies/pacs/use/", {"uid": jane.study_instance_uid}).status_code
        == 403
    )
    assert observer_client.post("/studies/pacs/file/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_study_already_in_the_viewer_is_marked_with_a_link(
    coordinator_client: Client, pacs: str, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    jane = find("DOE^JANE")
    existing = sandbox_factory.study(study_instance_uid=jane.study_instance_uid)
    page = _search(coordinator_client, patient_name="DOE")
    assert page.count("Already in the Viewer") == 1
    assert f'href="/studies/{existing.study_id}/" class="pacs-in-viewer"' in page
    assert "Not yet" in page  # John's study


# --- In PACS? --------------------------------------------------------------------------------


def test_in_pacs_counts_series_and_images_with_the_modalities(
    coordinator_client: Client, pacs: str
) -> None:
    smith = find("SMITH^ANNA")
    response = coordinator_client.get(
        "/studies/pacs/in-pacs/", {"uid": smith.study_instance_uid}, headers={"HX-Request": "true"}
    )
    page = " ".join(html(response).split())
    assert "<strong>In PACS:</strong> 2 series, 3 images (CT, PT)" in page
    assert "<html" not in page  # the fragment only
    page = html(coordinator_client.get("/studies/pacs/in-pacs/", {"uid": "1.2.3.4"}))
    assert "Not found in PACS" in page
    assert "<html" in page


@pytest.mark.django_db(transaction=True)
def test_the_detail_page_loads_in_pacs_after_the_page(
    coordinator_client: Client, sandbox_url: str, sandbox_factory: SandboxFactory, pacs: str
) -> None:
    study = sandbox_factory.study(study_instance_uid=find("DOE^JANE").study_instance_uid)
    page = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    assert 'hx-trigger="load"' in page
    assert (
        f"/studies/pacs/in-pacs/?uid={study.study_instance_uid}&amp;study_id={study.study_id}"
        in page
    )
    assert "In PACS:" not in page  # not asked while the page renders


# --- A PACS that misbehaves ------------------------------------------------------------------


def test_an_unreachable_pacs_is_said_in_the_panel_and_the_status(
    coordinator_client: Client, settings: Any
) -> None:
    settings.DICOMWEB_URL = f"http://127.0.0.1:{free_port()}/dicom-web"
    page = _search(coordinator_client, patient_name="DOE", study_description="kept")
    assert dicomweb.PacsUnavailable.default_message in page
    assert input_value(page, "study_description") == "kept"
    page = html(coordinator_client.get("/studies/pacs/in-pacs/", {"uid": "1.2.3"}))
    assert "PACS not reachable." in page


def test_a_pacs_that_refuses_the_credentials_is_said_so(
    coordinator_client: Client, orthanc_with_auth_url: str, settings: Any
) -> None:
    settings.DICOMWEB_URL = orthanc_with_auth_url
    settings.DICOMWEB_USERNAME, settings.DICOMWEB_PASSWORD = PACS_USER[0], "wrong"
    page = _search(coordinator_client, patient_name="DOE")
    assert dicomweb.PacsAuthError.default_message in page
    assert "wrong" not in page


def test_the_right_credentials_are_accepted(
    coordinator_client: Client, orthanc_with_auth_url: str, settings: Any
) -> None:
    settings.DICOMWEB_URL = orthanc_with_auth_url
    settings.DICOMWEB_USERNAME, settings.DICOMWEB_PASSWORD = PACS_USER
    assert "No study in the PACS matches this search." in _search(
        coordinator_client, patient_name="DOE"
    )


@pytest.fixture
def faulty_pacs(
    settings: Any,
) -> Iterator[Callable[[Callable[[httpx.Request], httpx.Response]], None]]:
    settings.DICOMWEB_URL = "http://pacs.invalid/dicom-web"

    def install(handler: Callable[[httpx.Request], httpx.Response]) -> None:
        dicomweb.set_client(
            dicomweb.DicomWebClient(
                base_url=settings.DICOMWEB_URL, transport=httpx.MockTransport(handler)
            )
        )

    yield install
    dicomweb.set_client(None)


def _slow(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda r: httpx.Response(503), dicomweb.PacsUnavailable.default_message),
        (_slow, dicomweb.PacsUnavailable.default_message),
        (
            lambda r: httpx.Response(200, content=b"{not json"),
            dicomweb.PacsBadResponse.default_message,
        ),
        (
            lambda r: httpx.Response(200, json={"studies": []}),
            dicomweb.PacsBadResponse.default_message,
        ),
        (lambda r: httpx.Response(400), dicomweb.PacsRefused.default_message),
    ],
    ids=["5xx", "slow", "malformed-json", "not-a-list", "400"],
)
def test_a_misbehaving_pacs_gets_a_clear_message_and_the_form_values_stay(
    coordinator_client: Client, faulty_pacs: Any, handler: Any, message: str
) -> None:
    faulty_pacs(handler)
    response = coordinator_client.get(
        "/studies/pacs/",
        {"patient_name": "DOE", "panel": "new", "study_description": "kept"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert message in html(response)
    status = html(coordinator_client.get("/studies/pacs/in-pacs/", {"uid": "1.2.3"}))
    assert "PACS not reachable." in status


# --- Read from DICOM file --------------------------------------------------------------------


def _upload(client: Client, content: bytes, **fields: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"dicom_file": SimpleUploadedFile("image.dcm", content), **fields}
    return client.post("/studies/pacs/file/", data)


def test_a_dicom_file_fills_the_form_without_js(coordinator_client: Client, settings: Any) -> None:
    settings.DICOMWEB_URL = ""  # works without a PACS
    study = find("DOE^JOHN")
    response = _upload(coordinator_client, instance_bytes(study), severity="high")
    query = _redirect_query(response)
    assert query["study_instance_uid"] == [study.study_instance_uid]
    assert query["study_description"] == ["MR Knee Right"]
    assert query["severity"] == ["high"]
    assert query["metadata-0-key"] == ["AccessionNumber"]
    assert query["metadata-1-value"] == ["MR"]  # the instance's Modality
    assert _messages(response)[0].startswith("Filled in: Study Instance UID, study description")


def test_a_dicom_file_read_with_htmx_answers_what_to_fill(coordinator_client: Client) -> None:
    study = find("SMITH^ANNA")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = coordinator_client.post(
        "/studies/pacs/file/",
        {"dicom_file": SimpleUploadedFile("a.dcm", instance_bytes(study))},
        headers={"HX-Request": "true"},
    )
    page = html(response)
    assert "data-pacs-fill=" in page
    assert study.study_instance_uid in page
    assert "<html" not in page


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"just some text, not DICOM at all" * 10, "not_dicom"),
        (b"", "required"),
    ],
)
def test_a_file_that_is_not_dicom_changes_nothing_and_says_so_at_the_field(
    coordinator_client: Client, content: bytes, code: str
) -> None:
    response = _upload(coordinator_client, content, study_description="kept")
    query = _redirect_query(response)
    assert query == {"study_description": ["kept"], "dicom_error": [code]}
    page = html(coordinator_client.get(response["Location"]))
    assert dicomweb.DICOM_FILE_PROBLEMS[code] in page
    assert input_value(page, "study_description") == "kept"


def _with_large_private_block(study: Any, size: int) -> bytes:
    """An instance whose StudyInstanceUID comes after `size` bytes of a private element."""
    dataset = instance_dataset(study, 0, 1)
    dataset.add_new(0x00090010, "LO", "VIEWER ADMIN TEST")
    dataset.add_new(0x00091001, "OB", b"\0" * size)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_only_the_first_part_of_a_large_file_is_read(coordinator_client: Client) -> None:
    study = find("DOE^JANE")
    limit = dicomweb.DICOM_HEADER_MAX_BYTES
    # A header, then more than the read limit of (pretend) pixel data: read fine.
    big = instance_bytes(study) + b"\0" * (limit + 1024)
    query = _redirect_query(_upload(coordinator_client, big))
    assert query["study_instance_uid"] == [study.study_instance_uid]
    # The same UID behind a private block just under the limit: still found.
    query = _redirect_query(
        _upload(coordinator_client, _with_large_private_block(study, limit // 2))
    )
    assert query["study_instance_uid"] == [study.study_instance_uid]
    # Behind a block larger than the limit: not read at all, and said so.
    query = _redirect_query(
        _upload(coordinator_client, _with_large_private_block(study, limit + 1))
    )
    assert query["dicom_error"] == ["too_large"]


def test_the_file_is_never_written_to_disk(
    coordinator_client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django's own handlers would use a temp file
    written: list[Any] = []
    real = uploadedfile.tempfile.NamedTemporaryFile
    monkeypatch.setattr(
        uploadedfile.tempfile,
        "NamedTemporaryFile",
        lambda *args, **kwargs: written.append(kwargs) or real(*args, **kwargs),
    )
    query = _redirect_query(_upload(coordinator_client, instance_bytes(PACS_STUDIES[0])))
    assert query["study_instance_uid"] == [PACS_STUDIES[0].study_instance_uid]
    assert written == []
