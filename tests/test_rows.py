"""The worklist's rows, rendered from precomputed values (studies.rows), are byte for byte what
the template tags and filters made before: the reference is the `row` partial of the template
itself with each precomputed value turned back into the tag or filter it stands for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags import humanize
from django.template import engines
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.formats import date_format

from studies.rows import StudyRow, study_rows
from studies.templatetags import studies_tags
from studies.templatetags.studies_tags import (
    copy_button,
    local_time,
    relative_time,
    severity_badge,
)
from studies.viewer_api import Study

pytestmark = pytest.mark.django_db  # the suite's fresh-cache fixture clears the cache table

NOW = datetime(2026, 3, 29, 1, 30, 5, 250000, tzinfo=UTC)  # a DST change in Europe

# Each precomputed value of the row partial and the tag or filter that made it before.
AS_TAGS = {
    "{{ study.severity_badge }}": "{% severity_badge study.severity %}",
    "{{ study.version }}": "{{ study|study_version }}",
    "{{ study.detail_url }}": "{% url 'study_detail' study.study_id %}",
    "{{ study.short_uid }}": "{{ study.study_instance_uid|short_uid }}",
    "{{ study.copy_button }}": '{% copy_button study.study_instance_uid label="Copy" %}',
    "{{ study.assignee_name }}": "{{ study.assigned_to.display_name }}",
    "{{ study.customer_name }}": "{{ study.express_customer.express_customer_name }}",
    "{{ study.status_badge }}": "{% viewer_status_badge study.study_viewer_status %}",
    "{{ study.cancelled_local }}": "{{ study.cancelled_at|local_time }}",
    "{{ study.created_iso }}": "{{ study.created_at.isoformat }}",
    "{{ study.created_local }}": "{{ study.created_at|local_time }}",
    "{{ study.created_relative }}": "{{ study.created_at|relative_time }}",
}


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return NOW if tz is not None else NOW.replace(tzinfo=None)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with (
        mock.patch.object(humanize, "datetime", FrozenDatetime),
        mock.patch.object(studies_tags, "datetime", FrozenDatetime),
    ):
        yield


def reference_row_template() -> Any:
    """The template's `row` partial with the tags and filters instead of the row's values."""
    source = (Path(settings.BASE_DIR) / "templates/studies/worklist.html").read_text()
    match = re.search(r"{% partialdef row %}(.*?){% endpartialdef %}", source, re.S)
    assert match, "the worklist template has no row partial"
    row = match.group(1)
    for value, tag in AS_TAGS.items():
        row = row.replace(value, tag)
    leftover = re.findall(r"study\.(\w+)", row)
    unknown = {name for name in leftover if name not in Study.model_fields}
    assert not unknown, f"add these row values to AS_TAGS: {sorted(unknown)}"
    return engines["django"].from_string("{% load studies_tags worklist_tags %}" + row)


def study(number: int, **overrides: Any) -> Study:
    body: dict[str, Any] = {
        "studyId": f"stu_{number:032x}",
        "studyInstanceUid": f"1.2.840.113619.2.55.3.604688119.868.{1000 + number}",
        "studyDescription": f"CT <Head> & \"neck\" 'n' {number}",
        "severity": ("normal", "high", "stat", "urgent-ish", "")[number % 5],
        "studyViewerStatus": ("incomplete", "complete", "archived")[number % 3],
        "isCancelled": number % 4 == 0,
        "cancelledAt": (NOW - timedelta(hours=number)).isoformat() if number % 8 == 0 else None,
        "createdAt": (NOW - timedelta(seconds=7**number % 90_000_000)).isoformat(),
        "assignedTo": (
            {"userId": "usr_1", "email": "a&b@example.org", "firstName": "Ann", "lastName": "O'Lee"}
            if number % 3
            else None
        ),
        "expressCustomer": (
            {"expressCustomerId": "cus_1", "expressCustomerName": "Lake <side> & Co"}
            if number % 2
            else None
        ),
    }
    return Study.model_validate(body | overrides)


def studies() -> list[Study]:
    made = [study(number) for number in range(40)]
    made += [
        study(40, createdAt=None),
        study(41, createdAt=NOW.isoformat()),  # "just now"
        study(42, createdAt=(NOW - timedelta(days=800)).isoformat()),
        study(43, createdAt=(NOW + timedelta(minutes=5)).isoformat()),  # a clock ahead
        study(44, studyId="stu with space é"),  # an id the URL must quote
        study(45, studyInstanceUid="1.2.3"),  # short: shown whole
        study(46, assignedTo={"userId": "usr_2", "email": "only@example.org"}),
    ]
    return made


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
@pytest.mark.parametrize("is_new", [False, True])
def test_rows_render_as_the_tags_did(zone: str, is_new: bool) -> None:
    reference = reference_row_template()
    partial = get_template("studies/worklist.html#row")
    with timezone.override(ZoneInfo(zone)):
        for made, row in zip(studies(), study_rows(studies()), strict=True):
            expected = reference.render({"study": made, "is_new": is_new})
            assert partial.render({"study": row, "is_new": is_new}) == expected


def test_the_page_rows_render_every_study_and_the_quick_create_row_alike() -> None:
    reference = reference_row_template()
    made = studies()[:5]
    rows = get_template("studies/worklist.html#page_rows").render(
        {"results": mock.Mock(rows=study_rows(made)), "next_url": None}
    )
    shown, end, _ = rows.partition('<tr class="end-of-list"')
    assert shown.strip() == "".join(reference.render({"study": s}) for s in made).strip()
    assert end  # no next page: the list ends with its marker
    created = get_template("studies/worklist.html#row").render(
        {"study": StudyRow(made[0]), "is_new": True}
    )
    assert created == reference.render({"study": made[0], "is_new": True})


def test_a_row_falls_back_to_the_study_for_anything_else() -> None:
    made = study(3, metadata={"modality": "CT"})
    row = StudyRow(made)
    assert row.metadata == {"modality": "CT"}
    assert row.updated_at == made.updated_at
    with pytest.raises(AttributeError):
        row.no_such_field  # noqa: B018


@pytest.mark.parametrize("language", ["en-us", "de", "fr"])
def test_local_time_is_djangos_date_format(language: str) -> None:
    with translation.override(language), timezone.override(ZoneInfo("Europe/Berlin")):
        for month in range(1, 13):
            value = datetime(2025, month, 3 + month, 7, 4 * month, tzinfo=UTC)
            local = timezone.localtime(value)
            assert local_time(value) == date_format(local, "j M Y, H:i")


def test_the_badges_and_the_copy_button_escape_as_format_html_did() -> None:
    assert severity_badge("stat") == '<span class="badge badge--stat">STAT</span>'
    assert severity_badge("<b>") == '<span class="badge">&lt;b&gt;</span>'
    assert severity_badge(None) == '<span class="badge">Unknown</span>'
    assert copy_button('1.2"<3>', label="Copy & go") == (
        '<button type="button" class="button button--small copy-button" '
        'data-copy-text="1.2&quot;&lt;3&gt;" hidden><span class="copy-button__label">'
        "Copy &amp; go</span></button>"
    )


@pytest.mark.parametrize("language", ["en-us", "de"])
def test_relative_time_is_naturaltime_also_when_remembered(language: str) -> None:
    ages = [0, 1, 59, 60, 61, 3599, 3600, 86_399, 86_400, 90_061, 31 * 86_400, 400 * 86_400]
    values = [NOW - timedelta(seconds=age, microseconds=micro) for age in ages for micro in (0, 1)]
    values += [
        NOW + timedelta(seconds=30),
        NOW.astimezone(ZoneInfo("Asia/Tokyo")) - timedelta(days=40),
    ]
    with translation.override(language):
        natural = [str(humanize.naturaltime(value)) for value in values]
        expected = ["just now" if text == "now" else text for text in natural]
        assert [relative_time(value) for value in values] == expected
        assert [relative_time(value) for value in values] == expected  # from what it remembered
