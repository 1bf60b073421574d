"""The project's form renderer (`FORM_RENDERER`).

Every form renders through it: `forms/field.html` for each field group (label, help, control
and errors, the same on every page), and Django's own templates for the widgets, labels and
error lists. A page of forms renders dozens of those small templates (a select and each of its
options, every box's attributes, every label), and the template engine's cost per render is
most of a form page's time. So the renderer writes the markup of the most common of Django's
own small templates itself, exactly as those templates would (tests/test_form_rendering.py
compares every form of the app with Django's templates):

- the plain <input> widgets (`widgets/input.html`, and text, hidden, checkbox … which only
  include it) with their attributes (`widgets/attrs.html`),
- `widgets/select.html` whose options are plain `widgets/select_option.html`,
- `label.html` (with `attrs.html`) and the error list (`errors/list/default.html`, `ul.html`).

Anything else, a template the project overrides (under templates/django/forms/), or a value
that is not text, renders through the templates as usual.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import django.forms
from django.conf import settings
from django.forms.renderers import TemplatesSetting
from django.utils.functional import Promise
from django.utils.safestring import SafeData

_DJANGO_TEMPLATES: Final = Path(django.forms.__file__).resolve().parent / "templates"
_W = "django/forms/widgets/"
_ATTRS = f"{_W}attrs.html"
_INPUT = f"{_W}input.html"
_OPTION = f"{_W}select_option.html"
_INPUT_WIDGETS: Final = tuple(
    f"{_W}{name}.html"
    for name in (
        "input",
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "hidden",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)


class _Unusual(Exception):
    """A value the native markup does not handle: render through the template instead."""


def _escaped(text: str) -> str:
    """`conditional_escape(text)` (the same `html.escape`, without its lazy-string wrapper)."""
    if hasattr(text, "__html__"):
        return str(text.__html__())
    return html.escape(text)


def _text(value: object) -> str:
    """`{{ value }}` with autoescaping, for text (a number would be localized: not here)."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Unusual
    return _escaped(value)


def _formatted(value: object) -> str:
    """`{{ value|stringformat:'s' }}` with autoescaping."""
    out = "%s" % (str(value) if isinstance(value, tuple) else value)
    return out if isinstance(value, SafeData) else _escaped(out)


def _attrs(attrs: Mapping[str, object] | None) -> str:
    """`attrs.html`: ` name="value"` for each attribute, ` name` for True, nothing for False."""
    if attrs is None:
        return ""
    if not isinstance(attrs, Mapping):
        raise _Unusual
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(context: Mapping[str, Any]) -> str:
    widget = context["widget"]
    value = widget["value"]
    shown = "" if value is None else f' value="{_formatted(value)}"'
    attrs = _attrs(widget["attrs"])
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{shown}{attrs}>'


def _select(context: Mapping[str, Any]) -> str:
    widget = context["widget"]
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                raise _Unusual
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _label(context: Mapping[str, Any]) -> str:
    label = _text(context["label"])
    if not context["use_tag"]:
        return label
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def _errors(context: Mapping[str, Any]) -> str:
    errors: Iterable[object] = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    shown_id = f' id="{_text(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_text(error)}</li>" for error in errors)
    return f'<ul class="{_text(context["error_class"])}"{shown_id}>{items}</ul>'


# Each template written natively: how, and the Django templates it stands for (all must be
# Django's own, not overridden, for the native markup to be used).
_NATIVE: Final[dict[str, tuple[Callable[[Mapping[str, Any]], str], tuple[str, ...]]]] = {
    **{name: (_input, (name, _INPUT, _ATTRS)) for name in _INPUT_WIDGETS},
    f"{_W}select.html": (_select, (f"{_W}select.html", _OPTION, _ATTRS)),
    "django/forms/label.html": (_label, ("django/forms/label.html", "django/forms/attrs.html")),
    "django/forms/errors/list/default.html": (
        _errors,
        ("django/forms/errors/list/default.html", "django/forms/errors/list/ul.html"),
    ),
}


class FormRenderer(TemplatesSetting):
    """Forms render with the project's template settings (so `templates/forms/` is found), and
    every field group (`{{ form.field.as_field_group }}`) through `forms/field.html`. Templates
    are looked up once per process and kept (not with DEBUG, where edits are picked up)."""

    field_template_name = "forms/field.html"

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[str, Any] = {}
        self._native: dict[str, Callable[[Mapping[str, Any]], str] | None] = {}

    def get_template(self, template_name: str) -> Any:
        if settings.DEBUG:
            return super().get_template(template_name)
        template = self._templates.get(template_name)
        if template is None:
            template = self._templates[template_name] = super().get_template(template_name)
        return template

    def _native_for(self, template_name: str) -> Callable[[Mapping[str, Any]], str] | None:
        if template_name in self._native and not settings.DEBUG:
            return self._native[template_name]
        native, stands_for = _NATIVE.get(template_name, (None, ()))
        if native is not None and not all(self._is_djangos(name) for name in stands_for):
            native = None
        self._native[template_name] = native
        return native

    def _is_djangos(self, template_name: str) -> bool:
        origin = Path(str(self.get_template(template_name).origin.name)).resolve()
        return origin.is_relative_to(_DJANGO_TEMPLATES)

    def render(
        self, template_name: str, context: dict[str, Any], request: Any | None = None
    ) -> str:
        native = self._native_for(template_name)
        if native is not None:
            try:
                return native(context).strip()
            except _Unusual:
                pass
        return super().render(template_name, context, request)
