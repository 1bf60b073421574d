"""Reading rendered pages in view tests, and finding the assignee picker's choices in browser
tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page


def html(response: Any) -> str:
    return response.content.decode()


def input_value(page: str, name: str) -> str | None:
    """The `value` of the input named `name` ("" without one), or None when there is none."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def assignee_radio(scope: Page | Locator, name: str) -> Locator:
    """The radio button of the assignee picker's choice whose text has `name`. With JavaScript
    the choice is an option of the combobox and its radio is hidden from assistive technology
    (so it has no "radio" role), but it is still what is checked and submitted."""
    return scope.locator(".choice", has_text=re.compile(re.escape(name))).locator(
        "input[type=radio]"
    )
