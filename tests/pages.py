"""Reading rendered pages in view tests."""

from __future__ import annotations

import re
from typing import Any


def html(response: Any) -> str:
    return response.content.decode()


def input_value(page: str, name: str) -> str | None:
    """The `value` of the input named `name` ("" without one), or None when there is none."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""
