"""The PACS pages: "Find in PACS", "Use this study", "Read from DICOM file" and "In PACS?".

Each answers a whole page, or for htmx just the fragment the create forms and the detail page
swap in. Without JavaScript, what the coordinator typed travels in the query string and comes
back to `/studies/new/` (see `studies.pacs_forms`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from studies import dicomweb, viewer_api
from studies.http import AuthenticatedRequest
from studies.pacs_forms import (
    Carried,
    DicomFileForm,
    Filled,
    PacsSearchForm,
    carried_values,
    filled_from,
    handback_url,
)
from studies.roles import can_manage_studies, coordinator_required

FIND_TEMPLATE = "studies/pacs/find.html"
FILE_TEMPLATE = "studies/pacs/_dicom_file.html"
STATUS_TEMPLATE = "studies/pacs/status.html"
# Keys a form submitted with method=get may bring along that must not stay in an address.
_DROPPED_KEYS = ("csrfmiddlewaretoken", "action")
_VIEWER_LOOKUP_THREADS = 4


@dataclass(frozen=True)
class Result:
    """One row of the results: the study, whether the Viewer has it, how to use it."""

    study: dicomweb.PacsStudy
    viewer_study: viewer_api.Study | None
    viewer_unknown: bool
    use_url: str
    fill_json: str


def _in_viewer(uid: str) -> tuple[viewer_api.Study | None, bool]:
    """(the Viewer's study with this UID or None, whether the look-up failed)."""
    try:
        return viewer_api.study_get_by_uid(study_instance_uid=uid), False
    except viewer_api.NotFound:
        return None, False
    except viewer_api.ViewerAPIError:
        return None, True


def _results(page: dicomweb.StudyPage, carried: Carried) -> list[Result]:
    """The page's studies with the Viewer's answer for each: one look-up per shown result
    (at most DICOMWEB_RESULT_LIMIT, a few at a time)."""
    uids = [study.study_instance_uid for study in page.studies]
    with ThreadPoolExecutor(max_workers=_VIEWER_LOOKUP_THREADS) as pool:
        answers = list(pool.map(_in_viewer, uids))
    rows = []
    for study, (viewer_study, unknown) in zip(page.studies, answers, strict=True):
        query = urlencode([("uid", study.study_instance_uid), *carried.as_query()])
        rows.append(
            Result(
                study=study,
                viewer_study=viewer_study,
                viewer_unknown=unknown,
                use_url=f"{reverse('pacs_use')}?{query}",
                fill_json=json.dumps(filled_from(study).as_json()),
            )
        )
    return rows


def _without(query: QueryDict, keys: tuple[str, ...]) -> QueryDict:
    cleaned = query.copy()
    for key in keys:
        cleaned.pop(key, None)
    return cleaned


def _back_url(carried: Carried) -> str:
    return reverse("home") if carried.source == "quick" else handback_url(carried)


@require_GET
def pacs_find(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/pacs/`: search the PACS. Observers can search; coordinators also get "Use
    this study". Query: the search fields, `offset`, and the create form's values to carry."""
    if any(key in request.GET for key in _DROPPED_KEYS):
        # Reached by the create form's "Find in PACS" (method=get): keep the token out of the
        # address bar and the history.
        query = _without(request.GET, _DROPPED_KEYS).urlencode()
        return redirect(f"{request.path}?{query}" if query else request.path)
    carried = carried_values(request.GET)
    panel = request.GET.get("panel", "")
    in_panel = bool(request.htmx) and panel in ("new", "quick")
    if in_panel:
        carried = Carried(carried.fields, carried.metadata, panel)
    searched = any(name in request.GET for name in PacsSearchForm.base_fields)
    form = PacsSearchForm(request.GET if searched else None)
    context: dict[str, Any] = {
        "form": form,
        "configured": dicomweb.is_configured(),
        "carried": carried.as_query(),
        "back_url": _back_url(carried),
        "source": carried.source,
        "in_panel": in_panel,
        "can_use": can_manage_studies(request.user),
        "results": None,
        "error": "",
    }
    if context["configured"] and form.is_bound and form.is_valid():
        try:
            page = dicomweb.study_search(search=form.search)
        except dicomweb.PacsError as exc:
            context["error"] = exc.message
        else:
            base = [*form.search_query().items(), *carried.as_query()]
            if in_panel:
                base.append(("panel", panel))
            context |= {
                "page": page,
                "results": _results(page, carried),
                "last_shown": page.offset + len(page.studies),
                "previous_url": _page_url(request, base, page.offset - page.limit)
                if page.offset
                else "",
                "next_url": _page_url(request, base, page.offset + page.limit)
                if page.has_more
                else "",
            }
    template = f"{FIND_TEMPLATE}#panel" if request.htmx else FIND_TEMPLATE
    return TemplateResponse(request, template, context)


def _page_url(request: HttpRequest, base: list[tuple[str, str]], offset: int) -> str:
    return f"{request.path}?{urlencode([*base, ('offset', str(max(0, offset)))])}"


@coordinator_required
@require_GET
def pacs_use(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/pacs/use/?uid=…`: the no-JavaScript "Use this study". Reads the study from
    the PACS again and opens the create form with what was typed plus its values."""
    carried = carried_values(request.GET)
    uid = request.GET.get("uid", "").strip()[:200]
    try:
        study = dicomweb.study_find(study_instance_uid=uid)
    except dicomweb.PacsError as exc:
        messages.error(request, f"Nothing was filled: {exc.message}")
        return redirect(handback_url(carried))
    if study is None:
        messages.error(request, "Nothing was filled: the PACS has no study with this UID.")
        return redirect(handback_url(carried))
    filled = filled_from(study)
    messages.success(request, _filled_message(filled))
    return redirect(handback_url(carried, filled))


def _filled_message(filled: Filled) -> str:
    return f"Filled in: {filled.summary}. Check them, then create the study."


# --- Read from DICOM file --------------------------------------------------------------------


class _FileHead(SimpleUploadedFile):
    """The first DICOM_HEADER_MAX_BYTES of an upload; `truncated`: the file was longer."""

    def __init__(self, name: str, head: bytes, *, truncated: bool) -> None:
        super().__init__(name, head)
        self.truncated = truncated


class _HeaderOnlyUpload(FileUploadHandler):
    """Keeps the first DICOM_HEADER_MAX_BYTES of the upload in memory and drops the rest
    (counted, never stored): the file never reaches the disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.head = bytearray()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        room = dicomweb.DICOM_HEADER_MAX_BYTES - len(self.head)
        if room > 0:
            self.head += raw_data[:room]
        return None

    def file_complete(self, file_size: int) -> _FileHead:
        truncated = self.size > dicomweb.DICOM_HEADER_MAX_BYTES
        return _FileHead(self.file_name or "upload", bytes(self.head), truncated=truncated)


def _header_only(
    view: Callable[[AuthenticatedRequest], HttpResponse],
) -> Callable[..., HttpResponse]:
    """Install the header-only upload handler before the CSRF check reads the body (the
    order Django requires for per-view upload handlers), then check CSRF as usual."""
    protected = csrf_protect(view)

    @csrf_exempt
    def wrapped(request: AuthenticatedRequest) -> HttpResponse:
        request.upload_handlers = [_HeaderOnlyUpload(request)]
        return protected(request)

    return wrapped


@_header_only
@coordinator_required
@require_POST
def dicom_file_read(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/pacs/file/`: "Read from DICOM file". Reads the header of the uploaded file
    (never stored) and fills the create form: in place for htmx, else by opening the form
    again with what was typed plus the header's values. A problem is said at the field."""
    carried = carried_values(request.POST)
    form = DicomFileForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise dicomweb.DicomFileError("required")
        upload = form.cleaned_data["dicom_file"]
        # Always a _FileHead: this view's only upload handler makes it.
        study = dicomweb.study_from_file(data=upload.read(), truncated=upload.truncated)
    except dicomweb.DicomFileError as exc:
        if request.htmx:
            return TemplateResponse(request, FILE_TEMPLATE, {"dicom_error": exc.message})
        return redirect(handback_url(carried, dicom_error=exc.code))
    filled = filled_from(study)
    if request.htmx:
        context = {"filled": filled, "fill_json": json.dumps(filled.as_json())}
        return TemplateResponse(request, FILE_TEMPLATE, context)
    messages.success(request, _filled_message(filled))
    return redirect(handback_url(carried, filled))


# --- In PACS? --------------------------------------------------------------------------------


@require_GET
def pacs_status(request: AuthenticatedRequest) -> HttpResponse:
    """`/studies/pacs/in-pacs/?uid=…&study_id=…`: whether the PACS has the study's images,
    loaded after the detail page (never an error page)."""
    uid = request.GET.get("uid", "").strip()[:200]
    study_id = request.GET.get("study_id", "").strip()[:100]
    context: dict[str, Any] = {"uid": uid, "study_id": study_id, "state": "", "message": ""}
    try:
        found = dicomweb.study_find(study_instance_uid=uid)
    except dicomweb.PacsNotConfigured:
        context["state"] = "not_configured"
    except dicomweb.PacsError as exc:
        context |= {"state": "unreachable", "message": exc.message}
    else:
        context |= {"state": "found" if found else "not_found", "pacs_study": found}
    template = f"{STATUS_TEMPLATE}#status" if request.htmx else STATUS_TEMPLATE
    return TemplateResponse(request, template, context)
