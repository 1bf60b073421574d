"""How the outcomes of a create attempt are shown: the one place that turns what
`studies.submissions` returns into messages, field errors and banners, for the full form, the
worklist's quick-create (over htmx or as a plain post) and the retry of an unsent attempt.
It also holds the one wording of an outcome nobody could establish ("We could not confirm
whether … — check the study"), which the changes to a study (`studies.views.manage`) use too.
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
    ChangedAfterCreate,
    ConfirmedLater,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Outcome,
    Rejected,
    Unconfirmed,
    Unsent,
    submission_data,
)
from studies.viewer_api import Conflict, InvalidRequest, OutcomeUnknown, Study, StudyCreate

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


# --- Unknown outcomes: the one wording, for creates and for changes to a study -------------


def unconfirmed_title(what: str) -> str:
    """E.g. "We could not confirm whether the study was cancelled — check the study"."""
    return f"We could not confirm whether {what} — check the study."


def _read_back_note(error: OutcomeUnknown) -> str:
    if error.read_back == "failed":
        return "Reading the study back did not work either."
    return "Reading the study back does not show it yet; the Viewer API may still be at it."


def unconfirmed_text(error: OutcomeUnknown, *, study_id: str, kept: str = "") -> str:
    """The detail under `unconfirmed_title` for a change to a study, with the link to it."""
    return format_html(
        '{} {} <a href="{}">Check the study</a> before trying again.{}',
        error.message,
        _read_back_note(error),
        reverse("study_detail", kwargs={"study_id": study_id}),
        f" {kept}" if kept else "",
    )


def unconfirmed_create_text(uid: str, error: OutcomeUnknown) -> str:
    return format_html(
        '{} {} <a href="{}">Look the study up by its UID</a>. Your entries are kept, and this '
        "attempt is listed under Unsent: sending it again finds out, and can never create a "
        "second study.",
        error.message,
        _read_back_note(error),
        reverse("study_by_uid", kwargs={"study_instance_uid": uid}),
    )


UNCONFIRMED_CREATE = unconfirmed_title("the study was created")
CONFIRMED_LATER = "The study was created (confirmed later)"
CHANGED_AFTER_CREATE = "This form had already created a study; what you changed has not been sent."


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


def _confirmed_later(request: HttpRequest, study: Study) -> HttpResponse:
    messages.success(
        request,
        f"{CONFIRMED_LATER}: {study.study_description}, {assignee_words(study)}. An earlier "
        "attempt had created it; nothing new was created.",
    )
    return redirect("study_detail", study_id=study.study_id)


def _duplicate_text(differs: tuple[str, ...]) -> str:
    if not differs:
        return "It has the same values as what you entered."
    return f"It differs from what you entered in: {', '.join(differs)}."


def _changed_text(study_id: str) -> str:
    return format_html(
        'The study it created is <a href="{}">here</a> (edit it there to change it). Your new '
        "entries are kept below: send the form again to create them as a new study.",
        reverse("study_detail", kwargs={"study_id": study_id}),
    )


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
        case ChangedAfterCreate(study_id=study_id):
            # The new input stays, under a fresh token, so sending it is a new attempt.
            banner = Banner("warning", CHANGED_AFTER_CREATE, _changed_text(study_id))
            fresh = unbound_copy(form, fresh_token=True)
            return OnForm(fresh, banner=banner, created_id=study_id if inline else None)
        case ConfirmedLater(study=study):
            if inline:
                banner = Banner(
                    "success",
                    f"{CONFIRMED_LATER}: {study.study_description}, {assignee_words(study)}.",
                )
                fresh = type(form)(prefix=form.prefix)
                return OnForm(fresh, banner=banner, created_id=study.study_id)
            return _confirmed_later(request, study)
        case Duplicate(error=error, existing=existing, differs=differs):
            form.add_error("study_instance_uid", f"{error.message} {_duplicate_text(differs)}")
            form.add_error("study_instance_uid", _existing_study_link(existing))
            return OnForm(form)
        case Unconfirmed(submission=submission, error=error):
            text = unconfirmed_create_text(submission.study_instance_uid, error)
            return OnForm(form, banner=Banner("warning", UNCONFIRMED_CREATE, text))
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
        case AlreadyCreated(study_id=study_id) | ChangedAfterCreate(study_id=study_id):
            messages.info(request, "This attempt had already created its study; here it is.")
            return redirect("study_detail", study_id=study_id)
        case ConfirmedLater(study=study):
            return _confirmed_later(request, study)
        case Duplicate(existing=existing, differs=differs):
            messages.info(
                request,
                "A study with this Study Instance UID already exists, so nothing new was "
                f"created. {_duplicate_text(differs)} Here it is.",
            )
            return redirect("study_detail", study_id=existing.study_id)
        case Unconfirmed(submission=submission, error=error):
            messages.warning(
                request,
                format_html(
                    "{} {}",
                    UNCONFIRMED_CREATE,
                    unconfirmed_create_text(submission.study_instance_uid, error),
                ),
            )
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
