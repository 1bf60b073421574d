"""Path converters with bounds: a path parameter is checked before it reaches the database."""

from __future__ import annotations


class RowIdConverter:
    """A database row id: 1 to 18 digits, so it always fits a 64-bit integer column. Anything
    longer is not a URL of ours (404), instead of an out-of-range query."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
