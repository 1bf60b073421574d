"""Template tags that put the PACS features into the study pages (issue 12).

{% load pacs_tags %}
{% pacs_form_tools "new" file=True %}   inside a create form: "Find in PACS" (and "Read from
                                         DICOM file"), or "No PACS is configured"
{% pacs_panel "new" %}                   after that form: where the htmx panel opens
{% pacs_status_loader study %}           on the detail page: "In PACS?", loaded after the page
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from studies import dicomweb

register = template.Library()


@register.inclusion_tag("studies/pacs/_form_tools.html", takes_context=True)
def pacs_form_tools(
    context: template.Context, source: str, *, file: bool = False
) -> dict[str, Any]:
    """`source` is "new" (the full form) or "quick" (the worklist's quick-create)."""
    request = context.get("request")
    code = request.GET.get("dicom_error", "") if request is not None else ""
    return {
        "source": source,
        "configured": dicomweb.is_configured(),
        "file": file,
        "dicom_error": dicomweb.DICOM_FILE_PROBLEMS.get(code, ""),
    }


@register.inclusion_tag("studies/pacs/_panel.html")
def pacs_panel(source: str) -> dict[str, Any]:
    return {"source": source}


@register.inclusion_tag("studies/pacs/_status_loader.html")
def pacs_status_loader(study: Any) -> dict[str, Any]:
    query = urlencode({"uid": study.study_instance_uid, "study_id": study.study_id})
    return {"url": f"{reverse('pacs_status')}?{query}"}
