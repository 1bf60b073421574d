"""The DICOMweb client on recorded QIDO-RS answers (a mock transport replays them), and the
DICOM header reader on files generated with pydicom. The same paths run against a real Orthanc
in tests/test_pacs.py."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from devservices.dicom_demo import instance_bytes
from studies import dicomweb
from studies.dicomweb import DicomWebClient, StudySearch
from tests.services.orthanc import find

pytestmark = pytest.mark.django_db

RECORDED = json.loads((Path(__file__).parent / "data" / "qido_studies_doe.json").read_text())
URL = "http://pacs.example/dicom-web"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def replay(settings: Any) -> Iterator[Callable[..., list[httpx.Request]]]:
    """Serve the client from `handler`; returns the list of requests it received."""
    settings.DICOMWEB_URL = URL

    def install(handler: Handler, **options: Any) -> list[httpx.Request]:
        seen: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return handler(request)

        dicomweb.set_client(
            DicomWebClient(base_url=URL, transport=httpx.MockTransport(record), **options)
        )
        return seen

    yield install
    dicomweb.set_client(None)


def _recorded(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=RECORDED, headers={"Content-Type": "application/dicom+json"})


def test_a_recorded_answer_becomes_typed_studies(replay: Any) -> None:
    replay(_recorded)
    page = dicomweb.study_search(search=StudySearch(patient_name="DOE", limit=3))
    assert len(RECORDED) == 4
    assert len(page.studies) == 3
    assert page.has_more  # the fourth answer only says there is a next page
    first = page.studies[0]
    assert first.study_instance_uid == RECORDED[0]["0020000D"]["Value"][0]
    assert first.study_description == "CT Head without Contrast"
    assert first.study_date == date(2026, 12, 20)
    assert first.patient_name.startswith("DOE^")
    assert first.patient_display.startswith("DOE, ")
    assert first.modalities == ["CT"]
    assert first.series_count == 2
    assert first.instance_count == 5
    assert first.attributes["AccessionNumber"] == "ACC2600017"
    assert first.metadata(["AccessionNumber", "ModalitiesInStudy", "StudyDate"]) == {
        "AccessionNumber": "ACC2600017",
        "ModalitiesInStudy": "CT",
        "StudyDate": "2026-12-20",
    }


def test_the_query_keeps_wildcards_and_asks_one_more_than_shown(replay: Any) -> None:
    seen = replay(_recorded)
    search = StudySearch(
        patient_name="Doe, Jane",
        patient_id="MRN 1",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        modality="ct",
        limit=10,
        offset=20,
    )
    dicomweb.study_search(search=search)
    query = str(seen[0].url).split("?", 1)[1]
    assert str(seen[0].url).startswith(f"{URL}/studies?")
    assert "PatientName=Doe^Jane*" in query  # `*` and `^` as they are: Orthanc 1.10 needs it
    assert "PatientID=MRN%201" in query
    assert "StudyDate=20260101-20260131" in query
    assert "ModalitiesInStudy=CT" in query
    assert "includefield=00201206" in query
    assert "includefield=00080050" in query  # a configured metadata attribute
    assert query.endswith("limit=11&offset=20")


def test_one_day_an_open_range_and_explicit_wildcards(replay: Any) -> None:
    seen = replay(_recorded)
    day = date(2026, 3, 4)
    dicomweb.study_search(search=StudySearch(date_from=day, date_to=day))
    dicomweb.study_search(search=StudySearch(date_from=day))
    dicomweb.study_search(search=StudySearch(patient_name="?OE*"))
    assert "StudyDate=20260304&" in str(seen[0].url)
    assert "StudyDate=20260304-&" in str(seen[1].url)
    assert "PatientName=?OE*&" in str(seen[2].url)


def test_search_values_are_checked() -> None:
    with pytest.raises(ValueError, match="The start date is after the end date"):
        StudySearch(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1))
    with pytest.raises(ValueError, match="limit"):
        StudySearch(patient_name="x", limit=1000)
    assert StudySearch().is_empty


def test_credentials_basic_or_bearer_and_none_in_the_logs(
    replay: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = replay(_recorded, username="reader", password="s3cret-pw")
    dicomweb.study_search(search=StudySearch(patient_name="DOE"))
    assert seen[0].headers["Authorization"] == httpx.BasicAuth("reader", "s3cret-pw")._auth_header
    seen = replay(_recorded, username="reader", password="s3cret-pw", token="tok-123")
    dicomweb.study_search(search=StudySearch(patient_name="DOE"))
    assert seen[0].headers["Authorization"] == "Bearer tok-123"
    seen = replay(_recorded)
    dicomweb.study_search(search=StudySearch(patient_name="DOE"))
    assert "Authorization" not in seen[0].headers
    logged = caplog.text
    assert "dicomweb GET studies status=200" in logged
    for secret in ("s3cret-pw", "tok-123", "DOE", "ACC26"):
        assert secret not in logged


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (lambda r: httpx.Response(401), dicomweb.PacsAuthError),
        (lambda r: httpx.Response(403), dicomweb.PacsAuthError),
        (lambda r: httpx.Response(500), dicomweb.PacsUnavailable),
        (lambda r: httpx.Response(502), dicomweb.PacsUnavailable),
        (lambda r: httpx.Response(400), dicomweb.PacsRefused),
        (lambda r: httpx.Response(200, content=b"<html>"), dicomweb.PacsBadResponse),
        (lambda r: httpx.Response(200, json={"0020000D": {}}), dicomweb.PacsBadResponse),
        (lambda r: httpx.Response(200, json=["not an object"]), dicomweb.PacsBadResponse),
        (lambda r: httpx.Response(200, json=[{"0020000D": "x"}]), dicomweb.PacsBadResponse),
    ],
)
def test_failures_map_to_one_hierarchy(replay: Any, handler: Handler, error: type) -> None:
    replay(handler)
    with pytest.raises(error) as caught:
        dicomweb.study_search(search=StudySearch(patient_name="DOE"))
    assert isinstance(caught.value, dicomweb.PacsError)
    assert caught.value.message == error.default_message


@pytest.mark.parametrize("exc", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError])
def test_no_answer_is_unavailable(replay: Any, exc: type[httpx.RequestError]) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise exc("no", request=request)

    replay(fail)
    with pytest.raises(dicomweb.PacsUnavailable):
        dicomweb.study_find(study_instance_uid="1.2.3")


def test_no_content_and_studies_without_a_uid(replay: Any) -> None:
    replay(lambda r: httpx.Response(204))
    assert dicomweb.study_search(search=StudySearch(patient_name="X")).studies == []
    broken = [{"00081030": {"vr": "LO", "Value": ["no uid"]}}, RECORDED[0]]
    replay(lambda r: httpx.Response(200, json=broken))
    page = dicomweb.study_search(search=StudySearch(patient_name="X"))
    assert [s.study_description for s in page.studies] == ["CT Head without Contrast"]
    assert page.skipped == 1


def test_study_find_matches_the_uid_exactly(replay: Any) -> None:
    seen = replay(_recorded)
    uid = RECORDED[1]["0020000D"]["Value"][0]
    found = dicomweb.study_find(study_instance_uid=uid)
    assert found is not None
    assert found.study_instance_uid == uid
    assert f"StudyInstanceUID={uid}&" in str(seen[0].url)
    assert dicomweb.study_find(study_instance_uid="1.2.999") is None
    assert dicomweb.study_find(study_instance_uid="not a uid") is None
    assert len(seen) == 2  # an invalid UID is not asked for


def test_not_configured(settings: Any) -> None:
    settings.DICOMWEB_URL = ""
    dicomweb.set_client(None)
    assert not dicomweb.is_configured()
    with pytest.raises(dicomweb.PacsNotConfigured, match="No PACS is configured"):
        dicomweb.study_find(study_instance_uid="1.2.3")


def test_unknown_metadata_keywords_are_ignored_with_a_warning(settings: Any) -> None:
    settings.DICOMWEB_METADATA_ATTRIBUTES = ["AccessionNumber", "NoSuchKeyword"]
    assert dicomweb.metadata_keywords() == ["AccessionNumber"]
    warnings = dicomweb._check_metadata_attributes()
    assert [w.id for w in warnings] == ["studies.W001"]
    assert "NoSuchKeyword" in warnings[0].msg


# --- DICOM files -----------------------------------------------------------------------------


def test_a_generated_file_reads_like_a_pacs_answer() -> None:
    study = find("SMITH^ANNA")
    read = dicomweb.study_from_file(data=instance_bytes(study, series_index=0))
    assert read.study_instance_uid == study.study_instance_uid
    assert read.study_description == "PET/CT Whole Body"
    assert read.study_date == study.study_date
    assert read.modalities == ["PT"]
    assert read.metadata(["AccessionNumber", "ModalitiesInStudy"]) == {
        "AccessionNumber": study.accession_number,
        "ModalitiesInStudy": "PT",
    }


def _file_without_uid() -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PatientName = "NO^UID"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "truncated", "code"),
    [
        (b"", False, "empty"),
        (b"%PDF-1.7 not a DICOM file" * 20, False, "not_dicom"),
        (instance_bytes(find("DOE^JANE"))[:300], False, "damaged"),
        (_file_without_uid(), False, "no_uid"),
        (_file_without_uid(), True, "too_large"),
    ],
    ids=["empty", "not-dicom", "truncated", "no-uid", "header-beyond-limit"],
)
def test_unusable_files_say_why(data: bytes, truncated: bool, code: str) -> None:
    with pytest.raises(dicomweb.DicomFileError) as caught:
        dicomweb.study_from_file(data=data, truncated=truncated)
    assert caught.value.code == code
    assert caught.value.message == dicomweb.DICOM_FILE_PROBLEMS[code]
