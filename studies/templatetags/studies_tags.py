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

from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language

from studies import forms
from studies.viewer_api import Severity, ViewerStatus

register = template.Library()


def _value(raw: object) -> str:
    return str(raw.value if isinstance(raw, Enum) else raw or "")


def _badge(kind: type[Severity] | type[ViewerStatus], raw: object) -> SafeString:
    """Text plus colour, never colour alone; a value we do not know is shown as it came."""
    value = _value(raw)
    known = _KNOWN_BADGES[kind].get(value)
    if known is not None:
        return known
    return format_html('<span class="badge">{}</span>', value or "Unknown")


# Every known value's badge, made once (a worklist shows two badges a row).
_KNOWN_BADGES: dict[type[Severity] | type[ViewerStatus], dict[str, SafeString]] = {
    kind: {
        known.value: format_html(
            '<span class="badge badge--{}">{}</span>', known.value, known.label
        )
        for known in kind
    }
    for kind in (Severity, ViewerStatus)
}


@register.simple_tag
def severity_badge(severity: Severity | str | None) -> SafeString:
    return _badge(Severity, severity)


@register.simple_tag
def viewer_status_badge(status: ViewerStatus | str | None) -> SafeString:
    return _badge(ViewerStatus, status)


@register.filter
def local_time(value: datetime | None) -> str:
    """The exact time in the clinic's time zone, e.g. "30 Jan 2025, 12:51" (the page names the
    zone once, at its foot)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    # What date_format(local, "j M Y, H:i") gives (Django's DateFormat: the month's
    # translated three-letter name, title-cased), without parsing the format on every call.
    month = _month_abbreviation(local.month, get_language())
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{local.day} {month} {local.year:04d}, {clock}"


@cache
def _month_abbreviation(month: int, language: str | None) -> str:
    """`M` of Django's date formats in `language` (the active one when it is looked up)."""
    return MONTHS_3[month].title()


@register.filter
def relative_time(value: datetime | None) -> str:
    """ "just now", "3 minutes ago", "2 days ago" ("" for no time): humanize's naturaltime,
    made faster for a past time (every row of the worklist shows one)."""
    if value is None:
        return ""
    now = datetime.now(UTC if timezone.is_aware(value) else None)
    text = _natural_past(value, now) if value < now else str(naturaltime(value))
    return "just now" if text == "now" else text


class _Remembered:
    """One of naturaltime's lazy translated formats, with what it made kept per language and
    values: the lazy `%` (a translation look-up each time) is what makes naturaltime slow, and
    a worklist asks it for the same few texts again and again."""

    def __init__(self, lazy: Any) -> None:
        self.lazy = lazy
        self.made: dict[tuple[str | None, tuple[tuple[str, object], ...]], str] = {}

    def __mod__(self, values: dict[str, object]) -> str:
        key = (get_language(), tuple(values.items()))
        text = self.made.get(key)
        if text is None:
            text = str(self.lazy % values)
            if len(self.made) >= _REMEMBERED_MAX:
                self.made.clear()
            self.made[key] = text
        return text


_REMEMBERED_MAX = 5_000
_PAST_FORMATS = {
    name: _Remembered(NaturalTimeFormatter.time_strings[name])
    for name in ("past-day", "past-hour", "past-minute", "past-second")
}
_PAST_UNITS = {
    name: _Remembered(lazy) for name, lazy in NaturalTimeFormatter.past_substrings.items()
}


def _natural_past(value: datetime, now: datetime) -> str:
    """What `NaturalTimeFormatter.string_for(value)` says at `now`, for `value` before `now`:
    the same steps and the same translated texts, each made once."""
    delta = now - value
    if delta.days != 0:
        since = timesince(value, now, time_strings=_PAST_UNITS)  # type: ignore[arg-type]
        return _PAST_FORMATS["past-day"] % {"delta": since}
    if delta.seconds == 0:
        return str(NaturalTimeFormatter.time_strings["now"])
    if delta.seconds < 60:
        return _PAST_FORMATS["past-second"] % {"count": delta.seconds}
    if delta.seconds // 60 < 60:
        return _PAST_FORMATS["past-minute"] % {"count": delta.seconds // 60}
    return _PAST_FORMATS["past-hour"] % {"count": delta.seconds // 60 // 60}


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
    # format_html's escaping without its formatting machinery (a worklist has one a row).
    return mark_safe(  # noqa: S308 - both values are escaped here
        '<button type="button" class="button button--small copy-button" data-copy-text="'
        f'{conditional_escape(text)}" hidden><span class="copy-button__label">'
        f"{conditional_escape(label)}</span></button>"
    )
