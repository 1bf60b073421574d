"""A real Orthanc PACS for the tests (registered in tests/conftest.py via pytest_plugins).

`orthanc_url` starts one Orthanc (with its DICOMweb plugin) for the whole session on a free
loopback port, with a temporary storage directory, and uploads `PACS_STUDIES`: header-only
DICOM instances generated with pydicom. `pacs` points the app's DICOMWEB_URL at it. When
Orthanc is not installed the tests that need it are skipped with the reason (script/test
installs it when run as root).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from devservices import dicom_demo, orthanc
from devservices.base import ServiceUnavailable
from devservices.dicom_demo import DemoStudy, Series, stable_uid
from studies import dicomweb

PACS_USER = ("pacs-reader", "pacs-secret")


def _study(name: str, index: int, **fields: Any) -> DemoStudy:
    values: dict[str, Any] = {
        "study_instance_uid": stable_uid("test-study", name, str(index)),
        "patient_name": name,
        "patient_id": f"TPID{index:04d}",
        "accession_number": f"TACC{index:05d}",
        "study_date": date(2026, 10, 1 + index),
        "study_description": "CT Head without Contrast",
        "series": (Series("CT", "Axial", 3), Series("CT", "Bone", 2)),
        **fields,
    }
    return DemoStudy(**values)


# Several patients, modalities and dates. PAGING^PATIENT has more studies than one page.
PACS_STUDIES: list[DemoStudy] = [
    _study("DOE^JANE", 1, study_description="CT Head without Contrast"),
    _study(
        "DOE^JOHN",
        2,
        study_description="MR Knee Right",
        series=(Series("MR", "PD fat sat", 2), Series("MR", "T1", 2), Series("MR", "T2", 1)),
    ),
    _study(
        "SMITH^ANNA",
        3,
        study_description="PET/CT Whole Body",
        series=(Series("PT", "PET", 2), Series("CT", "CT AC", 1)),
    ),
    _study(
        "GARCIA^LUIS",
        4,
        study_description="CR Chest 2 Views",
        series=(Series("CR", "PA", 1),),
        study_date=date(2025, 3, 15),
    ),
    *[_study("PAGING^PATIENT", 10 + i, series=(Series("US", "Abdomen", 1),)) for i in range(7)],
]


def find(name: str) -> DemoStudy:
    return next(study for study in PACS_STUDIES if study.patient_name == name)


@pytest.fixture(scope="session")
def orthanc_url() -> Iterator[str]:
    """The DICOMweb root of the session's Orthanc, with PACS_STUDIES uploaded."""
    try:
        with orthanc.running() as url:
            dicom_demo.upload(url, PACS_STUDIES)
            yield url
    except ServiceUnavailable as exc:
        pytest.skip(f"Orthanc is not available: {exc}")


@pytest.fixture(scope="session")
def orthanc_with_auth_url() -> Iterator[str]:
    """A second Orthanc that wants HTTP basic authentication as PACS_USER."""
    try:
        with orthanc.running(users=dict([PACS_USER])) as url:
            yield url
    except ServiceUnavailable as exc:
        pytest.skip(f"Orthanc is not available: {exc}")


@pytest.fixture
def pacs(orthanc_url: str, settings: Any) -> Iterator[str]:
    """The app's DICOMWEB_URL points at the session's Orthanc; yields that URL."""
    settings.DICOMWEB_URL = orthanc_url
    settings.DICOMWEB_RESULT_LIMIT = 5
    yield orthanc_url
    dicomweb.set_client(None)
