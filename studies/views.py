"""Coordinator-facing views. Thin: parse input with forms, call the service, pick a template."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.response import TemplateResponse


def home(request: HttpRequest) -> TemplateResponse:
    return TemplateResponse(request, "studies/home.html")
