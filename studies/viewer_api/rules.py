"""The rules the API states (§3), defined once: the DICOM UID, the ID formats, the metadata and
description limits, the enums and `limit`. The request models enforce them and the Django
forms reuse them, so a coordinator meets the same message before and after sending."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, Field, StringConstraints

DICOM_UID_MAX_LENGTH: Final = 64
DESCRIPTION_MAX_LENGTH: Final = 1000  # our choice, §12.22
METADATA_MAX_PAIRS: Final = 50
METADATA_KEY_MAX_LENGTH: Final = 100
METADATA_VALUE_MAX_LENGTH: Final = 1000
LIST_LIMIT_MAX: Final = 100
_DICOM_COMPONENT = re.compile(r"[0-9]+")

# The explicit null filters of §2.3: "unassigned" and "no Express customer".
UNASSIGNED: Final = "unassigned"
NO_CUSTOMER: Final = "none"


def dicom_uid_problem(value: str) -> str | None:
    """Say what is wrong with a DICOM UID (PS3.5 §9.1), or None when it is valid."""
    if not value:
        return "Enter the Study Instance UID."
    if len(value) > DICOM_UID_MAX_LENGTH:
        return (
            f"A Study Instance UID has at most {DICOM_UID_MAX_LENGTH} characters; "
            f"this one has {len(value)}."
        )
    for position, component in enumerate(value.split("."), start=1):
        if component == "":
            return (
                "A Study Instance UID cannot start or end with a dot or contain two dots "
                f"in a row (component {position} is empty)."
            )
        if not _DICOM_COMPONENT.fullmatch(component):
            return "A Study Instance UID contains only digits separated by dots."
        if len(component) > 1 and component.startswith("0"):
            return (
                f"Component {position} ({component}) starts with a zero; only a component "
                "that is exactly 0 may start with 0."
            )
    return None


def metadata_problems(pairs: Mapping[str, str]) -> list[str]:
    """Every way a metadata map breaks the API's limits (§3), in words a coordinator reads."""
    problems: list[str] = []
    if len(pairs) > METADATA_MAX_PAIRS:
        problems.append(f"At most {METADATA_MAX_PAIRS} metadata pairs are allowed.")
    for key, value in pairs.items():
        if not key.strip():
            problems.append("Metadata keys cannot be empty.")
        if len(key) > METADATA_KEY_MAX_LENGTH:
            problems.append(
                f"Metadata key {key[:20]!r}… is longer than {METADATA_KEY_MAX_LENGTH} characters."
            )
        if len(value) > METADATA_VALUE_MAX_LENGTH:
            problems.append(
                f"The value of metadata key {key[:20]!r} is longer than "
                f"{METADATA_VALUE_MAX_LENGTH} characters."
            )
    return problems


def _check_dicom_uid(value: str) -> str:
    problem = dicom_uid_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    problems = metadata_problems(value)
    if problems:
        raise ValueError(" ".join(problems))
    return value


# The ID formats (§3), as regex text: pydantic checks them (with its own engine, where `$` is
# the very end), and `re.fullmatch` gives the same answer for code outside a model.
STUDY_ID_PATTERN: Final = r"^stu_[0-9a-fA-F]{32}$"
USER_ID_PATTERN: Final = r"^usr_[0-9a-fA-F]{32}$"
CUSTOMER_ID_PATTERN: Final = r"^cus_[0-9a-fA-F]{32}$"

StudyId = Annotated[str, StringConstraints(pattern=STUDY_ID_PATTERN)]
UserId = Annotated[str, StringConstraints(pattern=USER_ID_PATTERN)]
CustomerId = Annotated[str, StringConstraints(pattern=CUSTOMER_ID_PATTERN)]
DicomUid = Annotated[str, AfterValidator(_check_dicom_uid)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DESCRIPTION_MAX_LENGTH)
]
Metadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]
Limit = Annotated[int, Field(ge=1, le=LIST_LIMIT_MAX)]


class Severity(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    STAT = "stat"

    @property
    def label(self) -> str:
        return {"normal": "Normal", "high": "High", "stat": "STAT"}[self.value]


class ViewerStatus(StrEnum):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return {"incomplete": "Incomplete", "complete": "Complete"}[self.value]
