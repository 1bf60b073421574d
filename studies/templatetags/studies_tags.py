"""Template tags for showing studies: badges, times and the copy button.

{% load studies_tags %}
{% severity_badge study.severity %}       STAT in red, High in amber, Normal in grey
{% viewer_status_badge study.study_viewer_status %}
{% timestamp study.created_at %}          exact local time in <time>, plus "3 minutes ago"
{{ study.created_at|relative_time }}      just "3 minutes ago"
{% copy_button study.study_instance_uid label="Copy UID" %}   needs static/js/copy.js
{{ entry.changed_fields|field_labels }}   "Severity, Metadata" (audit field names as they read)
{{ change.field|field_label }}            "Severity" (one of them)
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

from studies import forms
from studies.viewer_api import Severity, ViewerStatus

register = template.Library()


def _value(raw: object) -> str:
    return str(raw.value if isinstance(raw, Enum) else raw or "")


def _badge(kind: type[Severity] | type[ViewerStatus], raw: object) -> SafeString:
    """Text plus colour, never colour alone; a value we do not know is shown as it came."""
    value = _value(raw)
    try:
        known = kind(value)
    except ValueError:
        return format_html('<span class="badge">{}</span>', value or "Unknown")
    return format_html('<span class="badge badge--{}">{}</span>', known.value, known.label)


@register.simple_tag
def severity_badge(severity: Severity | str | None) -> SafeString:
    return _badge(Severity, severity)


@register.simple_tag
def viewer_status_badge(status: ViewerStatus | str | None) -> SafeString:
    return _badge(ViewerStatus, status)


@register.filter
def local_time(value: datetime | None) -> str:
    """The exact time in the configured time zone, e.g. "30 Jan 2025, 12:51 UTC"."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, 'j M Y, H:i')} {local.tzname()}"


@register.filter
def relative_time(value: datetime | None) -> str:
    """ "just now", "3 minutes ago", "2 days ago" ("" for no time)."""
    if value is None:
        return ""
    text = str(naturaltime(value))
    return "just now" if text == "now" else text


@register.simple_tag
def timestamp(value: datetime | None, empty: str = "—") -> SafeString:
    """`<time>` with the exact local time and, after it, the relative time."""
    if value is None:
        return format_html('<span class="muted">{}</span>', empty)
    return format_html(
        '<time datetime="{}">{}</time> <span class="muted">({})</span>',
        value.isoformat(),
        local_time(value),
        relative_time(value),
    )


@register.filter
def field_labels(names: list[str] | None) -> str:
    """Recorded field names as a coordinator reads them, in the forms' order, e.g.
    "Severity, Metadata"."""
    return forms.field_labels(names or [])


@register.filter
def field_label(name: str) -> str:
    """One recorded field name as a coordinator reads it, e.g. "Study description"."""
    return forms.field_labels([name])


@register.simple_tag
def copy_button(text: str, label: str = "Copy") -> SafeString:
    """A button that copies `text`; hidden until static/js/copy.js shows it (without
    JavaScript there is nothing it could do)."""
    return format_html(
        '<button type="button" class="button button--small copy-button" data-copy-text="{}"'
        ' hidden><span class="copy-button__label">{}</span></button>',
        text,
        label,
    )
