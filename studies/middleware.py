"""Middleware of the coordinator app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from studies.views.errors import error_page


class StudyErrorPagesMiddleware:
    """Turn `StudyNotFound` and `APIUnavailable`, raised by a view, into their pages (404 and
    503); see `studies.views.errors`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return error_page(request, exception)
