"""The PACS client: the only code in Viewer Admin that talks to the clinic's PACS (DICOMweb).

It asks QIDO-RS (`GET {DICOMWEB_URL}/studies`) and nothing else: a search for the "Find in
PACS" panel and a look-up by Study Instance UID for the detail page's "In PACS?". Like the
Viewer API module it has a small typed surface (pydantic models in and out, keyword-only
functions) and one exception hierarchy whose messages a coordinator can act on. It also turns
a DICOM file's header (pydicom) into the same model, so both paths fill the form alike.

Patient data is in every answer and in the queries: log lines carry the path, the status and
the duration only, never a query value, an answer or a credential.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core import checks
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydicom import dcmread
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from studies.process_client import ProcessClient
from studies.viewer_api import (
    DESCRIPTION_MAX_LENGTH,
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_VALUE_MAX_LENGTH,
    dicom_uid_problem,
)

logger = logging.getLogger(__name__)

RESULT_LIMIT_MAX: Final = 100
# "Read from DICOM file" reads at most this many bytes of the upload; the header (everything
# before the pixel data) of any ordinary instance fits many times over.
DICOM_HEADER_MAX_BYTES: Final = 2 * 1024 * 1024

# Tags (DICOM JSON keys) of what the results show.
STUDY_INSTANCE_UID = "0020000D"
STUDY_DESCRIPTION = "00081030"
STUDY_DATE = "00080020"
PATIENT_NAME = "00100010"
PATIENT_ID = "00100020"
ACCESSION_NUMBER = "00080050"
MODALITIES_IN_STUDY = "00080061"
NUMBER_OF_SERIES = "00201206"
NUMBER_OF_INSTANCES = "00201208"
_SHOWN = (
    STUDY_INSTANCE_UID,
    STUDY_DESCRIPTION,
    STUDY_DATE,
    PATIENT_NAME,
    PATIENT_ID,
    ACCESSION_NUMBER,
    MODALITIES_IN_STUDY,
    NUMBER_OF_SERIES,
    NUMBER_OF_INSTANCES,
)

# --- Exceptions ------------------------------------------------------------------------------


class PacsError(Exception):
    """Base of every PACS failure; `message` is written for a coordinator."""

    default_message = "The PACS could not answer the search."

    def __init__(self, message: str | None = None, *, status_code: int | None = None) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        super().__init__(self.message)


class PacsNotConfigured(PacsError):
    default_message = "No PACS is configured. Ask an administrator to set DICOMWEB_URL."


class PacsAuthError(PacsError):
    """401/403."""

    default_message = (
        "The PACS refused Viewer Admin's credentials. Ask an administrator to check the "
        "DICOMweb user name, password or token."
    )


class PacsUnavailable(PacsError):
    """No usable answer: connection refused, timeout, or a 5xx."""

    default_message = "The PACS is not reachable right now. Nothing you entered is lost; try again."


class PacsRefused(PacsError):
    """A 4xx other than 401/403: the PACS did not accept the search."""

    default_message = "The PACS did not accept this search. Change the search values and try again."


class PacsBadResponse(PacsError):
    """A 2xx answer that is not DICOM JSON."""

    default_message = (
        "The PACS sent an answer Viewer Admin could not read. Try again; if it keeps "
        "happening, tell an administrator."
    )


class DicomFileError(PacsError):
    """An uploaded file whose header cannot be used; `code` names the reason (a key of
    DICOM_FILE_PROBLEMS), so a page can say it again after a redirect."""

    default_message = "This file could not be read as DICOM."

    def __init__(self, code: str) -> None:
        self.code = code if code in DICOM_FILE_PROBLEMS else "damaged"
        super().__init__(DICOM_FILE_PROBLEMS[self.code])


DICOM_FILE_PROBLEMS: Final = {
    "required": "Choose a DICOM file (.dcm) first.",
    "empty": "The file is empty. Choose a DICOM file (.dcm).",
    "not_dicom": "This is not a DICOM file (it has no DICOM header). Choose a .dcm file.",
    "damaged": "This DICOM file is damaged or incomplete (truncated); its header cannot be read.",
    "no_uid": "No Study Instance UID was found in this DICOM file, so it cannot be used.",
    "bad_uid": "This DICOM file's Study Instance UID is not a valid DICOM UID.",
    "too_large": (
        f"The header of this file is larger than {DICOM_HEADER_MAX_BYTES // (1024 * 1024)} MB, "
        "so it was not read. Choose one image file of the study."
    ),
}


# --- Models ----------------------------------------------------------------------------------

_DA = re.compile(r"^\d{8}$")
_WILDCARD = re.compile(r"[*?]")


def _dicom_date(value: date) -> str:
    return value.strftime("%Y%m%d")


class StudySearch(BaseModel):
    """A QIDO-RS study search. Text values may hold the wildcards `*` and `?`; a patient name
    without one matches names that start with it."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    patient_name: str = Field("", max_length=64)
    patient_id: str = Field("", max_length=64)
    accession_number: str = Field("", max_length=16)
    date_from: date | None = None
    date_to: date | None = None
    modality: str = Field("", max_length=16, pattern=r"^[A-Za-z]*$")
    limit: int = Field(25, ge=1, le=RESULT_LIMIT_MAX)
    offset: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _dates_in_order(self) -> StudySearch:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("The start date is after the end date.")
        return self

    @property
    def is_empty(self) -> bool:
        return not (
            self.patient_name
            or self.patient_id
            or self.accession_number
            or self.date_from
            or self.date_to
            or self.modality
        )

    def query(self, includefields: Iterable[str] = ()) -> list[tuple[str, str]]:
        """QIDO-RS query parameters, in a stable order."""
        params: list[tuple[str, str]] = []
        if self.patient_name:
            name = self.patient_name.replace(", ", "^").replace(",", "^")
            params.append(("PatientName", name if _WILDCARD.search(name) else f"{name}*"))
        if self.patient_id:
            params.append(("PatientID", self.patient_id))
        if self.accession_number:
            params.append(("AccessionNumber", self.accession_number))
        if self.date_from or self.date_to:
            start = _dicom_date(self.date_from) if self.date_from else ""
            end = _dicom_date(self.date_to) if self.date_to else ""
            params.append(("StudyDate", start if start == end else f"{start}-{end}"))
        if self.modality:
            params.append(("ModalitiesInStudy", self.modality.upper()))
        params += [("includefield", tag) for tag in dict.fromkeys([*_SHOWN, *includefields])]
        # One more than shown: tells whether there is a next page (QIDO-RS has no total).
        params += [("limit", str(self.limit + 1)), ("offset", str(self.offset))]
        return params


class PacsStudy(BaseModel):
    """One study as the PACS (or a DICOM file's header) describes it. `attributes` holds
    every attribute the answer carried, by keyword, as display text (for metadata rows)."""

    model_config = ConfigDict(frozen=True)

    study_instance_uid: str
    study_description: str = ""
    study_date: date | None = None
    patient_name: str = ""
    patient_id: str = ""
    accession_number: str = ""
    modalities: list[str] = Field(default_factory=list)
    series_count: int | None = None
    instance_count: int | None = None
    attributes: dict[str, str] = Field(default_factory=dict)

    @field_validator("study_instance_uid")
    @classmethod
    def _valid_uid(cls, value: str) -> str:
        problem = dicom_uid_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def patient_display(self) -> str:
        """ "DOE^JANE" → "DOE, JANE"."""
        family, _, rest = self.patient_name.partition("^")
        given = " ".join(part for part in rest.split("^") if part)
        return f"{family}, {given}" if given else family

    def metadata(self, keywords: Sequence[str]) -> dict[str, str]:
        """The metadata rows for the configured attributes this study has."""
        rows: dict[str, str] = {}
        for keyword in keywords[:METADATA_MAX_PAIRS]:
            value = self.attributes.get(keyword, "")
            if value:
                rows[keyword[:METADATA_KEY_MAX_LENGTH]] = value[:METADATA_VALUE_MAX_LENGTH]
        return rows

    @property
    def description_for_form(self) -> str:
        return self.study_description[:DESCRIPTION_MAX_LENGTH]


class StudyPage(BaseModel):
    studies: list[PacsStudy]
    offset: int
    limit: int
    has_more: bool
    skipped: int = 0  # answers without a usable Study Instance UID


# --- DICOM JSON (PS3.18 F.2) -----------------------------------------------------------------


def _values(element: Any) -> list[Any]:
    if not isinstance(element, Mapping):
        raise PacsBadResponse()
    values = element.get("Value", [])
    if not isinstance(values, list):
        raise PacsBadResponse()
    return values


def _text(element: Any) -> list[str]:
    """An element's values as text: PN by its alphabetic form, DA as YYYY-MM-DD."""
    texts = []
    for value in _values(element):
        if isinstance(value, Mapping):
            value = value.get("Alphabetic", "")
        if value is None or isinstance(value, list | Mapping):
            continue
        text = str(value).strip()
        if element.get("vr") == "DA" and _DA.match(text):
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        if text:
            texts.append(text)
    return texts


def _first(item: Mapping[str, Any], tag: str) -> str:
    values = _text(item[tag]) if tag in item else []
    return values[0] if values else ""


def _count(item: Mapping[str, Any], tag: str) -> int | None:
    text = _first(item, tag)
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def study_from_dicom_json(item: Any) -> PacsStudy:
    """One DICOM JSON object (tags as keys) as a PacsStudy; ValueError when it has no valid
    Study Instance UID, PacsBadResponse when it is not DICOM JSON."""
    if not isinstance(item, Mapping):
        raise PacsBadResponse()
    attributes: dict[str, str] = {}
    for tag in item:
        keyword = keyword_for_tag(int(tag, 16)) if re.fullmatch(r"[0-9A-Fa-f]{8}", tag) else ""
        if keyword:
            texts = _text(item[tag])
            if texts:
                attributes[keyword] = ", ".join(texts)
    modalities = _text(item[MODALITIES_IN_STUDY]) if MODALITIES_IN_STUDY in item else []
    return PacsStudy(
        study_instance_uid=_first(item, STUDY_INSTANCE_UID),
        study_description=_first(item, STUDY_DESCRIPTION),
        study_date=_date(_first(item, STUDY_DATE)),
        patient_name=_first(item, PATIENT_NAME),
        patient_id=_first(item, PATIENT_ID),
        accession_number=_first(item, ACCESSION_NUMBER),
        modalities=sorted(set(modalities)),
        series_count=_count(item, NUMBER_OF_SERIES),
        instance_count=_count(item, NUMBER_OF_INSTANCES),
        attributes=attributes,
    )


def _studies(data: Any) -> tuple[list[PacsStudy], int]:
    if not isinstance(data, list):
        raise PacsBadResponse()
    studies, skipped = [], 0
    for item in data:
        try:
            studies.append(study_from_dicom_json(item))
        except ValueError:  # pydantic's ValidationError included
            skipped += 1
    if skipped:
        logger.warning("dicomweb answer had %d studies without a usable UID", skipped)
    return studies, skipped


# --- The client ------------------------------------------------------------------------------


class DicomWebClient:
    """An httpx client for one DICOMweb root, with its credentials, timeouts and error
    mapping. Reads are not retried: a coordinator is waiting, and can press Search again."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str = "",
        password: str = "",
        token: str = "",
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url:
            raise PacsNotConfigured()
        headers = {
            "Accept": "application/dicom+json, application/json",
            "User-Agent": f"ViewerAdmin/{settings.VERSION} httpx/{httpx.__version__}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            auth=httpx.BasicAuth(username, password) if username and not token else None,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def get_json(self, path: str, params: Sequence[tuple[str, str]]) -> Any:
        """GET a QIDO-RS resource; its JSON (an empty list for 204 No Content)."""
        started = time.monotonic()
        try:
            # The query goes in the URL as encoded here: httpx's `params` would encode `*`.
            response = self._http.get(f"{path}?{_encode(params)}" if params else path)
        except httpx.RequestError as exc:
            self._log(path, type(exc).__name__, started)
            raise PacsUnavailable() from None
        self._log(path, response.status_code, started)
        if response.status_code == httpx.codes.NO_CONTENT:
            return []
        if response.is_success:
            try:
                return response.json() if response.content.strip() else []
            except ValueError:
                raise PacsBadResponse(status_code=response.status_code) from None
        if response.status_code in (401, 403):
            raise PacsAuthError(status_code=response.status_code)
        if response.status_code >= 500:
            raise PacsUnavailable(status_code=response.status_code)
        raise PacsRefused(status_code=response.status_code)

    @staticmethod
    def _log(path: str, outcome: object, started: float) -> None:
        logger.info(
            "dicomweb GET %s status=%s duration_ms=%d",
            path,
            outcome,
            (time.monotonic() - started) * 1000,
        )


# QIDO-RS values keep the characters that matching uses (`*`, `?`, `^`, `-`) as they are:
# some PACS (Orthanc 1.10) match the raw query string without percent-decoding it.
_QUERY_SAFE = "*?^-._~!$'(),;:@/"


def _encode(params: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe=_QUERY_SAFE)}" for k, v in params)


def is_configured() -> bool:
    return bool(settings.DICOMWEB_URL)


_client = ProcessClient(
    lambda: DicomWebClient(
        base_url=settings.DICOMWEB_URL,
        username=settings.DICOMWEB_USERNAME,
        password=settings.DICOMWEB_PASSWORD,
        token=settings.DICOMWEB_TOKEN,
        timeout=settings.DICOMWEB_TIMEOUT_SECONDS,
        connect_timeout=settings.DICOMWEB_CONNECT_TIMEOUT_SECONDS,
    ),
    setting_prefix="DICOMWEB_",
)
# The one client of this process, and replacing it (None: rebuild from settings on next use).
get_client = _client.get
set_client = _client.set


def metadata_keywords() -> list[str]:
    """The configured DICOM attributes that become metadata rows (known keywords only)."""
    return [k for k in settings.DICOMWEB_METADATA_ATTRIBUTES if tag_for_keyword(k) is not None]


def _includefields() -> list[str]:
    return [f"{tag_for_keyword(keyword):08X}" for keyword in metadata_keywords()]


# --- Studies ---------------------------------------------------------------------------------


def study_search(*, search: StudySearch) -> StudyPage:
    """One page of the PACS's studies matching `search` (QIDO-RS, server-side paging)."""
    data = get_client().get_json("studies", search.query(_includefields()))
    studies, skipped = _studies(data)
    return StudyPage(
        studies=studies[: search.limit],
        offset=search.offset,
        limit=search.limit,
        has_more=len(studies) > search.limit,
        skipped=skipped,
    )


def study_find(*, study_instance_uid: str) -> PacsStudy | None:
    """The PACS's study with this UID, or None when it has none."""
    if dicom_uid_problem(study_instance_uid):
        return None
    params = [("StudyInstanceUID", study_instance_uid)]
    params += [("includefield", tag) for tag in dict.fromkeys([*_SHOWN, *_includefields()])]
    studies, _ = _studies(get_client().get_json("studies", params))
    return next((s for s in studies if s.study_instance_uid == study_instance_uid), None)


# --- DICOM files -----------------------------------------------------------------------------


def study_from_file(*, data: bytes, truncated: bool = False) -> PacsStudy:
    """The study described by a DICOM file's header. `data` is at most the first
    DICOM_HEADER_MAX_BYTES of the file; `truncated` says the file was longer than that.
    Reads the header only (stops before the pixel data); raises DicomFileError."""
    if not data:
        raise DicomFileError("empty")
    try:
        dataset = dcmread(io.BytesIO(data), stop_before_pixels=True)
        uid = str(dataset.get("StudyInstanceUID", "") or "").strip()
        header = _header_json(dataset)
    except InvalidDicomError:
        raise DicomFileError("not_dicom") from None
    except Exception:  # noqa: BLE001 - pydicom raises many kinds on damaged data
        raise DicomFileError("too_large" if truncated else "damaged") from None
    if not uid:
        if truncated:
            raise DicomFileError("too_large")
        # Nothing past the file meta header: the file ends early.
        raise DicomFileError("no_uid" if len(dataset) else "damaged")
    try:
        return study_from_dicom_json(header)
    except ValueError:  # an invalid UID
        raise DicomFileError("bad_uid") from None


def _header_json(dataset: Dataset) -> dict[str, Any]:
    """The header's text attributes in DICOM JSON, like a QIDO-RS answer; an instance's
    Modality stands in for the study's ModalitiesInStudy."""
    out: dict[str, Any] = {}
    for element in dataset:
        if element.VR in ("SQ", "OB", "OW", "OF", "OD", "OL", "OV", "UN") or element.tag.is_private:
            continue
        try:
            out.update(Dataset({element.tag: element}).to_json_dict())
        except Exception:  # noqa: BLE001, S112 - one odd element must not spoil the rest
            continue
    if MODALITIES_IN_STUDY not in out and "Modality" in dataset:
        out[MODALITIES_IN_STUDY] = {"vr": "CS", "Value": [str(dataset.Modality)]}
    return out


# --- Configuration check ---------------------------------------------------------------------


@checks.register(checks.Tags.compatibility)
def _check_metadata_attributes(**kwargs: Any) -> list[checks.CheckMessage]:
    unknown = [k for k in settings.DICOMWEB_METADATA_ATTRIBUTES if tag_for_keyword(k) is None]
    if not unknown:
        return []
    return [
        checks.Warning(
            f"DICOMWEB_METADATA_ATTRIBUTES has unknown DICOM keywords: {', '.join(unknown)}. "
            "They are ignored.",
            hint="Use keywords from the DICOM dictionary, e.g. AccessionNumber.",
            id="studies.W001",
        )
    ]
