"""The coordinator's unsent create attempts (the API could not be used when they were sent):
listed with what was typed, each with "Retry" and "Discard". Coordinators only; each sees
only their own."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from studies.http import AuthenticatedRequest
from studies.models import Submission
from studies.roles import coordinator_required
from studies.submissions import (
    submission_data,
    submission_discard,
    submission_retry,
    unsent_submissions,
)
from studies.viewer_api import StudyCreate
from studies.views.outcomes import NO_LONGER_UNSENT, after_retry


@dataclass(frozen=True)
class UnsentRow:
    """One unsent attempt, as the page shows it."""

    submission: Submission
    data: StudyCreate


@coordinator_required
@require_GET
def unsent_list(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/unsent/`: the signed-in coordinator's unsent attempts, newest first."""
    rows = [
        UnsentRow(submission=submission, data=submission_data(submission))
        for submission in unsent_submissions(user=request.user)
    ]
    return TemplateResponse(request, "studies/unsent.html", {"rows": rows})


@coordinator_required
@require_POST
def unsent_retry(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/retry/`: send the attempt again, through the same code path and
    with the same token as the form, so it can never make a second study."""
    return after_retry(request, submission_retry(user=request.user, submission_id=submission_id))


@coordinator_required
@require_POST
def unsent_discard(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/discard/`: give the attempt up (it stays recorded, as discarded)."""
    if submission_discard(user=request.user, submission_id=submission_id):
        messages.success(request, "The unsent study was discarded.")
    else:
        messages.info(request, NO_LONGER_UNSENT)
    return redirect("unsent_list")
