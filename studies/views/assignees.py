"""The assignee type-ahead's one endpoint, for the study forms and the worklist's filter."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from studies.filters import FILTER_AUTO_ID
from studies.forms import ANYONE_OR_UNASSIGNED, NOBODY, AssigneePickerForm, assignee_options

RESULTS_TEMPLATE = "studies/_assignee_picker.html#assignee_results"
_PREFIX = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


@require_GET
def assignee_search(request: HttpRequest) -> HttpResponse:
    """`/studies/assignees/?q=…`: the picker's results (at most ten users) as a fragment.

    The type-ahead sends the picker's own fields (`[prefix-]assignee_query` and the checked
    `[prefix-]assigned_to`) plus `prefix` when the embedding form has one, or `for=filter`
    from the worklist's assignee filter (whose choices besides a user are "Anyone" and
    "Unassigned"); `q` works too. Anyone signed in may search: the filter is everyone's."""
    for_filter = request.GET.get("for") == "filter"
    prefix = request.GET.get("prefix", "")
    prefix = prefix if _PREFIX.match(prefix) and not for_filter else ""
    data = request.GET.copy()
    query_name = f"{prefix}-assignee_query" if prefix else "assignee_query"
    if "q" in data and query_name not in data:
        data[query_name] = data.get("q", "")
    if for_filter:
        form = AssigneePickerForm(data, auto_id=FILTER_AUTO_ID)
        picker = assignee_options(form, blanks=ANYONE_OR_UNASSIGNED)
    else:
        form = AssigneePickerForm(data, prefix=prefix or None)
        picker = assignee_options(form, blanks=NOBODY)
    return TemplateResponse(request, RESULTS_TEMPLATE, {"form": form, "picker": picker})
