"""Studies (§6): create (never sent twice), read, update, list, cancel, uncancel, open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from studies.viewer_api.client import call, get_client
from studies.viewer_api.exceptions import Conflict, NotFound, OutcomeUnknown, ViewerAPIError
from studies.viewer_api.pagination import fetch_page, walk
from studies.viewer_api.params import StudyCreate, StudyFilters, StudyUpdate
from studies.viewer_api.parsing import Model, parse
from studies.viewer_api.responses import ActionResult, Page, Study, UrlResult
from studies.viewer_api.transport import ViewerAPI, logger

_STUDY: Final = "/v1/viewer/studies/{studyId}"
_STUDY_NOT_FOUND: Final = (
    "The Viewer API has no such study. It may have been removed, or the link is out of date."
)
# When a create may still be running on the API, the UID is looked up again after these waits
# while the API says it does not know it yet.
_RECOVERY_WAITS: Final = (0.5, 1.5)


def study_create(*, data: StudyCreate) -> Study:
    """Create a study. Never sends twice: when the outcome is unknown (timeout after sending,
    dropped connection, 408/5xx) it looks the UID up, and a study with the submitted values is
    the result; otherwise the original error stands. A duplicate UID raises Conflict carrying
    the existing study (other conflicts keep the API's message and carry none)."""
    client = get_client()
    try:
        body = client.request("POST", "/v1/viewer/studies", json=data.wire())
    except OutcomeUnknown as exc:
        found = _recover_created(client, data, in_flight=exc.in_flight)
        if found is None:
            raise
        logger.info("viewer_api create outcome recovered by UID lookup")
        return found
    except Conflict as exc:
        existing = _find_by_uid(data.study_instance_uid)
        if existing is None:
            raise
        raise Conflict(
            "A study with this Study Instance UID already exists.",
            existing=existing,
            status_code=exc.status_code,
            code=exc.code,
            body=exc.body,
        ) from None
    return parse(Study, body)


def _recover_created(client: ViewerAPI, data: StudyCreate, *, in_flight: bool) -> Study | None:
    """The study this create made, if a lookup by UID finds it with the submitted values."""
    for wait in (0.0, *(_RECOVERY_WAITS if in_flight else ())):
        if wait:
            client.sleep(wait)
        try:
            found = study_get_by_uid(study_instance_uid=data.study_instance_uid)
        except NotFound:
            continue
        except ViewerAPIError:
            return None
        return found if _matches(found, data) else None
    return None


def _find_by_uid(study_instance_uid: str) -> Study | None:
    try:
        return study_get_by_uid(study_instance_uid=study_instance_uid)
    except ViewerAPIError:
        return None


def _matches(study: Study, data: StudyCreate) -> bool:
    """Whether a study found by UID is the one this create asked for (a new study is never
    cancelled; every submitted value must be there, unsent optional ones empty)."""
    return (
        not study.is_cancelled
        and study.severity == data.severity
        and study.study_description == data.study_description
        and (study.assigned_to.user_id if study.assigned_to else None) == data.assigned_to
        and (study.express_customer.express_customer_id if study.express_customer else None)
        == data.express_customer_id
        and (study.metadata or {}) == (data.metadata or {})
    )


def study_get(*, study_id: str) -> Study:
    return call(Study, "GET", _STUDY, path_params={"studyId": study_id}, not_found=_STUDY_NOT_FOUND)


def study_get_by_uid(*, study_instance_uid: str) -> Study:
    return call(
        Study,
        "GET",
        "/v1/viewer/studies/by-uid/{studyInstanceUid}",
        path_params={"studyInstanceUid": study_instance_uid},
        not_found="The Viewer API has no study with this Study Instance UID.",
    )


def study_update(*, study_id: str, changes: StudyUpdate) -> Study:
    body = changes.wire()
    path_params = {"studyId": study_id}
    return call(
        Study, "PATCH", _STUDY, path_params=path_params, json=body, not_found=_STUDY_NOT_FOUND
    )


def study_list(*, filters: StudyFilters | None = None, cursor: str | None = None) -> Page[Study]:
    return fetch_page(
        "/v1/viewer/studies", "studies", Page[Study], filters or StudyFilters(), cursor
    )


def study_pages(*, filters: StudyFilters | None = None) -> Iterator[Page[Study]]:
    """Every page of the list, sending the original filters with each cursor (§5)."""
    return walk(lambda cursor: study_list(filters=filters, cursor=cursor))


def _study_action(model: type[Model], path: str, study_id: str) -> Model:
    return call(model, "POST", path, json={"studyId": study_id}, not_found=_STUDY_NOT_FOUND)


def study_cancel(*, study_id: str) -> ActionResult:
    return _study_action(ActionResult, "/v1/viewer/studies/cancel", study_id)


def study_uncancel(*, study_id: str) -> ActionResult:
    return _study_action(ActionResult, "/v1/viewer/studies/uncancel", study_id)


def study_viewer_url(*, study_id: str) -> str:
    """A one-off link that opens the study in the Avara Viewer (§6.7). Never cache it."""
    return _study_action(UrlResult, "/v1/viewer/studies/reroute-url", study_id).url
