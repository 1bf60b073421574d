"""The two ways a study page can fail, raised by the views and turned into their pages in one
place (`studies.middleware.StudyErrorPagesMiddleware`), the way Django turns `Http404` into
its 404 page:

- `StudyNotFound`: the API does not know the study (or the address cannot be a study's): the
  404 page `studies/study_not_found.html`, with the way back to the worklist.
- `APIUnavailable`: the API could not be asked: the 503 page `studies/api_unavailable.html`,
  with a link that tries the same address again.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.response import TemplateResponse

from studies.forms import study_form_url
from studies.viewer_api import ViewerAPIError


class StudyNotFound(Exception):
    """No such study. `uid` is a looked-up Study Instance UID: the page shows it, and keeps it
    in the header's look-up box."""

    def __init__(
        self,
        message: str,
        *,
        uid: str = "",
        title: str = "Study not found",
        offer_create: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.uid = uid
        # An empty or malformed look-up is not "not found": it has its own title.
        self.title = title
        # A well-formed UID no study has: the page offers to create a study with it.
        self.offer_create = offer_create


class APIUnavailable(Exception):
    """The Viewer API could not be asked (`error` says why). `uid` as for `StudyNotFound`."""

    def __init__(self, error: ViewerAPIError, *, uid: str = "") -> None:
        super().__init__(error.message)
        self.error = error
        self.uid = uid


def error_page(request: HttpRequest, exception: Exception) -> TemplateResponse | None:
    """The page for one of the exceptions above; None for any other exception."""
    if isinstance(exception, StudyNotFound):
        context = {
            "title": exception.title,
            "message": exception.message,
            "uid": exception.uid,
            "lookup_uid": exception.uid,
            "create_url": (
                study_form_url({"study_instance_uid": exception.uid})
                if exception.offer_create
                else ""
            ),
        }
        return TemplateResponse(request, "studies/study_not_found.html", context, status=404)
    if isinstance(exception, APIUnavailable):
        context = {
            "message": exception.error.message,
            "retry_url": request.get_full_path(),
            "lookup_uid": exception.uid,
        }
        return TemplateResponse(request, "studies/api_unavailable.html", context, status=503)
    return None
