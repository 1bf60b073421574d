"""The study detail page (with its history), and the look-ups by Study Instance UID."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from studies import viewer_api
from studies.audit import creator, study_history
from studies.forms import is_study_id
from studies.viewer_api import NotFound, Study, ViewerAPIError, dicom_uid_problem
from studies.views.errors import APIUnavailable, StudyNotFound

# Longer than any UID; a pasted paragraph is cut before it reaches a page or the API.
_LOOKUP_MAX_LENGTH = 200


def fetch_study(study_id: str) -> Study:
    """The study as the API returns it now. Raises `StudyNotFound` (without asking the API
    about a malformed id) or `APIUnavailable`: their pages say why there is none."""
    if not is_study_id(study_id):
        raise StudyNotFound("This is not a study address Viewer Admin knows.")
    try:
        return viewer_api.study_get(study_id=study_id)
    except NotFound as exc:
        raise StudyNotFound(exc.message) from exc
    except ViewerAPIError as exc:
        raise APIUnavailable(exc) from exc


@require_GET
def study_detail(request: HttpRequest, study_id: str) -> HttpResponse:
    """`/studies/<study_id>/`: the study as the API returns it, and what Viewer Admin's users
    did to it (the audit trail)."""
    study = fetch_study(study_id)
    # Reading the history is a later read of the study: it completes unconfirmed entries.
    history = study_history(study_id=study.study_id, read=study)
    context = {"study": study, "history": history, "creator": creator(history)}
    return TemplateResponse(request, "studies/study_detail.html", context)


def _found_by_uid(study_instance_uid: str) -> HttpResponse:
    """Redirect to the study with this UID, or raise what says plainly why there is none."""
    problem = dicom_uid_problem(study_instance_uid)
    if problem:
        raise StudyNotFound(problem, uid=study_instance_uid, title="Not a Study Instance UID")
    try:
        study = viewer_api.study_get_by_uid(study_instance_uid=study_instance_uid)
    except NotFound as exc:
        raise StudyNotFound(
            "No study has this Study Instance UID.", uid=study_instance_uid, offer_create=True
        ) from exc
    except ViewerAPIError as exc:
        raise APIUnavailable(exc, uid=study_instance_uid) from exc
    return redirect("study_detail", study_id=study.study_id)


@require_GET
def study_by_uid(request: HttpRequest, study_instance_uid: str) -> HttpResponse:
    """`/studies/by-uid/<uid>/`: redirect to the detail page of the study with this UID."""
    return _found_by_uid(study_instance_uid)


@require_GET
def study_lookup(request: HttpRequest) -> HttpResponse:
    """`/studies/lookup/?uid=…`: the header's look-up box. Found → the detail page; otherwise
    a page that says why, with the UID still in the box."""
    uid = request.GET.get("uid", "").strip()[:_LOOKUP_MAX_LENGTH]
    if not uid:
        raise StudyNotFound(
            "Enter a Study Instance UID to look a study up.",
            title="Enter a Study Instance UID",
        )
    return _found_by_uid(uid)
