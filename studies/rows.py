"""A worklist row's values, computed once in Python instead of by template tags per row.

The worklist's `row` partial (templates/studies/worklist.html) shows 50 studies a page; the
template engine's per-row work (looking up each attribute of a pydantic model, a `{% url %}`,
two badge tags, the copy button, three time filters) was most of what a render cost. A
`StudyRow` is a dict, the template engine's fastest lookup, holding what the row shows, ready
made and escaped the same way the tags escape it; any other key falls back to the study's own
attribute, so `study.anything` in the partial keeps working. The HTML is byte for byte what the
tags and filters make (tests/test_rows.py compares both renderings).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.template import Context
from django.template.base import render_value_in_context
from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from studies.templatetags.studies_tags import (
    copy_button,
    local_time,
    relative_time,
    severity_badge,
    viewer_status_badge,
)
from studies.templatetags.worklist_tags import short_uid, study_version
from studies.viewer_api import Study

# A study id made only of these characters appears in its URL as it is (nothing to quote), so
# one reversed URL serves every such row; any other id is reversed on its own.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
_ID_MARK = "0study0id0"


def _detail_url_maker() -> Callable[[str], str]:
    """study_id → its detail page URL, as `{% url 'study_detail' study_id %}` makes it."""
    head, _, tail = reverse("study_detail", args=[_ID_MARK]).partition(_ID_MARK)

    def detail_url(study_id: str) -> str:
        if _PLAIN_ID.fullmatch(study_id):
            return f"{head}{study_id}{tail}"
        return reverse("study_detail", args=[study_id])

    return detail_url


class StudyRow(dict[str, Any]):
    """One study as a worklist row shows it (see the module docstring)."""

    def __init__(self, study: Study, detail_url: Callable[[str], str] | None = None) -> None:
        uid = study.study_instance_uid
        created = study.created_at
        super().__init__(
            study=study,
            study_id=study.study_id,
            study_instance_uid=uid,
            study_description=study.study_description,
            is_cancelled=study.is_cancelled,
            cancelled_at=study.cancelled_at,
            created_at=created,
            assigned_to=study.assigned_to,
            express_customer=study.express_customer,
            detail_url=(detail_url or _detail_url_maker())(study.study_id),
            severity_badge=severity_badge(study.severity),
            status_badge=viewer_status_badge(study.study_viewer_status),
            short_uid=short_uid(uid),
            copy_button=copy_button(uid, label="Copy"),
            assignee_name=study.assigned_to.display_name if study.assigned_to else "",
            customer_name=(
                study.express_customer.express_customer_name if study.express_customer else ""
            ),
            cancelled_local=local_time(study.cancelled_at),
            created_iso=created.isoformat() if created else "",
            created_local=local_time(created),
            created_relative=relative_time(created),
            version=study_version(study),
        )

    def __getattr__(self, name: str) -> Any:
        try:
            study = self["study"]
        except KeyError:
            raise AttributeError(name) from None
        return getattr(study, name)  # the template engine's fallback after a missing key


def study_rows(studies: Iterable[Study]) -> list[StudyRow]:
    detail_url = _detail_url_maker()
    return [StudyRow(study, detail_url) for study in studies]


# --- Many rows at once --------------------------------------------------------------------------
#
# Rendering the `row` partial 50 times through the template engine still cost more than all the
# rest of a "Load more". The partial's markup depends on a row only through the values it shows
# and the few that its `{% if %}`s test, so it is rendered once per combination of those (a
# "shape"), with a marker in place of each shown value, and a row is that skeleton with its
# values put in, each escaped as the template engine escapes it. The partial stays the one
# definition of a row (tests/test_rows.py compares both renderings).

ROW_TEMPLATE = "studies/worklist.html#row"
# What the partial's `{% if %}`s test; everything else it looks up is shown as it is.
_CONDITIONS = ("is_cancelled", "cancelled_at", "assigned_to", "express_customer", "created_at")
_MARK = "\x1e"  # an ASCII record separator: never in a rendered page


class _Markers(dict[str, Any]):
    """The `study` of a skeleton render: the shape's answers to the conditions, and for any
    other key a marker naming it."""

    def __init__(self, shape: tuple[bool, ...]) -> None:
        super().__init__(zip(_CONDITIONS, shape, strict=True))

    def __missing__(self, key: str) -> SafeString:
        return mark_safe(f"{_MARK}{key}{_MARK}")  # noqa: S308 - a marker, no user input


_skeletons: dict[tuple[int, tuple[bool, ...]], list[str]] = {}


def _skeleton(template: Any, shape: tuple[bool, ...]) -> list[str]:
    """The partial for rows of `shape`: literal HTML and value names, alternately."""
    key = (id(template), shape)
    parts = _skeletons.get(key)
    if parts is None:
        if len(_skeletons) > 256:  # templates reloaded in development
            _skeletons.clear()
        parts = template.render({"study": _Markers(shape), "is_new": False}).split(_MARK)
        _skeletons[key] = parts
    return parts


def _shown(row: StudyRow, name: str) -> Any:
    """`study.<name>` as the template engine looks it up: the row's value, else the study's."""
    try:
        return row[name]
    except KeyError:
        return getattr(row["study"], name)


def _rendered(value: Any, context: Context) -> str:
    """`{{ value }}` in `context`; a text (what nearly every value is) needs escaping only,
    which is what Django's `escape` does (without its lazy-text wrapper)."""
    if type(value) is str:
        return html.escape(value)
    if type(value) is SafeString:
        return value
    return render_value_in_context(value, context)


def render_rows(rows: Iterable[StudyRow]) -> SafeString:
    """`{% for study in rows %}{% partial row %}{% endfor %}`, byte for byte."""
    template = get_template(ROW_TEMPLATE)
    context = Context(autoescape=True)
    out: list[str] = []
    for row in rows:
        parts = _skeleton(template, tuple(bool(row[name]) for name in _CONDITIONS))
        for index, part in enumerate(parts):
            out.append(_rendered(_shown(row, part), context) if index % 2 else part)
    return mark_safe("".join(out))  # noqa: S308 - every value escaped as the template does
