"""What a browser posts from the study forms, for tests that post them without one.

`create_fields` is the create form alone (a fresh token, a fresh UID); `create_form_data` adds
its metadata rows, as the full form posts them; `edit_form_data` is the edit form and
`quick_create_data` the worklist's quick-create form. Keyword overrides use the form's field
names; rows are `(key, value)` pairs, or `(key, value, True)` for a row marked for removal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sandbox.factories import random_uid

Row = tuple[str, str] | tuple[str, str, bool]
BLANK_ROW: Sequence[Row] = (("", ""),)


def metadata_data(
    rows: Sequence[Row] = (), *, total: int | str | None = None, initial: int = 0
) -> dict[str, str]:
    """The metadata formset: its management form (TOTAL_FORMS = the rows unless `total` says
    otherwise) and each row."""
    data = {
        "metadata-TOTAL_FORMS": str(len(rows) if total is None else total),
        "metadata-INITIAL_FORMS": str(initial),
    }
    for index, row in enumerate(rows):
        data[f"metadata-{index}-key"] = row[0]
        data[f"metadata-{index}-value"] = row[1]
        if len(row) > 2 and row[2]:
            data[f"metadata-{index}-DELETE"] = "on"
    return data


def create_fields(**fields: str) -> dict[str, str]:
    """The create form's own fields: a normal-severity CT Head, unassigned, no customer."""
    return {
        "token": str(uuid.uuid4()),
        "severity": "normal",
        "study_description": "CT Head without Contrast",
        "study_instance_uid": random_uid(),
        "assignee_query": "",
        "assigned_to": "",
        "express_customer_id": "",
        **fields,
    }


def create_form_data(rows: Sequence[Row] = BLANK_ROW, **fields: str) -> dict[str, str]:
    """The full create form as posted: its fields and its metadata rows (one blank row, as the
    page shows it, unless given)."""
    return {**create_fields(), **metadata_data(rows), **fields}


def edit_form_data(
    original: str, rows: Sequence[Row] = (), *, initial: int | None = None, **fields: str
) -> dict[str, str]:
    """The edit form as posted: `original` is the page's snapshot of the study; `initial` the
    rows the page showed (default: as many as `rows`)."""
    return {
        "original": original,
        "severity": "normal",
        "study_description": "CT Head without Contrast",
        "study_viewer_status": "incomplete",
        "assignee_query": "",
        "assigned_to": "",
        **metadata_data(rows, initial=len(rows) if initial is None else initial),
        **fields,
    }


def quick_create_data(**fields: str) -> dict[str, str]:
    """The worklist's quick-create form (fields prefixed "quick-") with its create button;
    overrides name the fields without the prefix (`action` is the button)."""
    data = {
        "token": str(uuid.uuid4()),
        "severity": "high",
        "study_description": "CT Chest quick",
        "study_instance_uid": random_uid(),
        "assignee_query": "",
        "assigned_to": "",
        **fields,
    }
    action = data.pop("action", "create")
    return {**{f"quick-{name}": value for name, value in data.items()}, "action": action}
