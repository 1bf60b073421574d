"""The full create-study form."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from studies import viewer_api
from studies.forms import (
    BaseMetadataFormSet,
    MetadataFormSet,
    StudyCreateForm,
    StudyFieldsForm,
    assignee_options,
    is_search,
    metadata_formset_unbound,
    study_form_initial,
    unbound_copy,
)
from studies.http import AuthenticatedRequest
from studies.pacs_forms import metadata_rows_from_query  # PACS hand-back (issue 12)
from studies.roles import coordinator_required
from studies.submissions import submission_create
from studies.viewer_api import UserRef
from studies.views.outcomes import Banner, OnForm, on_form

FORM_TEMPLATE = "studies/study_form.html"


def _customers() -> tuple[list[viewer_api.ExpressCustomer], str]:
    try:
        return viewer_api.customers_active(), ""
    except viewer_api.ViewerAPIError as exc:
        return [], exc.message


def study_form_context(
    form: StudyFieldsForm,
    metadata: BaseMetadataFormSet,
    *,
    banner: Banner | None = None,
    current: UserRef | None = None,
) -> dict[str, Any]:
    """What a study form page (create or edit) shows: the form with its assignee picker
    (`current`: the assignee already known), the metadata rows and a banner above them."""
    return {
        "form": form,
        "metadata": metadata,
        "picker": assignee_options(form, current=current),
        "banner": banner,
    }


def _render(
    request: HttpRequest,
    form: StudyCreateForm,
    metadata: BaseMetadataFormSet,
    *,
    banner: Banner | None = None,
) -> TemplateResponse:
    # Invalid forms come back with 200: htmx (and browsers) show the body either way.
    context = study_form_context(form, metadata, banner=banner)
    return TemplateResponse(request, FORM_TEMPLATE, context)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_create(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/new/`: the full form. GET accepts initial values in the query string
    (e.g. from the quick-create's "More options"); POST's `action` is "create" (the default),
    or "add_row" / "search_assignee" (the no-JavaScript row and assignee buttons)."""
    customers, customers_error = _customers()
    options: dict[str, Any] = {"customers": customers, "customers_error": customers_error}
    if request.method == "GET":
        form = StudyCreateForm(initial=study_form_initial(request.GET), **options)
        # Metadata rows handed back by "Find in PACS" / "Read from DICOM file" (issue 12).
        metadata = MetadataFormSet(initial=metadata_rows_from_query(request.GET))
        return _render(request, form, metadata)

    form = StudyCreateForm(request.POST, **options)
    metadata = MetadataFormSet(request.POST)
    action = request.POST.get("action", "create")
    if action == "add_row" or is_search(action, form):
        return _render(
            request,
            unbound_copy(form),
            metadata_formset_unbound(metadata, add_row=action == "add_row"),
        )

    if not (form.is_valid() and metadata.is_valid()):
        return _render(request, form, metadata)

    outcome = submission_create(
        user=request.user,
        token=form.cleaned_data["token"],
        data=form.study_create_data(metadata=metadata.metadata()),
    )
    shown = on_form(request, outcome, form, metadata=metadata)
    if isinstance(shown, OnForm):
        return _render(request, shown.form, metadata, banner=shown.banner)
    return shown
