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
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from studies import preferences, viewer_api
from studies.audit import created_by
from studies.filters import (
    CANCELLED,
    FILTER_AUTO_ID,
    PAGE_SIZE,
    WorklistFilterForm,
    parse_cursor,
    worklist_url,
)
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
from studies.preferences import my_viewer_user_id
from studies.roles import can_manage_studies
from studies.rows import StudyRow, study_rows
from studies.submissions import Created, submission_create
from studies.templatetags.worklist_tags import study_version
from studies.viewer_api import (
    ExpressCustomer,
    Severity,
    Study,
    UserRef,
    ViewerAPIError,
    ViewerStatus,
)
from studies.views.outcomes import OnForm, on_form

TEMPLATE = "studies/worklist.html"
QUICK_PREFIX = "quick"
# Studies one urgent-first call looks at (the API's most per call); also the page size when
# only the coordinator's own studies are kept.
URGENT_SCAN = 100

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
    # With "Created by me": how many studies the API returned before keeping the user's own.
    scanned: int = 0

    @cached_property
    def rows(self) -> list[StudyRow]:
        """The studies as the table's rows show them (made once, when a template asks)."""
        return study_rows(self.studies)


@dataclass
class Urgent:
    """Urgent first: the open STAT and high studies shown above the rest (one API call)."""

    studies: list[Study] = field(default_factory=list)
    error: str | None = None
    # The call returned its limit and more open studies exist beyond it.
    truncated: bool = False

    @cached_property
    def rows(self) -> list[StudyRow]:
        """The studies as the table's rows show them (made once, when a template asks)."""
        return study_rows(self.studies)


# --- The list -----------------------------------------------------------------------------------


def list_limit(form: WorklistFilterForm) -> int:
    """Rows asked of the API per page: the page size, or the API's most when only the
    coordinator's own studies of the page are kept ("Created by me")."""
    return URGENT_SCAN if form.created_by_me else PAGE_SIZE


def load_results(form: WorklistFilterForm, cursor: str | None) -> Results:
    """The one `study_list` call of a render, with its failure turned into words."""
    try:
        page = viewer_api.study_list(filters=form.to_filters(limit=list_limit(form)), cursor=cursor)
    except viewer_api.InvalidRequest as exc:
        if cursor:
            return Results(
                error="This page link is no longer valid. Start again from the first page.",
                bad_cursor=True,
            )
        return Results(error=exc.message)
    except ViewerAPIError as exc:
        return Results(error=exc.message)
    return Results(studies=page.items, next_cursor=page.next_cursor, scanned=len(page.items))


def urgent_applies(form: WorklistFilterForm, cursor: str | None) -> bool:
    """Urgent first groups the first page, unless the filters leave nothing to group: one
    severity chosen, or only complete or cancelled studies."""
    return (
        form.urgent_first
        and cursor is None
        and not form.value("severity")
        and form.value("status") != ViewerStatus.COMPLETE.value
        and form.cancelled_value != CANCELLED
    )


def load_urgent(form: WorklistFilterForm) -> Urgent:
    """The render's one extra call: the newest open (active, incomplete) studies matching the
    other filters, of which the STAT ones come first, then the high ones."""
    filters = form.to_filters(limit=URGENT_SCAN).model_copy(
        update={"is_cancelled": False, "study_viewer_status": ViewerStatus.INCOMPLETE}
    )
    try:
        page = viewer_api.study_list(filters=filters)
    except ViewerAPIError as exc:
        return Urgent(error=exc.message)
    rank = {Severity.STAT.value: 0, Severity.HIGH.value: 1}
    urgent = [s for s in page.items if _severity(s) in rank]
    urgent.sort(key=lambda s: rank[_severity(s)])  # stable: newest first within each
    return Urgent(studies=urgent, truncated=page.next_cursor is not None)


def _severity(study: Study) -> str:
    return str(getattr(study.severity, "value", study.severity))


def keep_created_by(user: User, *groups: list[Study]) -> list[list[Study]]:
    """Each list with only the studies `user` created through Viewer Admin (one query)."""
    mine = created_by(user=user, study_ids=[s.study_id for group in groups for s in group])
    return [[s for s in group if s.study_id in mine] for group in groups]


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


def worklist_context(request: AuthenticatedRequest) -> dict[str, Any]:
    """Everything the worklist regions need, from the query string of `request`."""
    form = WorklistFilterForm(request.GET, customers=load_customers())
    form.is_valid()
    cursor = parse_cursor(request.GET)
    results = load_results(form, cursor)
    # Urgent first's one extra call (none when the list itself could not be loaded).
    urgent = load_urgent(form) if urgent_applies(form, cursor) and not results.error else None
    if form.created_by_me:
        results.studies, *rest = keep_created_by(
            request.user, results.studies, urgent.studies if urgent else []
        )
        if urgent:
            urgent.studies = rest[0]
    if urgent and urgent.studies:
        shown = {s.study_id for s in urgent.studies}
        results.studies = [s for s in results.studies if s.study_id not in shown]
    me = my_viewer_user_id(request)
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
        "urgent": urgent,
        "cursor": cursor,
        "retry_url": retry_url,
        "next_url": form.page_url(results.next_cursor) if results.next_cursor else None,
        "scan_size": list_limit(form),
        "reset_url": worklist_url(),
        "my_user_id": me,
        "assigned_to_me_on": bool(me) and form.value("assigned_to") == me,
        "assigned_to_me_url": form.assigned_to_url(me) if me else None,
        # The live check of this list (first pages only: later pages are not refreshed).
        "live_url": None if cursor else _live_url(form),
        "live_seconds": settings.WORKLIST_POLL_SECONDS,
    }


def _live_url(form: WorklistFilterForm) -> str:
    query = form.query()
    return reverse("worklist_changes") + (f"?{query}" if query else "")


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
    partial = _partial_name(request)
    preference = preferences.load(request)
    if partial is None and not request.META.get("QUERY_STRING") and preference.filters:
        # A plain `/` (the navigation, a new visit): the coordinator's last filters.
        return redirect(worklist_url(preference.filters))
    context = worklist_context(request)
    if context["cursor"] is None and partial != "page_rows":
        preferences.save(request, filters=context["filter_form"].query())
    if partial is None and can_manage_studies(request.user):
        shown = OnForm(StudyBaseForm(prefix=QUICK_PREFIX))
        context |= quick_create_context(shown, open_=preference.quick_create_open)
    return _respond(request, f"{TEMPLATE}#{partial}" if partial else TEMPLATE, context)


@require_GET
def worklist_changes(request: AuthenticatedRequest) -> JsonResponse:
    """The live worklist's check: the first page's studies as (id, version) pairs, from one
    API call with the worklist's filters; the page compares them with the rows it shows. No
    list is rendered, and the page sends it as a background request (X-Background: true), so
    it never keeps the session alive."""
    form = WorklistFilterForm(request.GET)
    form.is_valid()
    try:
        page = viewer_api.study_list(filters=form.to_filters(limit=list_limit(form)))
    except ViewerAPIError:
        return JsonResponse({"studies": None}, status=503)
    studies = page.items
    if form.created_by_me:
        studies = keep_created_by(request.user, studies)[0]
    return JsonResponse({"studies": [[s.study_id, study_version(s)] for s in studies]})


def worklist_panel(request: AuthenticatedRequest) -> HttpResponse:
    """The quick-create panel was opened or closed: remember it for next time (POST; the
    panel is the Coordinators')."""
    if not can_manage_studies(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    preferences.save(request, quick_create_open=request.POST.get("open") == "1")
    return HttpResponse(status=204)


# --- Quick-create -------------------------------------------------------------------------------


def quick_create_context(
    shown: OnForm[StudyBaseForm], *, open_: bool = True, unsent_changed: bool = False
) -> dict[str, Any]:
    """`unsent_changed`: the answer may have changed the coordinator's count of unsent
    attempts (the htmx answer then updates the header's count)."""
    form = shown.form
    created_id = shown.created.study_id if shown.created else shown.created_id
    return {
        # The panel stays as the coordinator left it; after a post it shows the outcome.
        "quick_open": open_ or form.is_bound,
        "quick_form": form,
        "quick_picker": assignee_options(form),
        "quick_banner": shown.banner,
        "quick_created": shown.created,
        "quick_created_row": StudyRow(shown.created) if shown.created else None,
        "quick_created_id": created_id,
        "quick_assignee": shown.assignee,
        "quick_unsent_changed": unsent_changed,
    }


def _more_options_url(form: StudyBaseForm) -> str:
    """The full form, pre-filled with what was typed here (nothing is validated yet; the full
    form gets its own token)."""
    carried = [name for name in STUDY_FORM_QUERY if name in form.fields and name != "token"]
    return study_form_url({name: str(form[name].value() or "").strip() for name in carried})


def _render_quick(
    request: AuthenticatedRequest, shown: OnForm[StudyBaseForm], *, unsent_changed: bool = False
) -> TemplateResponse:
    """The form again: alone for htmx (status 200 so it is swapped in), else the whole page."""
    context = quick_create_context(shown, unsent_changed=unsent_changed)
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
        # A study created on the first attempt leaves the unsent count as it was.
        fresh = isinstance(outcome, Created) and not outcome.retry
        return _render_quick(request, shown, unsent_changed=not fresh)
    return shown
