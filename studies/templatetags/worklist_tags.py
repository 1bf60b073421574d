"""Template filters of the worklist."""

from __future__ import annotations

from django import template

from studies.viewer_api import Study

register = template.Library()

_HEAD = 10
_TAIL = 12


@register.filter
def short_uid(value: str) -> str:
    """A long Study Instance UID with its middle elided: the start names the issuer, the end
    tells studies apart. Short ones are returned whole."""
    if len(value) <= _HEAD + _TAIL + 2:
        return value
    return f"{value[:_HEAD]}\u2026{value[-_TAIL:]}"


@register.filter
def study_version(study: Study) -> str:
    """What changes whenever the study does (its `updatedAt`; `createdAt` without one): the
    live worklist compares it with the rows a page shows."""
    when = study.updated_at or study.created_at
    return when.isoformat() if when else ""
