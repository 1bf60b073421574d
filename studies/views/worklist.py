"""The worklist: the coordinator's home page, `/`, with its filters, paging and quick-create.

One view, one URL, several renderings of `studies/worklist.html`: the full page, or for an
htmx request just the region it asked for (named partials of the same template, so the
fragment and the page never drift apart). Every rendering of the list makes exactly one call
for the studies; names come from the study objects and the dropdowns from cached lists.

POST is the quick-create form (Coordinators only). It goes through the same code path as the
full form (`studies.submissions.submission_create`, keyed by the form's one-time token); over
htmx the answer is the form again (cleared, or with its errors) plus, after a success, the
new row for the top of the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from studies import viewer_api
from studies.filters import FILTER_AUTO_ID, WorklistFilterForm, parse_cursor
from studies.forms import (
    ANYONE_OR_UNASSIGNED,
    STUDY_FORM_QUERY,
    AssigneePickerForm,
    StudyBaseForm,
    assignee_options,
    is_search,
    study_form_url,
    unbound_copy,
)
from studies.http import AuthenticatedRequest
from studies.roles import can_manage_studies
from studies.submissions import submission_create
from studies.viewer_api import ExpressCustomer, Study, UserRef, ViewerAPIError
from studies.views.outcomes import OnForm, on_form

TEMPLATE = "studies/worklist.html"
QUICK_PREFIX = "quick"

# The htmx target of a GET names the region to render (see the template's hx-target).
_PARTIAL_FOR_TARGET = {
    "worklist-results": "results",
    "load-more": "page_rows",
    "worklist": "worklist",
}


@dataclass
class Results:
    """One page of the worklist, or why there is none."""

    studies: list[Study] = field(default_factory=list)
    next_cursor: str | None = None
    error: str | None = None
    bad_cursor: bool = False


# --- The list -----------------------------------------------------------------------------------


def load_results(form: WorklistFilterForm, cursor: str | None) -> Results:
    """The one `study_list` call of a render, with its failure turned into words."""
    try:
        page = viewer_api.study_list(filters=form.to_filters(), cursor=cursor)
    except viewer_api.InvalidRequest as exc:
        if cursor:
            return Results(
                error="This page link is no longer valid. Start again from the first page.",
                bad_cursor=True,
            )
        return Results(error=exc.message)
    except ViewerAPIError as exc:
        return Results(error=exc.message)
    return Results(studies=page.items, next_cursor=page.next_cursor)


def load_customers() -> list[ExpressCustomer]:
    """The customer dropdown, from the cached list; empty when the API cannot say."""
    try:
        return viewer_api.customers_all()
    except ViewerAPIError:
        return []


def _shown_assignee(user_id: str, studies: list[Study]) -> UserRef | None:
    """The chosen assignee as a row shows it, which saves looking the user up."""
    for study in studies:
        if study.assigned_to and study.assigned_to.user_id == user_id:
            return study.assigned_to
    return None


def worklist_context(request: HttpRequest) -> dict[str, Any]:
    """Everything the worklist regions need, from the query string of `request`."""
    form = WorklistFilterForm(request.GET, customers=load_customers())
    form.is_valid()
    cursor = parse_cursor(request.GET)
    results = load_results(form, cursor)
    picker_form = AssigneePickerForm(request.GET, auto_id=FILTER_AUTO_ID)
    picker = assignee_options(
        picker_form,
        current=_shown_assignee(form.value("assigned_to"), results.studies),
        blanks=ANYONE_OR_UNASSIGNED,
    )
    if picker.selected is not None:
        form.assignee_label = picker.selected.name
    retry_url = form.page_url(cursor) if cursor and not results.bad_cursor else form.first_page_url
    return {
        "filter_form": form,
        "assignee_picker_form": picker_form,
        "assignee_picker": picker,
        "results": results,
        "cursor": cursor,
        "retry_url": retry_url,
        "next_url": form.page_url(results.next_cursor) if results.next_cursor else None,
    }


def _partial_name(request: HttpRequest) -> str | None:
    """The region an htmx GET asks for; None for a full page."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.history_restore_request or htmx.boosted:
        return None
    return _PARTIAL_FOR_TARGET.get(htmx.target or "", "worklist")


def _respond(request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    response = TemplateResponse(request, template, context)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def home(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "POST":
        return quick_create(request)
    context = worklist_context(request)
    partial = _partial_name(request)
    if partial is None and can_manage_studies(request.user):
        context |= quick_create_context(OnForm(StudyBaseForm(prefix=QUICK_PREFIX)))
    return _respond(request, f"{TEMPLATE}#{partial}" if partial else TEMPLATE, context)


# --- Quick-create -------------------------------------------------------------------------------


def quick_create_context(shown: OnForm[StudyBaseForm]) -> dict[str, Any]:
    form = shown.form
    created_id = shown.created.study_id if shown.created else shown.created_id
    return {
        "quick_form": form,
        "quick_picker": assignee_options(form),
        "quick_banner": shown.banner,
        "quick_created": shown.created,
        "quick_created_id": created_id,
        "quick_assignee": shown.assignee,
    }


def _more_options_url(form: StudyBaseForm) -> str:
    """The full form, pre-filled with what was typed here (nothing is validated yet; the full
    form gets its own token)."""
    carried = [name for name in STUDY_FORM_QUERY if name in form.fields and name != "token"]
    return study_form_url({name: str(form[name].value() or "").strip() for name in carried})


def _render_quick(request: AuthenticatedRequest, shown: OnForm[StudyBaseForm]) -> TemplateResponse:
    """The form again: alone for htmx (status 200 so it is swapped in), else the whole page."""
    context = quick_create_context(shown)
    if request.htmx:
        return _respond(request, f"{TEMPLATE}#quick_create_answer", context)
    return _respond(request, TEMPLATE, worklist_context(request) | context)


def quick_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_manage_studies(request.user):
        raise PermissionDenied
    form = StudyBaseForm(request.POST, prefix=QUICK_PREFIX)
    action = request.POST.get("action", "create")
    if action == "more":
        url = _more_options_url(form)
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    if is_search(action, form):
        return _render_quick(request, OnForm(unbound_copy(form)))
    if not form.is_valid():
        return _render_quick(request, OnForm(form))

    outcome = submission_create(
        user=request.user, token=form.cleaned_data["token"], data=form.study_create_data()
    )
    shown = on_form(request, outcome, form, quick=True)
    if isinstance(shown, OnForm):
        return _render_quick(request, shown)
    return shown
