"""The preview of an import: every row checked before anything is sent.

Each row goes through the create-study form (`studies.forms.StudyCreateForm`), so the rules
are the form's and the service module's, never a copy. Assignees (an email or a `usr_` id) and
Express customers (a name or a `cus_` id) are resolved through the API with as few calls as
possible: one cached look-up per distinct assignee, one cached list of the customers. UIDs that
repeat inside the file, and UIDs the Viewer already has, are problems too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from django.conf import settings
from django.db import connection
from pydantic import ValidationError as PydanticValidationError

from imports.parsing import (
    ASSIGNEE,
    CUSTOMER,
    DESCRIPTION,
    METADATA_PREFIX,
    SEVERITY,
    UID,
    ParsedFile,
    ParsedRow,
)
from studies import viewer_api
from studies.forms import StudyCreateForm
from studies.viewer_api import ExpressCustomer, NotFound, StudyFilters

# Up to this many UIDs are looked up one by one; more, and the study list is read instead.
_UID_LOOKUP_LIMIT: Final = 50
# The form's field names, by the file's fields they come from.
_FORM_FIELD_COLUMN: Final = {
    "severity": SEVERITY,
    "study_description": DESCRIPTION,
    "study_instance_uid": UID,
    "assigned_to": ASSIGNEE,
    "assignee_query": ASSIGNEE,
    "express_customer_id": CUSTOMER,
    "metadata": "metadata",
}

Result = TypeVar("Result")


@dataclass(frozen=True)
class Problem:
    column: str  # the file's header, or "" for the row as a whole
    message: str


@dataclass
class CheckedRow:
    number: int
    cells: dict[str, str]
    uid: str
    payload: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and self.payload is not None


def check_rows(parsed: ParsedFile) -> list[CheckedRow]:
    """Check every row; raises ViewerAPIError when the API cannot be asked (nothing is kept
    then: the coordinator tries again)."""
    assignees = _resolve_assignees({row.cells.get(ASSIGNEE, "") for row in parsed.rows})
    customers = viewer_api.customers_all()
    active = [customer for customer in customers if customer.is_active]
    checked = [_check_row(row, parsed, assignees, customers, active) for row in parsed.rows]
    _flag_repeated_uids(checked, parsed.header_of(UID))
    _flag_existing_uids(checked, parsed.header_of(UID))
    return checked


# --- One row -----------------------------------------------------------------------------------


def _check_row(
    row: ParsedRow,
    parsed: ParsedFile,
    assignees: dict[str, str | Problem],
    customers: list[ExpressCustomer],
    active: list[ExpressCustomer],
) -> CheckedRow:
    cells = row.cells
    checked = CheckedRow(number=row.number, cells=dict(cells), uid=cells.get(UID, ""))
    problems = checked.problems
    if row.extra_cells:
        problems.append(
            Problem("", f"This row has {row.extra_cells} more cell(s) than the header has columns.")
        )
    assigned_to = ""
    if cells.get(ASSIGNEE):
        resolved = assignees[cells[ASSIGNEE]]
        if isinstance(resolved, Problem):
            problems.append(Problem(parsed.header_of(ASSIGNEE), resolved.message))
        else:
            assigned_to = resolved
    customer_id = ""
    if cells.get(CUSTOMER):
        found = _customer(cells[CUSTOMER], customers)
        if isinstance(found, Problem):
            problems.append(Problem(parsed.header_of(CUSTOMER), found.message))
        else:
            customer_id = found
    form = StudyCreateForm(
        data={
            "token": str(uuid.uuid4()),
            "severity": cells.get(SEVERITY, "").lower(),
            "study_description": cells.get(DESCRIPTION, ""),
            "study_instance_uid": cells.get(UID, ""),
            "assigned_to": assigned_to,
            "express_customer_id": customer_id,
        },
        customers=active,
    )
    valid = form.is_valid()
    for name, messages in form.errors.items():
        column = parsed.header_of(_FORM_FIELD_COLUMN[name]) if name in _FORM_FIELD_COLUMN else ""
        problems.extend(Problem(column, str(message)) for message in messages)
    metadata = {
        name.removeprefix(METADATA_PREFIX): value
        for name, value in cells.items()
        if name.startswith(METADATA_PREFIX) and value
    }
    problems.extend(
        Problem("metadata", message) for message in viewer_api.metadata_problems(metadata)
    )
    if valid and not problems:
        try:
            data = form.study_create_data(metadata=metadata)
        except PydanticValidationError as exc:
            problems.extend(
                Problem("", str(detail["msg"]).removeprefix("Value error, "))
                for detail in exc.errors()
            )
        else:
            checked.payload = data.wire()
    return checked


def _customer(text: str, customers: list[ExpressCustomer]) -> str | Problem:
    wanted = text.casefold()
    matches = [
        c
        for c in customers
        if c.express_customer_id == text or c.express_customer_name.casefold() == wanted
    ]
    if not matches:
        return Problem("", f"The Viewer has no Express customer \u201c{text}\u201d.")
    if len(matches) > 1:
        return Problem(
            "", f"Several Express customers are called \u201c{text}\u201d: use its cus_ id."
        )
    if not matches[0].is_active:
        return Problem("", f"The Express customer \u201c{text}\u201d is deactivated.")
    return matches[0].express_customer_id


# --- Look-ups through the API ---------------------------------------------------------------


def _parallel(function: Callable[[str], Result], items: Iterable[str]) -> dict[str, Result]:
    """`function` over `items` on a few threads (each closes its database connection)."""

    def run(item: str) -> Result:
        try:
            return function(item)
        finally:
            connection.close()

    items = list(items)
    if len(items) <= 1:
        return {item: function(item) for item in items}
    with ThreadPoolExecutor(max_workers=settings.IMPORT_PARALLEL_ROWS) as pool:
        return dict(zip(items, pool.map(run, items), strict=True))


def _resolve_assignees(texts: set[str]) -> dict[str, str | Problem]:
    """Each distinct assignee cell: the user's id, or the problem with it."""
    return _parallel(_resolve_assignee, sorted(text for text in texts if text))


def _resolve_assignee(text: str) -> str | Problem:
    if text.startswith("usr_"):
        try:
            return viewer_api.user_get_cached(user_id=text).user_id
        except NotFound:
            return Problem("", f"The Viewer has no user {text}.")
    if "@" not in text:
        return Problem("", "Give the assignee's email address or Viewer user id (usr_\u2026).")
    wanted = text.casefold()
    for user in viewer_api.user_search(query=text):
        if user.email.casefold() == wanted:
            return user.user_id
    return Problem("", f"The Viewer has no user with the email {text}.")


def existing_study_ids(uids: set[str]) -> dict[str, str]:
    """The UIDs among `uids` that the Viewer already has, with their study ids. A few are
    looked up one by one; many, and the clinic's study list is read page by page."""
    if len(uids) <= _UID_LOOKUP_LIMIT:
        found = _parallel(_study_id_by_uid, sorted(uids))
        return {uid: study_id for uid, study_id in found.items() if study_id}
    known: dict[str, str] = {}
    for page in viewer_api.study_pages(filters=StudyFilters(limit=viewer_api.LIST_LIMIT_MAX)):
        for study in page.items:
            if study.study_instance_uid in uids:
                known[study.study_instance_uid] = study.study_id
    return known


def _study_id_by_uid(uid: str) -> str:
    try:
        return viewer_api.study_get_by_uid(study_instance_uid=uid).study_id
    except NotFound:
        return ""


def _flag_repeated_uids(rows: list[CheckedRow], column: str) -> None:
    by_uid: dict[str, list[CheckedRow]] = defaultdict(list)
    for row in rows:
        if row.uid:
            by_uid[row.uid].append(row)
    for same in by_uid.values():
        if len(same) < 2:
            continue
        numbers = [row.number for row in same]
        for row in same:
            others = ", ".join(str(n) for n in numbers if n != row.number)
            row.problems.append(
                Problem(column, f"The same Study Instance UID is in row {others} of this file.")
            )
            row.payload = None


def _flag_existing_uids(rows: list[CheckedRow], column: str) -> None:
    candidates = [row for row in rows if row.valid]
    existing = existing_study_ids({row.uid for row in candidates})
    for row in candidates:
        if row.uid in existing:
            row.problems.append(
                Problem(
                    column,
                    "The Viewer already has a study with this Study Instance UID "
                    f"({existing[row.uid]}).",
                )
            )
            row.payload = None
