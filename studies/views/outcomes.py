"""How the outcomes of a create attempt are shown: the one place that turns what
`studies.submissions` returns into messages, field errors and banners, for the full form, the
worklist's quick-create (over htmx or as a plain post) and the retry of an unsent attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from studies.forms import (
    EXPIRED,
    BaseMetadataFormSet,
    StudyBaseForm,
    StudyFieldsForm,
    study_form_url,
    unbound_copy,
)
from studies.submissions import (
    AlreadyCreated,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Outcome,
    Rejected,
    Unsent,
    submission_data,
)
from studies.viewer_api import Conflict, InvalidRequest, Study, StudyCreate

FormT = TypeVar("FormT", bound=StudyBaseForm)

NOT_CREATED = "The study was not created."
IN_PROGRESS = (
    "This form is still being sent from an earlier click. Check the worklist in a moment "
    "before sending it again."
)
NO_LONGER_UNSENT = "This attempt is no longer in the unsent list."


@dataclass(frozen=True)
class Banner:
    """A message above a form; `level` is one of the banner--* styles."""

    level: str
    title: str
    text: str = ""
    link_url: str = ""  # a link after the text, e.g. to the unsent studies
    link_text: str = ""


@dataclass(frozen=True)
class OnForm(Generic[FormT]):
    """The form to show again for an outcome that keeps the coordinator on it: `form` (with
    the errors added, or a fresh one), a `banner` above it, and, for the quick-create over
    htmx, the study it `created` (or the id of the one an earlier click created)."""

    form: FormT
    banner: Banner | None = None
    created: Study | None = None
    created_id: str | None = None
    assignee: str = ""  # with `created`: who it went to, as `assignee_words` says it


def assignee_words(study: Study, form: StudyFieldsForm | None = None) -> str:
    """Who the new study went to, always said: "assigned to Nikhil Patel" (with why, when
    the form chose the one user its search named) or "unassigned"."""
    if study.assigned_to is None:
        return "unassigned"
    words = f"assigned to {study.assigned_to.display_name}"
    if form is not None and form.resolved_assignee is not None:
        words += f" (the one user named “{form.assignee_query_text()}”)"
    return words


def _created(
    request: HttpRequest, study: Study, form: StudyFieldsForm | None = None
) -> HttpResponse:
    messages.success(
        request, f"Study created: {study.study_description}, {assignee_words(study, form)}."
    )
    return redirect("study_detail", study_id=study.study_id)


def _existing_study_link(study: Study) -> str:
    return format_html(
        '<a href="{}">Open the existing study: {}</a>',
        reverse("study_detail", kwargs={"study_id": study.study_id}),
        study.study_description,
    )


def on_form(
    request: HttpRequest,
    outcome: Outcome,
    form: FormT,
    *,
    metadata: BaseMetadataFormSet | None = None,
    quick: bool = False,
) -> HttpResponse | OnForm[FormT]:
    """The answer to a form's create attempt: a redirect to the study (with its message), or
    how to show the form again. `quick` is the worklist's quick-create: over htmx it stays on
    the worklist after a success too, and its banners speak of what it keeps."""
    inline = quick and bool(getattr(request, "htmx", False))
    match outcome:
        case Created(study=study):
            if inline:
                fresh = type(form)(prefix=form.prefix)
                return OnForm(fresh, created=study, assignee=assignee_words(study, form))
            return _created(request, study, form)
        case AlreadyCreated(study_id=study_id):
            if inline:
                banner = Banner("info", "This form had already been sent; it created this study.")
                return OnForm(type(form)(prefix=form.prefix), banner=banner, created_id=study_id)
            messages.info(request, "This form had already been sent; here is the study it created.")
            return redirect("study_detail", study_id=study_id)
        case Duplicate(error=error, existing=existing):
            form.add_error("study_instance_uid", error.message)
            form.add_error("study_instance_uid", _existing_study_link(existing))
            return OnForm(form)
        case Rejected(error=error):
            form.add_api_errors(error, metadata=metadata)
            return OnForm(form)
        case Unsent(error=error):
            if quick:
                kept = (
                    "Your entries are kept, and this attempt is saved as unsent so it can be "
                    "sent again later."
                )
            else:
                kept = (
                    "What you entered is kept, and this attempt is saved as unsent so it can "
                    "also be sent again later."
                )
            banner = Banner(
                "error",
                NOT_CREATED,
                f"{error.message} {kept}",
                link_url=reverse("unsent_list"),
                link_text="See the unsent studies",
            )
            return OnForm(form, banner=banner)
        case InProgress():
            return OnForm(form, banner=Banner("warning", IN_PROGRESS))
        case Expired():
            return OnForm(unbound_copy(form, fresh_token=True), banner=Banner("warning", EXPIRED))
    raise AssertionError(outcome)  # pragma: no cover - every outcome is handled above


def after_retry(request: HttpRequest, outcome: Outcome | None) -> HttpResponse:
    """The answer to "Retry" on the unsent list (None: the attempt is gone): the study, or
    the list again with a message that says how it went."""
    match outcome:
        case None:
            messages.info(request, NO_LONGER_UNSENT)
        case Created(study=study):
            return _created(request, study)
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
        case Rejected(submission=submission, error=error):
            messages.error(
                request,
                format_html(
                    'The Viewer API did not accept this attempt: {} <a href="{}">Open it in the '
                    "form</a> to correct it (metadata has to be entered again).",
                    _rejection_text(error),
                    _retry_form_url(submission_data(submission), token=str(submission.token)),
                ),
            )
        case Unsent(error=error):
            messages.error(request, f"The study still could not be sent. {error.message}")
        case InProgress():
            messages.warning(request, IN_PROGRESS)
        case Expired():
            messages.warning(request, EXPIRED)
    return redirect("unsent_list")


def _rejection_text(error: InvalidRequest | Conflict) -> str:
    field_errors = error.field_errors if isinstance(error, InvalidRequest) else {}
    details = [
        f"{name.replace('_', ' ')}: {text}"
        for name, texts in field_errors.items()
        for text in texts
    ]
    return " ".join([error.message, *details])


def _retry_form_url(data: StudyCreate, *, token: str) -> str:
    """The full form, pre-filled with the attempt (and its token, so sending it from there
    still cannot create a second study). Metadata has to be entered again."""
    return study_form_url(
        {
            "token": token,
            "severity": data.severity.value,
            "study_description": data.study_description,
            "study_instance_uid": data.study_instance_uid,
            "assigned_to": data.assigned_to or "",
            "express_customer_id": data.express_customer_id or "",
        }
    )
