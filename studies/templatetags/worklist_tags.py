"""Template filters of the worklist."""

from __future__ import annotations

from django import template

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
