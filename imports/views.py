"""The pages of study imports (Coordinators only) and the worklist's CSV export.

- `/imports/`: the coordinator's imports, newest first.
- `/imports/new/`: upload or paste a file; it is read and checked, and stored as a preview.
- `/imports/<id>/`: the preview (problems by row and column; send the valid rows), then the
  progress (htmx polls the progress region; the poll is marked `X-Background: true` so it is
  never counted as the coordinator's activity) and the per-row results.
- `/imports/<id>/results.csv`: the per-row results as CSV.
- `/imports/export.csv`: every study matching the worklist's filters, in the import layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imports import services
from imports.checks import check_rows
from imports.export import csv_line, export_lines, export_pages
from imports.forms import ImportUploadForm
from imports.models import ImportRow, StudyImport
from studies import viewer_api
from studies.filters import WorklistFilterForm
from studies.http import AuthenticatedRequest
from studies.roles import coordinator_required
from studies.viewer_api import ViewerAPIError

PROGRESS_TARGET = "import-progress"
_PREVIEW_PROBLEM_LIMIT = 500


def _import_or_404(request: AuthenticatedRequest, import_id: int) -> StudyImport:
    study_import = services.import_get(user=request.user, import_id=import_id)
    if study_import is None:
        raise Http404("No such import.")
    return study_import


@coordinator_required
@require_GET
def import_list(request: AuthenticatedRequest) -> TemplateResponse:
    imports = services.imports_of(user=request.user)
    return TemplateResponse(request, "imports/import_list.html", {"imports": imports})


@coordinator_required
@require_http_methods(["GET", "POST"])
def import_new(request: AuthenticatedRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and form.parsed is not None:
        try:
            rows = check_rows(form.parsed)
        except ViewerAPIError as exc:
            form.add_error(
                None,
                "The rows could not be checked because the Viewer API could not be asked: "
                f"{exc.message} Nothing was stored or sent.",
            )
        else:
            study_import = services.import_create(
                user=request.user, file_name=form.file_name, parsed=form.parsed, rows=rows
            )
            return redirect("import_detail", import_id=study_import.pk)
    return TemplateResponse(request, "imports/import_new.html", {"form": form})


@coordinator_required
@require_GET
def import_detail(request: AuthenticatedRequest, import_id: int) -> HttpResponse:
    study_import = _import_or_404(request, import_id)
    if study_import.state in (StudyImport.State.RUNNING, StudyImport.State.CANCELLING):
        services.import_resume_abandoned(import_id=study_import.pk)
    context = _detail_context(study_import)
    if request.htmx and request.htmx.target == PROGRESS_TARGET:
        response = TemplateResponse(request, "imports/import_detail.html#progress", context)
        if not context["active"]:
            # Finished: load the whole page once, for the results table.
            response["HX-Refresh"] = "true"
        return response
    return TemplateResponse(request, "imports/import_detail.html", context)


def _detail_context(study_import: StudyImport) -> dict[str, Any]:
    rows = study_import.rows.all()
    State = StudyImport.State
    preview = study_import.state == State.PREVIEW
    problems = rows.filter(status=ImportRow.Status.INVALID) if preview else rows.none()
    return {
        "import": study_import,
        "preview": preview,
        "active": study_import.state in services.ACTIVE_STATES,
        "progress": services.import_progress(study_import),
        "problem_rows": problems[:_PREVIEW_PROBLEM_LIMIT],
        "problem_count": study_import.total_rows - study_import.valid_rows,
        "problem_limit": _PREVIEW_PROBLEM_LIMIT,
        "rows": rows if not preview else rows.none(),
        "valid_sample": rows.exclude(status=ImportRow.Status.INVALID)[:20] if preview else [],
    }


@coordinator_required
@require_POST
def import_send(request: AuthenticatedRequest, import_id: int) -> HttpResponse:
    study_import = services.import_send(user=request.user, import_id=import_id)
    if study_import is None:
        raise Http404("No such import.")
    return redirect("import_detail", import_id=import_id)


@coordinator_required
@require_POST
def import_cancel(request: AuthenticatedRequest, import_id: int) -> HttpResponse:
    study_import = services.import_cancel(user=request.user, import_id=import_id)
    if study_import is None:
        raise Http404("No such import.")
    if study_import.state == StudyImport.State.CANCELLING:
        messages.info(request, "Cancelling: the rows being sent right now finish first.")
    return redirect("import_detail", import_id=import_id)


@coordinator_required
@require_GET
def import_results_csv(request: AuthenticatedRequest, import_id: int) -> StreamingHttpResponse:
    study_import = _import_or_404(request, import_id)

    def lines() -> Iterator[str]:
        yield csv_line(["Row", "Study Instance UID", "Outcome", "Study ID or reason"])
        for row in study_import.rows.all().iterator(chunk_size=500):
            detail = row.study_id or row.reason or _problems_text(row)
            yield csv_line(
                [str(row.number), row.study_instance_uid, row.get_status_display(), detail]
            )

    name = slugify(study_import.file_name.rsplit(".", 1)[0]) or "import"
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-results.csv"'
    return response


def _problems_text(row: ImportRow) -> str:
    return " ".join(
        f"{p['column']}: {p['message']}" if p["column"] else p["message"] for p in row.problems
    )


@require_GET
def worklist_export(request: HttpRequest) -> HttpResponseBase:
    """Every study matching the worklist's filters (all pages), as CSV in the import layout."""
    try:
        customers = viewer_api.customers_all()
    except ViewerAPIError:
        customers = []
    form = WorklistFilterForm(request.GET, customers=customers)
    form.is_valid()
    filters = form.to_filters(limit=viewer_api.LIST_LIMIT_MAX)
    try:
        first, rest = export_pages(filters)
    except ViewerAPIError as exc:
        return TemplateResponse(
            request,
            "imports/export_failed.html",
            {"error": exc.message, "back": reverse("home") + _query(request)},
            status=503,
        )
    response = StreamingHttpResponse(
        export_lines(first, rest), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="worklist.csv"'
    return response


def _query(request: HttpRequest) -> str:
    return f"?{request.GET.urlencode()}" if request.GET else ""
