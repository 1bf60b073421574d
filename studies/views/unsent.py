"""The coordinator's unsent create attempts (the API could not be used when they were sent):
listed with what was typed, each with "Retry" and "Discard". Coordinators only; each sees
only their own."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studies import viewer_api
from studies.http import AuthenticatedRequest
from studies.models import Submission
from studies.roles import coordinator_required
from studies.submissions import (
    submission_data,
    submission_discard,
    submission_retry,
    unsent_submission,
    unsent_submissions,
)
from studies.viewer_api import StudyCreate, ViewerAPIError
from studies.views.outcomes import NO_LONGER_UNSENT, after_retry


@dataclass(frozen=True)
class UnsentRow:
    """One unsent attempt, as the page shows it: the assignee and Express customer by name
    when the cached lists know them (their ids otherwise)."""

    submission: Submission
    data: StudyCreate
    assignee_name: str = ""
    customer_name: str = ""


def _user_name(user_id: str) -> str:
    try:
        user = viewer_api.user_get_cached(user_id=user_id)
    except ViewerAPIError:
        return ""
    return user.display_name or user.email


def _customer_names() -> dict[str, str]:
    try:
        customers = viewer_api.customers_all()
    except ViewerAPIError:
        return {}
    return {customer.express_customer_id: customer.express_customer_name for customer in customers}


def unsent_rows(submissions: list[Submission]) -> list[UnsentRow]:
    """The attempts as the page shows them (one cached look-up per distinct assignee)."""
    data = [submission_data(submission) for submission in submissions]
    customers = _customer_names() if any(item.express_customer_id for item in data) else {}
    users = {item.assigned_to: _user_name(item.assigned_to) for item in data if item.assigned_to}
    return [
        UnsentRow(
            submission=submission,
            data=item,
            assignee_name=users.get(item.assigned_to or "", ""),
            customer_name=customers.get(item.express_customer_id or "", ""),
        )
        for submission, item in zip(submissions, data, strict=True)
    ]


@coordinator_required
@require_GET
def unsent_list(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/unsent/`: the signed-in coordinator's unsent attempts, newest first."""
    rows = unsent_rows(unsent_submissions(user=request.user))
    return TemplateResponse(request, "studies/unsent.html", {"rows": rows})


@coordinator_required
@require_POST
def unsent_retry(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/retry/`: send the attempt again, through the same code path and
    with the same token as the form, so it can never make a second study."""
    return after_retry(request, submission_retry(user=request.user, submission_id=submission_id))


@coordinator_required
@require_http_methods(["GET", "POST"])
def unsent_discard(request: AuthenticatedRequest, submission_id: int) -> HttpResponse:
    """`/studies/unsent/<id>/discard/`: GET asks for confirmation (what would be given up);
    POST gives the attempt up (it stays recorded, as discarded)."""
    if request.method == "GET":
        submission = unsent_submission(user=request.user, submission_id=submission_id)
        if submission is None:
            messages.info(request, NO_LONGER_UNSENT)
            return redirect("unsent_list")
        context = {"row": unsent_rows([submission])[0]}
        return TemplateResponse(request, "studies/unsent_discard.html", context)
    if submission_discard(user=request.user, submission_id=submission_id):
        messages.success(request, "The unsent study was discarded. Nothing was sent.")
    else:
        messages.info(request, NO_LONGER_UNSENT)
    return redirect("unsent_list")
