"""The coordinator's unsent create attempts (the API could not be used when they were sent):
listed with what was typed, each with "Retry" and "Discard". Coordinators only; each sees
only their own."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from studies.http import AuthenticatedRequest
from studies.models import Submission
from studies.roles import coordinator_required
from studies.submissions import (
    AlreadyCreated,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Rejected,
    Unsent,
    submission_data,
    submission_discard,
    submission_retry,
    unsent_submissions,
)
from studies.viewer_api import StudyCreate


@dataclass(frozen=True)
class UnsentRow:
    """One unsent attempt, as the page shows it."""

    submission: Submission
    data: StudyCreate

    @property
    def severity(self) -> str:
        return self.data.severity.value

    @property
    def metadata(self) -> dict[str, str]:
        return self.data.metadata or {}


@coordinator_required
@require_GET
def unsent_list(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/unsent/`: the signed-in coordinator's unsent attempts, newest first."""
    rows = [
        UnsentRow(submission=submission, data=submission_data(submission))
        for submission in unsent_submissions(user=request.user)
    ]
    return TemplateResponse(request, "studies/unsent.html", {"rows": rows})


def _form_url(submission: Submission) -> str:
    """The full form, pre-filled with the attempt (and its token, so sending it from there
    still cannot create a second study). Metadata has to be entered again."""
    data = submission_data(submission)
    values = {
        "token": str(submission.token),
        "severity": data.severity.value,
        "study_description": data.study_description,
        "study_instance_uid": data.study_instance_uid,
        "assigned_to": data.assigned_to or "",
        "express_customer_id": data.express_customer_id or "",
    }
    return reverse("study_create") + "?" + urlencode({k: v for k, v in values.items() if v})


@coordinator_required
@require_POST
def unsent_retry(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/retry/`: send the attempt again, through the same code path and
    with the same token as the form, so it can never make a second study."""
    outcome = submission_retry(user=request.user, submission_id=submission_id)
    match outcome:
        case None:
            messages.info(request, "This attempt is no longer in the unsent list.")
        case Created(study=study):
            messages.success(request, f"Study created: {study.study_description}.")
            return redirect("study_detail", study_id=study.study_id)
        case AlreadyCreated(study_id=study_id):
            messages.info(request, "This attempt had already created its study; here it is.")
            return redirect("study_detail", study_id=study_id)
        case Duplicate(existing=existing):
            messages.info(
                request,
                "A study with this Study Instance UID already exists, so nothing new was "
                "created. Here it is.",
            )
            return redirect("study_detail", study_id=existing.study_id)
        case Rejected(submission=submission):
            url = _form_url(submission)
            messages.error(
                request,
                format_html(
                    'The Viewer API did not accept this attempt: {} <a href="{}">Open it in the '
                    "form</a> to correct it (metadata has to be entered again).",
                    _rejection_text(outcome),
                    url,
                ),
            )
        case Unsent(message=message):
            messages.error(request, f"The study still could not be sent. {message}")
        case InProgress(message=message) | Expired(message=message):
            messages.warning(request, message)
    return redirect("unsent_list")


def _rejection_text(outcome: Rejected) -> str:
    details = [
        f"{name.replace('_', ' ')}: {message}"
        for name, messages_ in outcome.field_errors.items()
        for message in messages_
    ]
    return " ".join([outcome.message, *details])


@coordinator_required
@require_POST
def unsent_discard(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/discard/`: give the attempt up (it stays recorded, as discarded)."""
    if submission_discard(user=request.user, submission_id=submission_id):
        messages.success(request, "The unsent study was discarded.")
    else:
        messages.info(request, "This attempt is no longer in the unsent list.")
    return redirect("unsent_list")
