"""Studies (§6): create (never sent twice), read, update, list, cancel, uncancel, open.

Every mutating call whose answer is lost reads the study back before it returns or raises
(`studies.viewer_api.readback`): the result is what the API really did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from studies.viewer_api.client import get_client
from studies.viewer_api.exceptions import Conflict, OutcomeUnknown, ViewerAPIError
from studies.viewer_api.pagination import fetch_page, walk
from studies.viewer_api.params import StudyCreate, StudyFilters, StudyUpdate
from studies.viewer_api.parsing import parse, parse_mutation
from studies.viewer_api.readback import expected_create, expected_update, read_back
from studies.viewer_api.responses import ActionResult, Page, Study, UrlResult
from studies.viewer_api.transport import logger

_STUDY_NOT_FOUND: Final = (
    "The Viewer API has no such study. It may have been removed, or the link is out of date."
)
DUPLICATE_UID: Final = "A study with this Study Instance UID already exists."


def study_create(*, data: StudyCreate) -> Study:
    """Create a study. Never sends twice: when the outcome is unknown (timeout after sending,
    dropped connection, 408/5xx, an unreadable answer) it reads the UID back (`read_back`): a
    study with the submitted values is the result, one with other values a duplicate, none a
    `NotApplied` once the API has finished with the call; otherwise `OutcomeUnknown`. A
    duplicate UID raises Conflict carrying the existing study (other conflicts keep the API's
    message and carry none)."""
    # A study this call just made is not cancelled: a cancelled one was there before.
    expected = {**expected_create(data), "isCancelled": False}
    try:
        return parse_mutation(
            Study, get_client().request("POST", "/v1/viewer/studies", json=data.wire())
        )
    except OutcomeUnknown as exc:
        lost = exc

        def other(existing: Study) -> None:
            raise _duplicate(existing, lost) from lost

        return read_back(
            lost, lambda: _get_by_uid(data.study_instance_uid), expected, on_other=other
        )
    except Conflict as exc:
        existing = _find_by_uid(data.study_instance_uid)
        if existing is None:
            raise
        raise _duplicate(existing, exc) from None


def _duplicate(existing: Study, cause: ViewerAPIError) -> Conflict:
    return Conflict(
        DUPLICATE_UID,
        existing=existing,
        status_code=cause.status_code,
        code=cause.code,
        body=cause.body,
    )


def _find_by_uid(study_instance_uid: str) -> Study | None:
    try:
        return study_get_by_uid(study_instance_uid=study_instance_uid)
    except ViewerAPIError:
        return None


_BY_ID: Final = "/v1/viewer/studies/{studyId}"
_BY_UID: Final = "/v1/viewer/studies/by-uid/{studyInstanceUid}"
_UID_NOT_FOUND: Final = "The Viewer API has no study with this Study Instance UID."


def _read(template: str, key: str, value: str, not_found: str, *, retry: bool = True) -> Study:
    """One study by id or UID; `retry=False` for a read-back (one attempt: `read_back` backs
    off itself)."""
    body = get_client().request(
        "GET", template, path_params={key: value}, not_found=not_found, retry=retry
    )
    return parse(Study, body)


def _get_by_uid(study_instance_uid: str) -> Study:
    return _read(_BY_UID, "studyInstanceUid", study_instance_uid, _UID_NOT_FOUND, retry=False)


def _get(study_id: str) -> Study:
    return _read(_BY_ID, "studyId", study_id, _STUDY_NOT_FOUND, retry=False)


def study_get(*, study_id: str) -> Study:
    return _read(_BY_ID, "studyId", study_id, _STUDY_NOT_FOUND)


def study_get_by_uid(*, study_instance_uid: str) -> Study:
    return _read(_BY_UID, "studyInstanceUid", study_instance_uid, _UID_NOT_FOUND)


def study_update(*, study_id: str, changes: StudyUpdate) -> Study:
    """Apply `changes`; an unknown outcome is read back (`NotApplied` / `OutcomeUnknown`)."""
    try:
        body = get_client().request(
            "PATCH",
            _BY_ID,
            path_params={"studyId": study_id},
            json=changes.wire(),
            not_found=_STUDY_NOT_FOUND,
        )
        return parse_mutation(Study, body)
    except OutcomeUnknown as exc:
        return read_back(exc, lambda: _get(study_id), expected_update(changes))


def study_list(*, filters: StudyFilters | None = None, cursor: str | None = None) -> Page[Study]:
    return fetch_page(
        "/v1/viewer/studies", "studies", Page[Study], filters or StudyFilters(), cursor
    )


def study_pages(*, filters: StudyFilters | None = None) -> Iterator[Page[Study]]:
    """Every page of the list, sending the original filters with each cursor (§5)."""
    return walk(lambda cursor: study_list(filters=filters, cursor=cursor))


def _study_action(path: str, study_id: str) -> Any:
    return get_client().request(
        "POST", path, json={"studyId": study_id}, not_found=_STUDY_NOT_FOUND
    )


def _set_cancelled(path: str, study_id: str, *, cancelled: bool) -> ActionResult:
    try:
        return parse_mutation(ActionResult, _study_action(path, study_id))
    except OutcomeUnknown as exc:
        read_back(exc, lambda: _get(study_id), {"isCancelled": cancelled})
        return ActionResult(success=True)


def study_cancel(*, study_id: str) -> ActionResult:
    """Cancel; an unknown outcome is read back (`NotApplied` / `OutcomeUnknown`)."""
    return _set_cancelled("/v1/viewer/studies/cancel", study_id, cancelled=True)


def study_uncancel(*, study_id: str) -> ActionResult:
    """Uncancel; an unknown outcome is read back (`NotApplied` / `OutcomeUnknown`)."""
    return _set_cancelled("/v1/viewer/studies/uncancel", study_id, cancelled=False)


def study_viewer_url(*, study_id: str) -> str:
    """A one-off link that opens the study in the Avara Viewer (§6.7). Never cache it. Asking
    for a link changes nothing in the study, so when an answer is lost it is asked for once
    more (a link that was made but never arrived is simply never used)."""
    path = "/v1/viewer/studies/reroute-url"
    try:
        return parse_mutation(UrlResult, _study_action(path, study_id)).url
    except OutcomeUnknown:
        logger.info("viewer_api reroute-url answer lost; asking once more")
        return parse_mutation(UrlResult, _study_action(path, study_id)).url
