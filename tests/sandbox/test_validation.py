"""Unit tests of the format rules (§3, §12.5, §12.6)."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from sandbox.errors import ValidationFailed
from sandbox.validation import encode_cursor, is_dicom_uid, normalize_id, parse_page


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0", True),
        ("1.2.840.10008.5.1.4.1.1.2", True),
        ("1.2.0.10", True),
        ("1." + "9" * 62, True),
        ("1." + "9" * 63, False),
        ("", False),
        (".", False),
        ("1.", False),
        ("1..2", False),
        ("00.1", False),
        ("1.2.034", False),
        ("1.2.3a", False),
        ("1.2.-3", False),
        ("1.2.+3", False),
        ("\u0661.\u0662", False),
        ("1.2\n", False),
    ],
)
def test_dicom_uid_rule(value: str, valid: bool) -> None:
    assert is_dicom_uid(value) is valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("stu_" + "ab" * 16, "stu_" + "ab" * 16),
        ("stu_" + "AB" * 16, "stu_" + "ab" * 16),
        ("STU_" + "ab" * 16, None),
        ("stu_" + "ab" * 15, None),
        ("stu_" + "ab" * 16 + "\n", None),
        ("stu-" + "ab" * 16, None),
        ("usr_" + "ab" * 16, None),
        ("stu_" + "xy" * 16, None),
    ],
)
def test_study_id_pattern(value: str, expected: str | None) -> None:
    assert normalize_id(value, "stu") == expected


def test_cursor_round_trip_and_sdk_example() -> None:
    assert encode_cursor(20) == "eyJvZmZzZXQiOjIwfQ=="
    for offset in (0, 1, 7, 99, 12345):
        assert parse_page(QueryDict(f"cursor={encode_cursor(offset)}")).offset == offset


@pytest.mark.parametrize("limit", ["1", "20", "20.0", "100", "100.00", "007"])
def test_limit_accepts_whole_numbers(limit: str) -> None:
    assert parse_page(QueryDict(f"limit={limit}")).limit == int(float(limit))


@pytest.mark.parametrize("limit", ["0", "101", "20.5", "-5", "1e2", "", "twenty", "20 ", "inf"])
def test_limit_rejects_the_rest(limit: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_page(QueryDict(f"limit={limit}"))
