"""The create-study form and the assignee search behind its type-ahead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from studies import viewer_api
from studies.forms import (
    AssigneePickerForm,
    BaseMetadataFormSet,
    MetadataFormSet,
    StudyCreateForm,
    assignee_options,
    metadata_formset_unbound,
    study_form_initial,
    unbound_copy,
)
from studies.pacs_forms import metadata_rows_from_query  # PACS hand-back (issue 12)
from studies.roles import coordinator_required
from studies.submissions import (
    AlreadyCreated,
    Created,
    Duplicate,
    Expired,
    InProgress,
    Rejected,
    Unsent,
    submission_create,
)

FORM_TEMPLATE = "studies/study_form.html"
PICKER_TEMPLATE = "studies/_assignee_picker.html"
_PREFIX = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


@dataclass(frozen=True)
class Banner:
    """A message above the form; `level` is one of the banner--* styles."""

    level: str
    title: str
    text: str = ""


def _customers() -> tuple[list[viewer_api.ExpressCustomer], str]:
    try:
        return viewer_api.customers_active(), ""
    except viewer_api.ViewerAPIError as exc:
        return [], exc.message


def _render(
    request: HttpRequest,
    form: StudyCreateForm,
    metadata: BaseMetadataFormSet,
    *,
    banner: Banner | None = None,
    duplicate: viewer_api.Study | None = None,
) -> TemplateResponse:
    # Invalid forms come back with 200: htmx (and browsers) show the body either way.
    context: dict[str, Any] = {
        "form": form,
        "metadata": metadata,
        "picker": assignee_options(form),
        "banner": banner,
        "duplicate": duplicate,
        "has_errors": form.is_bound and (bool(form.errors) or bool(metadata.total_error_count())),
    }
    return TemplateResponse(request, FORM_TEMPLATE, context)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_create(request: HttpRequest) -> HttpResponse:
    """`/studies/new/`: the full form. GET accepts initial values in the query string
    (e.g. from the quick-create's "More options"); POST's `action` is "create" (the default),
    or "add_row" / "search_assignee" (the no-JavaScript row and assignee buttons)."""
    customers, customers_error = _customers()
    options = {"customers": customers, "customers_error": customers_error}
    if request.method == "GET":
        form = StudyCreateForm(initial=study_form_initial(request.GET), **options)
        # Metadata rows handed back by "Find in PACS" / "Read from DICOM file" (issue 12).
        metadata = MetadataFormSet(initial=metadata_rows_from_query(request.GET))
        return _render(request, form, metadata)

    form = StudyCreateForm(request.POST, **options)
    metadata = MetadataFormSet(request.POST)
    action = request.POST.get("action", "create")
    if action in ("add_row", "search_assignee"):
        return _render(
            request,
            unbound_copy(form, **options),
            metadata_formset_unbound(metadata, add_row=action == "add_row"),
        )

    if not (form.is_valid() and metadata.is_valid()):
        return _render(request, form, metadata)

    outcome = submission_create(
        user=request.user,
        token=form.cleaned_data["token"],
        data=form.study_create_data(metadata=metadata.metadata()),
    )
    match outcome:
        case Created(study=study):
            messages.success(request, f"Study created: {study.study_description}.")
            return redirect("study_detail", study_id=study.study_id)
        case AlreadyCreated(study_id=study_id, message=message):
            messages.info(request, message)
            return redirect("study_detail", study_id=study_id)
        case Duplicate(existing=existing, message=message):
            form.add_error("study_instance_uid", message)
            return _render(request, form, metadata, duplicate=existing)
        case Rejected():
            form.add_api_errors(outcome.error, metadata=metadata)
            return _render(request, form, metadata)
        case Unsent(message=message):
            banner = Banner(
                "error",
                "The study was not created.",
                f"{message} This attempt is saved, so it can also be sent again later.",
            )
            return _render(request, form, metadata, banner=banner)
        case InProgress(message=message):
            return _render(request, form, metadata, banner=Banner("warning", message))
        case Expired(message=message):
            fresh = unbound_copy(form, fresh_token=True, **options)
            return _render(request, fresh, metadata, banner=Banner("warning", message))
    raise AssertionError(outcome)  # pragma: no cover - every outcome is handled above


@coordinator_required
@require_GET
def assignee_search(request: HttpRequest) -> HttpResponse:
    """`/studies/assignees/?q=…`: the picker's results (at most ten users) as a fragment.

    The type-ahead sends the picker's own fields (`[prefix-]assignee_query` and the checked
    `[prefix-]assigned_to`) plus `prefix` when the embedding form has one; `q` works too."""
    prefix = request.GET.get("prefix", "")
    prefix = prefix if _PREFIX.match(prefix) else ""
    data = request.GET.copy()
    query_name = f"{prefix}-assignee_query" if prefix else "assignee_query"
    if "q" in data and query_name not in data:
        data[query_name] = data["q"]
    picker_form = AssigneePickerForm(data, prefix=prefix or None)
    context = {"form": picker_form, "picker": assignee_options(picker_form)}
    return TemplateResponse(request, f"{PICKER_TEMPLATE}#assignee_results", context)
