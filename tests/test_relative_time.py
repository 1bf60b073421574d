"""`relative_time` says what humanize's naturaltime says, for every kind of age: it computes
past times itself (the same steps, each translated text made once), so it is compared with
naturaltime at one fixed "now" over a dense range of ages, in English and in German."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.humanize.templatetags import humanize
from django.utils import translation

from studies.templatetags.studies_tags import _natural_past

NOW = datetime(2026, 3, 29, 1, 30, 5, 250000, tzinfo=UTC)  # a DST change in Europe


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return NOW if tz is not None else NOW.replace(tzinfo=None)


def _ages() -> list[timedelta]:
    ages = [timedelta(seconds=s, microseconds=m) for s in range(0, 7300) for m in (0, 1)]
    ages += [timedelta(minutes=m) for m in range(0, 3 * 24 * 60, 7)]
    rng = random.Random(11)  # noqa: S311 - spread of ages, not security
    ages += [timedelta(seconds=rng.randrange(86_400, 5 * 365 * 86_400)) for _ in range(3000)]
    return [age for age in ages if age > timedelta(0)]


@pytest.mark.parametrize("language", ["en-us", "de"])
def test_past_times_read_as_naturaltime_reads_them(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(humanize, "datetime", _FrozenDatetime)
    zones = [UTC, ZoneInfo("Europe/Zurich"), ZoneInfo("Asia/Tokyo")]
    with translation.override(language):
        for index, age in enumerate(_ages()):
            value = (NOW - age).astimezone(zones[index % len(zones)])
            expected = str(humanize.naturaltime(value))
            assert _natural_past(value, NOW) == expected, age
            assert _natural_past(value, NOW) == expected, age  # from what it remembered


def test_naive_times_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(humanize, "datetime", _FrozenDatetime)
    naive_now = NOW.replace(tzinfo=None)
    for age in (timedelta(seconds=5), timedelta(hours=3), timedelta(days=45, hours=2)):
        value = naive_now - age
        assert _natural_past(value, naive_now) == str(humanize.naturaltime(value))
