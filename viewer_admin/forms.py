"""The project's form renderer (`FORM_RENDERER`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.forms.renderers import TemplatesSetting

# Django's templates of the plain <input> widgets each only include widgets/input.html (which
# includes widgets/attrs.html): three template renders per box. They render with input.html
# itself, the same markup in one render (templates/django/forms/ has it with attrs.html written
# in, like select.html, label.html and the error list).
_INPUT_WIDGETS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
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
_INPUT = "django/forms/widgets/input.html"


class FormRenderer(TemplatesSetting):
    """Forms render with the project's template settings (so `templates/forms/` is found), and
    every field group (`{{ form.field.as_field_group }}`) through `forms/field.html`: label,
    help, control and errors, the same on every page.

    A form renders a dozen small templates per field (label, widget, errors); each is looked
    up once per process and kept (not with DEBUG, where templates are reloaded when edited)."""

    field_template_name = "forms/field.html"

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[str, Any] = {}

    def get_template(self, template_name: str) -> Any:
        name = _INPUT if template_name in _INPUT_WIDGETS else template_name
        if settings.DEBUG:
            return super().get_template(name)
        template = self._templates.get(name)
        if template is None:
            template = self._templates[name] = super().get_template(name)
        return template
