"""Header-only DICOM studies for a local PACS: generated with pydicom, uploaded to Orthanc.

    studies = demo_studies(20)
    upload(dicomweb_url, studies)          # POST /instances, one per generated instance

Every instance has the patient, study and series attributes a PACS indexes and no pixel data,
which Orthanc accepts. UIDs are derived from fixed strings, so the same demo gives the same
UIDs every time (the demo sandbox can hold studies with the same UIDs).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from devservices.orthanc import rest_root

# Storage SOP classes (PS3.4 B.5) for the modalities the demo uses.
SOP_CLASSES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2",
    "MR": "1.2.840.10008.5.1.4.1.1.4",
    "CR": "1.2.840.10008.5.1.4.1.1.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",
    "MG": "1.2.840.10008.5.1.4.1.1.1.2",
    "US": "1.2.840.10008.5.1.4.1.1.6.1",
    "PT": "1.2.840.10008.5.1.4.1.1.128",
}
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def stable_uid(*parts: str) -> str:
    """A valid UID under 2.25 (a 128-bit number: at most 44 characters), the same for the
    same parts. (pydicom's generate_uid ignores its entropy sources under 2.25.)"""
    digest = hashlib.sha256("\n".join(["viewer-admin", *parts]).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


@dataclass(frozen=True)
class Series:
    modality: str
    description: str
    instances: int = 1


@dataclass(frozen=True)
class DemoStudy:
    study_instance_uid: str
    patient_name: str  # DICOM PN, "FAMILY^GIVEN"
    patient_id: str
    accession_number: str
    study_date: date
    study_description: str
    series: tuple[Series, ...]
    patient_birth_date: date = date(1970, 1, 1)
    patient_sex: str = "O"

    @property
    def modalities(self) -> list[str]:
        return sorted({series.modality for series in self.series})

    @property
    def instance_count(self) -> int:
        return sum(series.instances for series in self.series)


def instance_dataset(study: DemoStudy, series_index: int, instance_number: int) -> Dataset:
    """One header-only instance of `study`'s series `series_index` (0-based)."""
    series = study.series[series_index]
    sop_class = SOP_CLASSES.get(series.modality, SECONDARY_CAPTURE)
    series_uid = stable_uid(study.study_instance_uid, "series", str(series_index))
    sop_uid = stable_uid(series_uid, "instance", str(instance_number))

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names like MÜLLER
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.PatientName = study.patient_name
    ds.PatientID = study.patient_id
    ds.PatientBirthDate = study.patient_birth_date.strftime("%Y%m%d")
    ds.PatientSex = study.patient_sex
    ds.StudyInstanceUID = study.study_instance_uid
    ds.StudyDate = study.study_date.strftime("%Y%m%d")
    ds.StudyTime = "093000"
    ds.StudyID = study.accession_number[-8:]
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = study.study_description
    ds.ReferringPhysicianName = "REFERRER^DEMO"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_index + 1
    ds.SeriesDescription = series.description
    ds.Modality = series.modality
    ds.InstanceNumber = instance_number
    return ds


def instance_bytes(study: DemoStudy, series_index: int = 0, instance_number: int = 1) -> bytes:
    """A DICOM Part 10 file (preamble, meta header, dataset) for one instance."""
    buffer = io.BytesIO()
    instance_dataset(study, series_index, instance_number).save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def instances(study: DemoStudy) -> Iterator[bytes]:
    for index, series in enumerate(study.series):
        for number in range(1, series.instances + 1):
            yield instance_bytes(study, index, number)


def upload(
    dicomweb_url: str,
    studies: Sequence[DemoStudy],
    *,
    auth: tuple[str, str] | None = None,
) -> int:
    """Upload every instance of `studies` to the Orthanc behind `dicomweb_url`
    (`POST /instances`); returns how many were sent. Uploading again changes nothing."""
    sent = 0
    with httpx.Client(base_url=rest_root(dicomweb_url), auth=auth, timeout=30) as client:
        for study in studies:
            for data in instances(study):
                response = client.post(
                    "/instances", content=data, headers={"Content-Type": "application/dicom"}
                )
                response.raise_for_status()
                sent += 1
    return sent


# --- The demo clinic's PACS ------------------------------------------------------------------

_PATIENTS = (
    ("DOE^JANE", "F", date(1968, 4, 12)),
    ("DOE^JOHN", "M", date(1965, 9, 30)),
    ("SMITH^ANNA", "F", date(1982, 1, 7)),
    ("MÜLLER^KARL", "M", date(1951, 11, 23)),
    ("GARCIA^LUIS", "M", date(1990, 6, 2)),
    ("NGUYEN^MAI", "F", date(1977, 3, 19)),
    ("OKAFOR^CHIDI", "M", date(2001, 8, 14)),
    ("ROSSI^GIULIA", "F", date(1959, 12, 1)),
)
_STUDY_TYPES = (
    ("CT Head without Contrast", (Series("CT", "Axial 5mm", 3), Series("CT", "Bone window", 2))),
    ("MR Brain with and without Contrast", (Series("MR", "T1 axial", 2), Series("MR", "FLAIR", 2))),
    ("CR Chest 2 Views", (Series("CR", "PA", 1), Series("CR", "Lateral", 1))),
    ("US Abdomen Complete", (Series("US", "Abdomen", 4),)),
    ("MG Screening Bilateral", (Series("MG", "L CC", 1), Series("MG", "R CC", 1))),
    ("PET/CT Whole Body", (Series("PT", "PET WB", 3), Series("CT", "CT AC", 2))),
    ("DX Knee Left", (Series("DX", "AP", 1),)),
    ("CT Abdomen Pelvis with Contrast", (Series("CT", "Portal venous", 3),)),
)


def demo_studies(count: int = 20, *, first_date: date = date(2026, 11, 2)) -> list[DemoStudy]:
    """`count` studies of eight patients, spread over modalities and about two months."""
    studies = []
    for index in range(count):
        name, sex, birth = _PATIENTS[index % len(_PATIENTS)]
        description, series = _STUDY_TYPES[(index * 3) % len(_STUDY_TYPES)]
        studies.append(
            DemoStudy(
                study_instance_uid=stable_uid("demo-study", str(index)),
                patient_name=name,
                patient_id=f"MRN{100200 + index % len(_PATIENTS):07d}",
                accession_number=f"ACC26{index + 1:05d}",
                study_date=first_date + timedelta(days=index * 3),
                study_description=description,
                series=series,
                patient_birth_date=birth,
                patient_sex=sex,
            )
        )
    return studies
