"""The study detail page (with its history), and the look-ups by Study Instance UID."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from pydantic import TypeAdapter, ValidationError

from studies import viewer_api
from studies.audit import study_history
from studies.viewer_api import NotFound, Study, ViewerAPIError, dicom_uid_problem

_STUDY_ID = TypeAdapter(viewer_api.StudyId)
# Longer than any UID; a pasted paragraph is cut before it reaches a page or the API.
_LOOKUP_MAX_LENGTH = 200


def _is_study_id(value: str) -> bool:
    try:
        _STUDY_ID.validate_python(value)
    except ValidationError:
        return False
    return True


def study_not_found(request: HttpRequest, message: str, *, uid: str = "") -> TemplateResponse:
    """The 404 page for a study the API does not know, with the way back to the worklist. A
    looked-up `uid` is shown, and kept in the header's look-up box."""
    context = {"message": message, "uid": uid, "lookup_uid": uid}
    return TemplateResponse(request, "studies/study_not_found.html", context, status=404)


def api_unavailable(request: HttpRequest, error: ViewerAPIError) -> TemplateResponse:
    """The page for "the API could not be asked": a banner and a retry link, status 503."""
    return TemplateResponse(
        request,
        "studies/api_unavailable.html",
        {"message": error.message, "retry_url": request.get_full_path()},
        status=503,
    )


def fetch_study(study_id: str) -> Study:
    """The study as the API returns it now; NotFound without asking for a malformed id."""
    if not _is_study_id(study_id):
        raise NotFound("This is not a study address Viewer Admin knows.")
    return viewer_api.study_get(study_id=study_id)


def load_study(request: HttpRequest, study_id: str) -> Study | TemplateResponse:
    """The study as the API returns it now, or the page that says why there is none."""
    try:
        return fetch_study(study_id)
    except NotFound as exc:
        return study_not_found(request, exc.message)
    except ViewerAPIError as exc:
        return api_unavailable(request, exc)


@require_GET
def study_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    """`/studies/<study_id>/`: the study as the API returns it, and what Viewer Admin's users
    did to it (the audit trail)."""
    study = load_study(request, study_id)
    if isinstance(study, HttpResponse):
        return study
    context = {"study": study, "history": study_history(study_id=study.study_id)}
    return TemplateResponse(request, "studies/study_detail.html", context)


def _found_by_uid(request: HttpRequest, study_instance_uid: str) -> HttpResponse:
    """Redirect to the study with this UID, or say plainly why there is none."""
    problem = dicom_uid_problem(study_instance_uid)
    if problem:
        return study_not_found(request, problem, uid=study_instance_uid)
    try:
        study = viewer_api.study_get_by_uid(study_instance_uid=study_instance_uid)
    except NotFound:
        return study_not_found(
            request, "No study has this Study Instance UID.", uid=study_instance_uid
        )
    except ViewerAPIError as exc:
        response = api_unavailable(request, exc)
        response.context_data["lookup_uid"] = study_instance_uid  # type: ignore[index]  # built with a dict
        return response
    return redirect("study_detail", study_id=study.study_id)


@require_GET
def study_by_uid(request: HttpRequest, study_instance_uid: str) -> HttpResponse:
    """`/studies/by-uid/<uid>/`: redirect to the detail page of the study with this UID."""
    return _found_by_uid(request, study_instance_uid)


@require_GET
def study_lookup(request: HttpRequest) -> HttpResponse:
    """`/studies/lookup/?uid=…`: the header's look-up box. Found → the detail page; otherwise
    a page that says why, with the UID still in the box."""
    uid = request.GET.get("uid", "").strip()[:_LOOKUP_MAX_LENGTH]
    if not uid:
        return study_not_found(request, "Enter a Study Instance UID to look a study up.")
    return _found_by_uid(request, uid)
