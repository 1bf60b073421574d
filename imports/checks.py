"""The preview of an import: every row checked before anything is sent.

Each row goes through the create-study form (`studies.forms.StudyCreateForm`), so the rules
are the form's and the service module's, never a copy. Assignees (an email or a `usr_` id) and
Express customers (a name or a `cus_` id) are resolved through the API with as few calls as
possible: the cached list of the customers; for the distinct assignees and UIDs, the user and
study lists read page by page (while the rows are checked), or one look-up per value when that
takes fewer rounds (see `_from_list_or_one_by_one`). UIDs that repeat inside the file, and UIDs
the Viewer already has, are problems too.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from studies.viewer_api import ExpressCustomer, NotFound, Page, StudyFilters, User, UserFilters

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
Arg = TypeVar("Arg")


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
    uids = {row.cells[UID] for row in parsed.rows if row.cells.get(UID)}
    with ThreadPoolExecutor(max_workers=2) as background:
        # The API's answers are awaited side by side, and the study list is read while the
        # rows are checked.
        existing = background.submit(_closing(existing_study_ids), uids)
        resolving = background.submit(
            _closing(_resolve_assignees), {row.cells.get(ASSIGNEE, "") for row in parsed.rows}
        )
        customers = viewer_api.customers_all()
        assignees = resolving.result()
        active = [customer for customer in customers if customer.is_active]
        checked = [_check_row(row, parsed, assignees, customers, active) for row in parsed.rows]
        _flag_repeated_uids(checked, parsed.header_of(UID))
        _flag_existing_uids(checked, parsed.header_of(UID), existing.result())
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


def _closing(function: Callable[[Arg], Result]) -> Callable[[Arg], Result]:
    """`function`, closing the database connection of the thread it ran on."""

    def run(arg: Arg) -> Result:
        try:
            return function(arg)
        finally:
            connection.close()

    return run


def _parallel(function: Callable[[str], Result], items: Iterable[str]) -> dict[str, Result]:
    """`function` over `items` on a few threads."""
    items = list(items)
    if len(items) <= 1:
        return {item: function(item) for item in items}
    with ThreadPoolExecutor(max_workers=settings.IMPORT_PARALLEL_ROWS) as pool:
        return dict(zip(items, pool.map(_closing(function), items), strict=True))


def _from_list_or_one_by_one(
    wanted: Mapping[str, str],
    pages: Callable[[], Iterator[Page[Any]]],
    keys: Callable[[Any], Iterable[str]],
    found: Callable[[Any], Result],
    look_up: Callable[[str], Result],
    absent: Callable[[str], Result],
) -> dict[str, Result]:
    """For each of `wanted` (key: the text it came from), `found(item)` for the list item one
    of whose `keys` it is, `absent(text)` when the list has none, with as few rounds of calls
    as we can tell in advance.

    Looking the texts up one by one takes len/IMPORT_PARALLEL_ROWS rounds of parallel calls;
    reading the list takes one call per page, as many as the clinic has pages. So the list is
    read for at most that many pages (a small clinic: all of it, in a few calls), and what it
    did not find by then is looked up one by one: never more than twice the better way.
    """
    parallel = max(1, settings.IMPORT_PARALLEL_ROWS)
    results: dict[str, Result] = {}
    complete = False
    if len(wanted) > parallel:
        budget = math.ceil(len(wanted) / parallel)
        for number, page in enumerate(pages(), start=1):
            for item in page.items:
                for key in keys(item):
                    if key in wanted and key not in results:
                        results[key] = found(item)
            if page.next_cursor is None:
                complete = True
            if complete or number >= budget or len(results) == len(wanted):
                break
    left = {key: text for key, text in wanted.items() if key not in results}
    if complete:
        results.update({key: absent(text) for key, text in left.items()})
    else:
        looked_up = _parallel(look_up, left.values())
        results.update({key: looked_up[text] for key, text in left.items()})
    return results


def _resolve_assignees(texts: set[str]) -> dict[str, str | Problem]:
    """Each distinct assignee cell: the user's id, or the problem with it."""
    resolved: dict[str, str | Problem] = {}
    keys: dict[str, str] = {}  # text: its key (emails match whatever their case)
    for text in texts:
        if text.startswith("usr_"):
            keys[text] = text
        elif "@" in text:
            keys[text] = text.casefold()
        elif text:
            resolved[text] = Problem(
                "", "Give the assignee's email address or Viewer user id (usr_\u2026)."
            )
    by_key = _from_list_or_one_by_one(
        {key: text for text, key in sorted(keys.items())},
        pages=lambda: _user_pages(UserFilters(limit=viewer_api.LIST_LIMIT_MAX)),
        keys=lambda user: (user.user_id, user.email.casefold()),
        found=lambda user: user.user_id,
        look_up=_resolve_assignee,
        absent=_no_such_user,
    )
    resolved.update({text: by_key[key] for text, key in keys.items()})
    return resolved


def _user_pages(filters: UserFilters) -> Iterator[Page[User]]:
    cursor: str | None = None
    while True:
        page = viewer_api.user_list(filters=filters, cursor=cursor)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return


def _no_such_user(text: str) -> Problem:
    if text.startswith("usr_"):
        return Problem("", f"The Viewer has no user {text}.")
    return Problem("", f"The Viewer has no user with the email {text}.")


def _resolve_assignee(text: str) -> str | Problem:
    if text.startswith("usr_"):
        try:
            return viewer_api.user_get_cached(user_id=text).user_id
        except NotFound:
            return _no_such_user(text)
    wanted = text.casefold()
    for user in viewer_api.user_search(query=text):
        if user.email.casefold() == wanted:
            return user.user_id
    return _no_such_user(text)


def existing_study_ids(uids: set[str]) -> dict[str, str]:
    """The UIDs among `uids` that the Viewer already has, with their study ids: from the
    clinic's study list, or looked up one by one (see `_from_list_or_one_by_one`)."""
    found = _from_list_or_one_by_one(
        {uid: uid for uid in uids},
        pages=lambda: viewer_api.study_pages(filters=StudyFilters(limit=viewer_api.LIST_LIMIT_MAX)),
        keys=lambda study: (study.study_instance_uid,),
        found=lambda study: study.study_id,
        look_up=_study_id_by_uid,
        absent=lambda uid: "",
    )
    return {uid: study_id for uid, study_id in found.items() if study_id}


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


def _flag_existing_uids(rows: list[CheckedRow], column: str, existing: dict[str, str]) -> None:
    for row in (row for row in rows if row.valid):
        if row.uid in existing:
            row.problems.append(
                Problem(
                    column,
                    "The Viewer already has a study with this Study Instance UID "
                    f"({existing[row.uid]}).",
                )
            )
            row.payload = None
