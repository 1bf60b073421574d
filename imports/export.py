"""The worklist as a CSV file in the import's column layout, so an export can be edited and
imported again (into this clinic or another: assignees are written by email and Express
customers by name, which mean the same in every clinic)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from typing import Any, Final

from imports.parsing import ASSIGNEE, CUSTOMER, DESCRIPTION, HEADERS, METADATA_PREFIX, SEVERITY, UID
from studies import viewer_api
from studies.viewer_api import Page, Study, StudyFilters, ViewerAPIError

_FIELDS: Final = (SEVERITY, DESCRIPTION, UID, ASSIGNEE, CUSTOMER)
# Studies are spooled to disk past this size while the pages are read.
_SPOOL_BYTES: Final = 1024 * 1024


def study_row_payload(study: Study) -> dict[str, Any]:
    """The create request that would make this study (StudyCreate's wire form)."""
    payload: dict[str, Any] = {
        "severity": str(study.severity),
        "studyDescription": study.study_description,
        "studyInstanceUid": study.study_instance_uid,
    }
    if study.assigned_to:
        payload["assignedTo"] = study.assigned_to.user_id
    if study.express_customer:
        payload["expressCustomerId"] = study.express_customer.express_customer_id
    if study.metadata:
        payload["metadata"] = dict(study.metadata)
    return payload


def _cells(study: Study) -> dict[str, str]:
    cells = {
        SEVERITY: str(study.severity),
        DESCRIPTION: study.study_description,
        UID: study.study_instance_uid,
        ASSIGNEE: study.assigned_to.email if study.assigned_to else "",
        CUSTOMER: study.express_customer.express_customer_name if study.express_customer else "",
    }
    for key, value in (study.metadata or {}).items():
        cells[METADATA_PREFIX + key] = value
    return cells


def export_pages(filters: StudyFilters) -> tuple[Page[Study], Iterator[Page[Study]]]:
    """The first page of the export and the rest to come; raises ViewerAPIError (before
    anything is sent to the browser) when the first page cannot be read."""
    pages = viewer_api.study_pages(filters=filters)
    return next(pages), pages


def export_lines(first: Page[Study], rest: Iterator[Page[Study]]) -> Iterator[str]:
    """The CSV text, a line at a time: every study of the pages. The metadata columns are
    known only once every page is read, so the rows wait in a spooled file meanwhile (memory
    stays small). If a later page fails, the file says so in its last line rather than end
    silently short."""
    keys: dict[str, None] = {}
    error = ""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8") as spool:
        page: Page[Study] | None = first
        while page is not None:
            for study in page.items:
                cells = _cells(study)
                keys.update(dict.fromkeys(k for k in cells if k.startswith(METADATA_PREFIX)))
                spool.write(json.dumps(cells, ensure_ascii=False) + "\n")
            try:
                page = next(rest, None)
            except ViewerAPIError as exc:
                error = exc.message
                break
        columns = [*_FIELDS, *keys]
        yield csv_line([HEADERS.get(name, name) for name in columns])
        spool.seek(0)
        for raw in spool:
            cells = json.loads(raw)
            yield csv_line([cells.get(name, "") for name in columns])
    if error:
        yield csv_line([f"ERROR: the export stopped early; this file is incomplete. {error}"])


def csv_line(values: list[str]) -> str:
    """One CSV record, with its line ending."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()
