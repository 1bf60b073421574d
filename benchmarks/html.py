"""Reading pages as a browser does: the fields a form submits, the worklist's rows and links,
and the scripts and stylesheets a page loads."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

from benchmarks.servers import BenchmarkError

ROW: Final = re.compile(r'<tr class="worklist-row')
LOAD_MORE: Final = re.compile(r'<tr id="load-more".*?href="([^"]+)"', re.S)
PICKER_USER: Final = re.compile(r'<input type="radio" name="[\w-]*assigned_to" value="usr_')
_ERROR_ITEM: Final = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
_TAG: Final = re.compile(r"<[^>]+>")


def page_errors(html: str) -> str:
    """The field errors a page shows, as text (for a failed form post)."""
    errors = [" ".join(_TAG.sub(" ", m).split()) for m in _ERROR_ITEM.findall(html)]
    return "; ".join(errors)[:500] or "no field errors shown"


def load_more_url(html: str) -> str | None:
    match = LOAD_MORE.search(html)
    return match.group(1).replace("&amp;", "&") if match else None


class Assets(HTMLParser):
    """The scripts and stylesheets a page loads from its own origin."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "script" and attr.get("src"):
            self.urls.append(attr["src"] or "")
        elif tag == "link" and "stylesheet" in (attr.get("rel") or "").split():
            self.urls.append(attr.get("href") or "")


def asset_urls(html: str) -> list[str]:
    parser = Assets()
    parser.feed(html)
    return [url for url in parser.urls if url.startswith("/")]


class FormFields(HTMLParser):
    """The controls a browser would submit from the `<form>` whose action is `action`
    (checked radios and checkboxes only, a select's selected option, nothing inside
    `<template>`, no submit buttons)."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.found = False
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._template_depth = 0
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form" and attr.get("action") == self.action:
            self._in_form = self.found = True
        if tag == "template":
            self._template_depth += 1
        if not self._in_form or self._template_depth or "disabled" in attr:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = (attr.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"radio", "checkbox"} and "checked" not in attr:
                return
            self.fields[name] = attr.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select, self._selected, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = attr.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attr:
                self._selected = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        elif tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            chosen = self._selected if self._selected is not None else self._first_option
            self.fields[self._select] = chosen or ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields[self._textarea] = "".join(self._text)
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str, action: str) -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    if not parser.found:
        raise BenchmarkError(f"The page has no form posting to {action}.")
    return parser.fields
