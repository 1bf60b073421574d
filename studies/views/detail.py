"""The study detail page, and the look-up by Study Instance UID that leads to it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from pydantic import TypeAdapter, ValidationError

from studies import viewer_api
from studies.viewer_api import NotFound, ViewerAPIError, dicom_uid_problem

_STUDY_ID = TypeAdapter(viewer_api.StudyId)


def _is_study_id(value: str) -> bool:
    try:
        _STUDY_ID.validate_python(value)
    except ValidationError:
        return False
    return True


def study_not_found(request: HttpRequest, message: str, *, uid: str = "") -> TemplateResponse:
    """The 404 page for a study the API does not know, with the way back to the worklist."""
    return TemplateResponse(
        request, "studies/study_not_found.html", {"message": message, "uid": uid}, status=404
    )


def api_unavailable(request: HttpRequest, error: ViewerAPIError) -> TemplateResponse:
    """The page for "the API could not be asked": a banner and a retry link, status 503."""
    return TemplateResponse(
        request,
        "studies/api_unavailable.html",
        {"message": error.message, "retry_url": request.get_full_path()},
        status=503,
    )


@require_GET
def study_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    """`/studies/<study_id>/`: the study as the API returns it."""
    if not _is_study_id(study_id):
        return study_not_found(request, "This is not a study address Viewer Admin knows.")
    try:
        study = viewer_api.study_get(study_id=study_id)
    except NotFound as exc:
        return study_not_found(request, exc.message)
    except ViewerAPIError as exc:
        return api_unavailable(request, exc)
    return TemplateResponse(request, "studies/study_detail.html", {"study": study})


@require_GET
def study_by_uid(request: HttpRequest, study_instance_uid: str) -> HttpResponse:
    """`/studies/by-uid/<uid>/`: redirect to the detail page of the study with this UID."""
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
        return api_unavailable(request, exc)
    return redirect("study_detail", study_id=study.study_id)
