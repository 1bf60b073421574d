"""Changing a study from its detail page: edit, mark complete / reopen, cancel and uncancel
(each behind a confirmation page), and "Open in Viewer". Coordinators only.

Every action first loads the study from the API (a study it does not know is the 404 page
before anything is sent, and the audit entry gets its UID), then makes one audited call
through `studies.lifecycle`. When the call's answer is lost, the service has read the study
back before anything is said: the change was made (the success message), was not
(`NotApplied`: "not saved", which is then true), or nobody can tell yet (`OutcomeUnknown`:
"We could not confirm whether … — check the study", never "not saved").
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from studies import lifecycle, viewer_api
from studies.forms import (
    BaseMetadataFormSet,
    MetadataFormSet,
    StudyEditForm,
    ViewerStatusForm,
    field_labels,
    is_search,
    metadata_formset_initial,
    metadata_formset_unbound,
    unbound_copy,
)
from studies.http import AuthenticatedRequest
from studies.roles import coordinator_required
from studies.viewer_api import (
    InvalidRequest,
    NotApplied,
    NotFound,
    OutcomeUnknown,
    Study,
    ViewerAPIError,
    ViewerStatus,
)
from studies.views.create import study_form_context
from studies.views.detail import fetch_study
from studies.views.errors import APIUnavailable, StudyNotFound
from studies.views.outcomes import Banner, unconfirmed_text, unconfirmed_title

EDIT_TEMPLATE = "studies/study_edit.html"
CONFIRM_TEMPLATE = "studies/study_confirm.html"
OPEN_FAILED_TEMPLATE = "studies/open_failed.html"


# --- Edit ----------------------------------------------------------------------------------------


def _render_edit(
    request: HttpRequest,
    study_id: str,
    study: Study | None,
    form: StudyEditForm,
    metadata: BaseMetadataFormSet,
    *,
    banner: Banner | None = None,
) -> TemplateResponse:
    # Invalid forms come back with 200, like the create form.
    current = study.assigned_to if study else None
    context = study_form_context(form, metadata, banner=banner, current=current)
    context |= {"study_id": study_id, "study": study}
    return TemplateResponse(request, EDIT_TEMPLATE, context)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_edit(request: AuthenticatedRequest, study_id: str) -> HttpResponse:
    """`/studies/<id>/edit/`: severity, description, viewer status, assignee and metadata.

    GET shows the study as the API returns it. POST sends only what was changed (compared with
    what the form showed); its `action` is "save" (the default), or "add_row" /
    "search_assignee" (the no-JavaScript row and assignee buttons)."""
    if request.method == "GET":
        shown = fetch_study(study_id)
        form = StudyEditForm.for_study(shown)
        rows = metadata_formset_initial(shown.metadata)
        metadata = MetadataFormSet(initial=rows)
        metadata.extra = 0 if rows else 1  # existing rows, or one blank row to start
        return _render_edit(request, study_id, shown, form, metadata)

    study: Study | None = None
    unavailable: ViewerAPIError | None = None
    try:
        study = fetch_study(study_id)
    except APIUnavailable as exc:
        unavailable = exc.error  # the form still comes back, with everything typed
    form = StudyEditForm(request.POST, study=study)
    metadata = MetadataFormSet(request.POST)
    action = request.POST.get("action", "save")
    if action == "add_row" or is_search(action, form):
        return _render_edit(
            request,
            study_id,
            study,
            unbound_copy(form),
            metadata_formset_unbound(metadata, add_row=action == "add_row"),
        )
    if not (form.is_valid() and metadata.is_valid()):
        return _render_edit(request, study_id, study, form, metadata)
    if study is None:
        return _render_edit(
            request, study_id, study, form, metadata, banner=_not_saved(unavailable)
        )

    changes = form.study_update(metadata=metadata.metadata())
    if not changes.model_fields_set:
        messages.info(request, "Nothing was changed.")
        return redirect("study_detail", study_id=study_id)
    try:
        updated = lifecycle.study_edit(user=request.user, study=study, changes=changes)
    except NotFound as exc:
        raise StudyNotFound(exc.message) from exc
    except InvalidRequest as exc:
        form.add_api_errors(exc, metadata=metadata)
        return _render_edit(request, study_id, study, form, metadata)
    except OutcomeUnknown as exc:
        text = unconfirmed_text(exc, study_id=study_id, kept="Your changes are kept here.")
        banner = Banner("warning", unconfirmed_title("the changes were saved"), text)
        return _render_edit(request, study_id, study, form, metadata, banner=banner)
    except ViewerAPIError as exc:
        return _render_edit(request, study_id, study, form, metadata, banner=_not_saved(exc))
    changed = field_labels(changes.model_fields_set)
    messages.success(request, f"Study saved. Changed: {changed}.")
    return redirect("study_detail", study_id=updated.study_id)


def _not_saved(error: ViewerAPIError | None) -> Banner:
    message = error.message if error else ViewerAPIError.default_message
    if isinstance(error, NotApplied):
        message = f"{NOT_CHANGED} {message}"
    return Banner("error", "The changes were not saved.", f"{message} Your changes are kept.")


NOT_CHANGED = "Not changed: reading the study back shows it as it was."


def _unconfirmed(request: HttpRequest, error: OutcomeUnknown, study_id: str, what: str) -> None:
    text = unconfirmed_text(error, study_id=study_id)
    messages.warning(request, format_html("{} {}", unconfirmed_title(what), text))


# --- Mark complete / reopen ----------------------------------------------------------------------


@coordinator_required
@require_POST
def study_set_status(request: AuthenticatedRequest, study_id: str) -> HttpResponse:
    """`/studies/<id>/status/`: the one-click "Mark complete" and "Reopen" of the detail page."""
    form = ViewerStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Incomplete or Complete.")
        return redirect("study_detail", study_id=study_id)
    study = fetch_study(study_id)
    status = ViewerStatus(form.cleaned_data["study_viewer_status"])
    if study.study_viewer_status == status:
        messages.info(request, f"The viewer status is already {status.label}.")
        return redirect("study_detail", study_id=study_id)
    changes = viewer_api.StudyUpdate(study_viewer_status=status)
    try:
        lifecycle.study_edit(user=request.user, study=study, changes=changes)
    except OutcomeUnknown as exc:
        _unconfirmed(request, exc, study_id, "the viewer status was changed")
    except NotApplied as exc:
        messages.error(
            request,
            "The viewer status was not changed. Reading the study back shows it as it was. "
            f"{exc.message}",
        )
    except ViewerAPIError as exc:
        messages.error(request, f"The viewer status was not changed. {exc.message}")
    else:
        done = "Marked complete." if status == ViewerStatus.COMPLETE else "Reopened (incomplete)."
        messages.success(request, done)
    return redirect("study_detail", study_id=study_id)


# --- Cancel / uncancel ---------------------------------------------------------------------------


def _confirm(request: AuthenticatedRequest, study_id: str, *, cancel: bool) -> HttpResponse:
    """GET: the confirmation page. POST: the call, then back to the detail page; an error from
    the API is shown on the confirmation page, in its own words."""
    study = fetch_study(study_id)
    context: dict[str, Any] = {
        "study": study,
        "cancel": cancel,
        "applicable": study.is_cancelled != cancel,
        "error": None,
    }
    if request.method == "POST":
        try:
            result = lifecycle.study_set_cancelled(user=request.user, study=study, cancelled=cancel)
        except NotFound as exc:
            raise StudyNotFound(exc.message) from exc
        except OutcomeUnknown as exc:
            what = "the study was cancelled" if cancel else "the study was uncancelled"
            _unconfirmed(request, exc, study_id, what)
            return redirect("study_detail", study_id=study_id)
        except NotApplied as exc:
            context["error"] = f"{NOT_CHANGED} {exc.message}"
        except ViewerAPIError as exc:
            context["error"] = exc.message
        else:
            if cancel and result.message == "already cancelled":
                messages.info(request, "The study was already cancelled.")
            elif cancel:
                messages.success(request, "Study cancelled. It counts as inactive now.")
            else:
                messages.success(request, "Study uncancelled. It is active again.")
            return redirect("study_detail", study_id=study_id)
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_cancel(request: AuthenticatedRequest, study_id: str) -> HttpResponse:
    """`/studies/<id>/cancel/`: confirm, then cancel."""
    return _confirm(request, study_id, cancel=True)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_uncancel(request: AuthenticatedRequest, study_id: str) -> HttpResponse:
    """`/studies/<id>/uncancel/`: confirm, then uncancel."""
    return _confirm(request, study_id, cancel=False)


# --- Open in Viewer ------------------------------------------------------------------------------


@never_cache
@coordinator_required
@require_POST
def study_open(request: AuthenticatedRequest, study_id: str) -> HttpResponse:
    """`/studies/<id>/open/`: ask the API for a one-off Viewer link and redirect there. The
    detail page posts here into a new tab. The link is a credential: it is only ever in this
    response's Location header, which is never cached."""
    study = fetch_study(study_id)
    try:
        url = lifecycle.study_open_in_viewer(user=request.user, study=study)
    except ViewerAPIError as exc:
        context = {"study": study, "message": exc.message}
        return TemplateResponse(request, OPEN_FAILED_TEMPLATE, context, status=503)
    response = HttpResponseRedirect(url)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
