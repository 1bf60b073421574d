"""Forms and hand-back helpers of "Find in PACS" and "Read from DICOM file".

Without JavaScript the create forms hand what was typed to the PACS pages in the query string
(like "More options"), and get it back, with the chosen study's values on top, as initial
values of `/studies/new/`: `carried_values` reads what came along, `handback_url` builds the
way back, `metadata_rows_from_query` gives the create form its metadata rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.urls import reverse
from pydantic import ValidationError as PydanticValidationError

from studies import dicomweb
from studies.forms import study_form_initial
from studies.viewer_api import METADATA_MAX_PAIRS

QUICK_PREFIX = "quick-"
_CARRIED_MAX_LENGTH = 1000
_ROW = re.compile(r"^metadata-(\d{1,2})-(key|value|DELETE)$")
_MODALITIES = ["CT", "MR", "CR", "DX", "MG", "US", "PT", "NM", "XA", "RF", "OT", "SR"]


class PacsSearchForm(forms.Form):
    """The search of "Find in PACS"; at least one value is needed."""

    patient_name = forms.CharField(
        label="Patient name",
        required=False,
        max_length=64,
        help_text="Family name first, e.g. DOE or DOE^JANE. * and ? are wildcards.",
    )
    patient_id = forms.CharField(label="Patient ID", required=False, max_length=64)
    accession_number = forms.CharField(label="Accession number", required=False, max_length=16)
    date_from = forms.DateField(
        label="Study date from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    date_to = forms.DateField(
        label="to",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date as YYYY-MM-DD."},
    )
    modality = forms.ChoiceField(
        label="Modality",
        required=False,
        choices=[("", "Any")] + [(m, m) for m in _MODALITIES],
        error_messages={"invalid_choice": "Choose a modality from the list."},
    )
    offset = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            self.search = dicomweb.StudySearch(
                patient_name=cleaned.get("patient_name") or "",
                patient_id=cleaned.get("patient_id") or "",
                accession_number=cleaned.get("accession_number") or "",
                date_from=cleaned.get("date_from"),
                date_to=cleaned.get("date_to"),
                modality=cleaned.get("modality") or "",
                limit=settings.DICOMWEB_RESULT_LIMIT,
                offset=cleaned.get("offset") or 0,
            )
        except PydanticValidationError as exc:
            for detail in exc.errors():
                name = str(detail["loc"][0]) if detail["loc"] else ""
                message = str(detail["msg"]).removeprefix("Value error, ")
                self.add_error(name if name in self.fields else "date_from", message)
            return cleaned
        if self.search.is_empty:
            raise forms.ValidationError(
                "Enter a patient name, patient ID, accession number, date or modality.",
                code="empty",
            )
        return cleaned

    def search_query(self) -> dict[str, str]:
        """The search as query parameters (for paging links)."""
        names = [name for name in self.fields if name != "offset"]
        return {name: str(self.data.get(name, "")) for name in names if self.data.get(name)}


class DicomFileForm(forms.Form):
    dicom_file = forms.FileField(
        label="DICOM file",
        required=True,
        error_messages={"required": "Choose a DICOM file (.dcm) first."},
    )


# --- Hand-back -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Carried:
    """What the create form held when the coordinator left it for the PACS pages."""

    fields: dict[str, str]
    metadata: dict[str, str]
    source: str  # "new" (the full form) or "quick" (the worklist's quick-create)

    def as_query(self) -> list[tuple[str, str]]:
        """Hidden inputs / query parameters that carry it on to the next page."""
        pairs = [(name, value) for name, value in self.fields.items()]
        for index, (key, value) in enumerate(self.metadata.items()):
            pairs += [(f"metadata-{index}-key", key), (f"metadata-{index}-value", value)]
        pairs.append(("source", self.source))
        return pairs


def carried_values(query: Mapping[str, Any]) -> Carried:
    """The create form's values in `query` (with or without the quick-create's prefix)."""
    # The names "More options" carries (studies.forms.study_form_initial), unprefixed.
    plain = {str(key).removeprefix(QUICK_PREFIX): query.get(key) for key in query}
    typed = study_form_initial({k: str(v) for k, v in plain.items() if isinstance(v, str)})
    fields = {
        name: str(value).strip()[:_CARRIED_MAX_LENGTH]
        for name, value in typed.items()
        if str(value).strip()
    }
    quick = any(str(key).startswith(QUICK_PREFIX) for key in query)
    source = "quick" if quick or query.get("source") == "quick" else "new"
    return Carried(fields, _rows(query), source)


def _rows(query: Mapping[str, Any]) -> dict[str, str]:
    rows: dict[int, dict[str, str]] = {}
    for name in query:
        match = _ROW.match(str(name))
        if match and int(match.group(1)) < METADATA_MAX_PAIRS:
            value = str(query.get(name) or "").strip()[:_CARRIED_MAX_LENGTH]
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    pairs: dict[str, str] = {}
    for index in sorted(rows):
        row = rows[index]
        if row.get("DELETE") or not row.get("key"):
            continue
        pairs.setdefault(row["key"], row.get("value", ""))
    return pairs


def metadata_rows_from_query(query: Mapping[str, Any]) -> list[dict[str, str]]:
    """Initial metadata rows for `/studies/new/` from a hand-back's query string."""
    return [{"key": key, "value": value} for key, value in _rows(query).items()]


@dataclass(frozen=True)
class Filled:
    """The form values taken from the PACS or a DICOM file, and what they filled."""

    fields: dict[str, str]
    metadata: dict[str, str]

    @property
    def summary(self) -> str:
        """E.g. "Study Instance UID, study description and metadata rows AccessionNumber,
        StudyDate"."""
        names = ["Study Instance UID"]
        if "study_description" in self.fields:
            names.append("study description")
        text = ", ".join(names)
        if self.metadata:
            text += f" and metadata rows {', '.join(self.metadata)}"
        return text

    def as_json(self) -> dict[str, Any]:
        """For the page's script, which fills the form in place."""
        return {
            "uid": self.fields["study_instance_uid"],
            "description": self.fields.get("study_description", ""),
            "metadata": self.metadata,
            "summary": self.summary,
        }


def filled_from(study: dicomweb.PacsStudy) -> Filled:
    fields = {"study_instance_uid": study.study_instance_uid}
    if study.description_for_form:
        fields["study_description"] = study.description_for_form
    return Filled(fields, study.metadata(dicomweb.metadata_keywords()))


def handback_url(carried: Carried, filled: Filled | None = None, **extra: str) -> str:
    """`/studies/new/` showing what was typed, with `filled` on top (its metadata rows
    replace typed rows with the same key)."""
    fields = dict(carried.fields)
    metadata = dict(carried.metadata)
    if filled is not None:
        fields |= filled.fields
        metadata |= filled.metadata
    back = Carried(fields, metadata, carried.source)
    pairs = [(k, v) for k, v in back.as_query() if k != "source"] + list(extra.items())
    return reverse("study_create") + (f"?{urlencode(pairs)}" if pairs else "")
