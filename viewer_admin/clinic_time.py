"""Clinic time: every page shows times in the clinic's time zone (settings.CLINIC_TIME_ZONE).

The middleware makes it Django's current time zone for the request, so `timezone.localtime`
(and the `local_time` filter) use it; the context processor names it, once, for the page foot.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


class ClinicTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with timezone.override(ZoneInfo(settings.CLINIC_TIME_ZONE)):
            return self.get_response(request)


def clinic_time(request: HttpRequest) -> dict[str, str]:
    return {"clinic_time_zone": settings.CLINIC_TIME_ZONE}
