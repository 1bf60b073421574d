"""Many worklist rows at once (studies.rows.render_rows, the `worklist_rows` filter) are byte for
byte the `row` partial rendered for each of them: every shape a row can have (cancelled or not,
with or without a cancel time, an assignee, a customer, a creation time), ids the URL must
quote, values the page must escape, in several time zones."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.template.loader import get_template
from django.utils import timezone

from studies.rows import render_rows, study_rows
from tests.test_rows import studies

pytestmark = pytest.mark.django_db  # the suite's fresh-cache fixture clears the cache table


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_rows_at_once_are_the_partial_for_each(zone: str) -> None:
    partial = get_template("studies/worklist.html#row")
    with timezone.override(ZoneInfo(zone)):
        rows = study_rows(studies())
        one_by_one = "".join(partial.render({"study": row}) for row in rows)
        assert render_rows(rows) == one_by_one
        conditions = ("is_cancelled", "cancelled_at", "assigned_to", "express_customer")
        shapes = {tuple(bool(r[name]) for name in (*conditions, "created_at")) for r in rows}
        assert len(shapes) >= 9  # the sample covers many shapes
        assert "&lt;Head&gt; &amp; &quot;neck&quot; &#x27;n&#x27;" in one_by_one


def test_the_filter_renders_them_and_nothing_for_no_rows() -> None:
    template = engines["django"].from_string("{% load worklist_tags %}[{{ rows|worklist_rows }}]")
    rows = study_rows(studies()[:3])
    assert template.render({"rows": rows}) == f"[{render_rows(rows)}]"
    assert template.render({"rows": []}) == "[]"


def test_the_partial_tests_only_the_conditions_the_skeletons_know() -> None:
    """A skeleton answers every other `study.<name>` with a (truthy) marker: an `{% if %}` on
    another value, or a filter applied to one, would make every row look the same. Such a
    change to the partial must add the value to `_CONDITIONS` (or drop the skeletons)."""
    from pathlib import Path

    from django.conf import settings

    from studies.rows import _CONDITIONS

    source = (Path(settings.BASE_DIR) / "templates/studies/worklist.html").read_text()
    start = source.index("{% partialdef row %}")
    partial = source[start : source.index("{% endpartialdef %}", start)]
    tested = set(re.findall(r"{%\s*(?:if|elif)\s+([^%]*)%}", partial))
    names = {name for condition in tested for name in re.findall(r"study\.(\w+)", condition)}
    assert names, "the partial's conditions were not found"
    assert names <= set(_CONDITIONS)
    assert all(re.fullmatch(r"(not )?study\.\w+ |is_new ", c) for c in tested), tested
    assert not re.search(r"{{\s*study\.\w+\s*\|", partial)  # no filter on a shown value
