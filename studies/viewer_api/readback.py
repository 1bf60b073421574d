"""Finding out what a mutating call did when its answer was lost (`OutcomeUnknown`).

A change is described by what the study must show once it is made: an `Expected` state, the
wire names and values of the fields it sets (`expected_update`, `expected_create`, or e.g.
`{"isCancelled": True}`). `read_back` reads the study again, at once and then with growing waits
while the call may still be running on the API, within `VIEWER_API_READ_BACK_SECONDS`:

- the study shows the expected state: the change was made, the study is the result;
- the study does not show it and the API has finished with the call (it answered, e.g. a 500):
  `NotApplied`, nothing happened;
- otherwise (still running, or the reads fail too): the `OutcomeUnknown` again, with
  `read_back` saying why.

`state_digest` lets an audit entry remember an expected state without keeping any value, so a
later read of the study can still confirm the change (`studies.audit`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Final

from django.conf import settings

from studies.viewer_api.client import get_client
from studies.viewer_api.exceptions import NotApplied, NotFound, OutcomeUnknown, ViewerAPIError
from studies.viewer_api.params import StudyCreate, StudyUpdate
from studies.viewer_api.responses import Study
from studies.viewer_api.transport import logger

Expected = Mapping[str, Any]

_FIRST_WAIT_SECONDS: Final = 0.25
_WAIT_CAP_SECONDS: Final = 2.0
# The fields a create sets that a study found by UID must show to be that create's study.
CREATE_FIELDS: Final = (
    "severity",
    "studyDescription",
    "assignedTo",
    "expressCustomerId",
    "metadata",
)
# Coordinator-facing names of the wire fields, for "it differs in …".
FIELD_NAMES: Final = {
    "severity": "severity",
    "studyDescription": "description",
    "studyViewerStatus": "viewer status",
    "assignedTo": "assignee",
    "expressCustomerId": "Express customer",
    "metadata": "metadata",
    "isCancelled": "cancelled state",
}


def study_state(study: Study, fields: Iterable[str]) -> dict[str, Any]:
    """The study's values of `fields` (wire names), in the form an `Expected` state has."""
    values: dict[str, Callable[[], Any]] = {
        "severity": lambda: str(getattr(study.severity, "value", study.severity)),
        "studyDescription": lambda: study.study_description,
        "studyViewerStatus": lambda: str(
            getattr(study.study_viewer_status, "value", study.study_viewer_status)
        ),
        "assignedTo": lambda: study.assigned_to.user_id if study.assigned_to else None,
        "expressCustomerId": lambda: (
            study.express_customer.express_customer_id if study.express_customer else None
        ),
        "metadata": lambda: dict(study.metadata or {}),
        "isCancelled": lambda: study.is_cancelled,
    }
    return {field: values[field]() for field in fields}


def expected_update(changes: StudyUpdate) -> dict[str, Any]:
    """What the study shows once `changes` are made (`metadata: null` clears it to `{}`)."""
    wire = changes.wire()
    if "metadata" in wire and wire["metadata"] is None:
        wire["metadata"] = {}
    return wire


def expected_create(data: StudyCreate) -> dict[str, Any]:
    """What the study a create made shows (unsent optional values are empty)."""
    wire = data.wire()
    return {
        "severity": wire["severity"],
        "studyDescription": wire["studyDescription"],
        "assignedTo": wire.get("assignedTo"),
        "expressCustomerId": wire.get("expressCustomerId"),
        "metadata": wire.get("metadata") or {},
    }


def differences(study: Study, expected: Expected) -> list[str]:
    """The coordinator-facing names of the fields where the study differs from `expected`."""
    state = study_state(study, expected)
    return [FIELD_NAMES.get(name, name) for name in expected if state[name] != expected[name]]


def shows(study: Study, expected: Expected) -> bool:
    return study_state(study, expected) == dict(expected)


def state_digest(expected: Expected) -> str:
    """A one-way digest of an expected state: it confirms a match, it reveals no value."""
    canonical = json.dumps(dict(expected), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_back(
    error: OutcomeUnknown,
    read: Callable[[], Study],
    expected: Expected,
    *,
    on_other: Callable[[Study], None] | None = None,
) -> Study:
    """The study as `read` returns it once it shows `expected`; see the module docstring.
    `read` raising NotFound counts as "not there (yet)". `on_other` is called with a study
    that is there but shows something else (it may raise; a create's duplicate)."""
    client = get_client()
    budget = float(settings.VIEWER_API_READ_BACK_SECONDS)
    deadline = time.monotonic() + budget
    wait, waited = _FIRST_WAIT_SECONDS, 0.0
    while True:
        failed = False
        try:
            study: Study | None = read()
        except NotFound:
            study = None
        except ViewerAPIError:
            failed = True
            study = None
        if study is not None and shows(study, expected):
            logger.info("viewer_api outcome confirmed by reading back: applied")
            return study
        if study is not None and on_other is not None:
            on_other(study)
        if not failed and not error.in_flight:
            logger.info("viewer_api outcome confirmed by reading back: not applied")
            raise NotApplied(error) from error
        # The waits add up to at most the budget, and slow reads cannot stretch it either.
        if waited + wait > budget or time.monotonic() + wait > deadline:
            break
        client.sleep(wait)
        waited += wait
        wait = min(wait * 2, _WAIT_CAP_SECONDS)
    why = "failed" if failed else "unchanged"
    logger.info("viewer_api outcome unconfirmed after reading back (%s)", why)
    raise replace(error, read_back=why) from error
