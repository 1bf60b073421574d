"""The project's form renderer (`FORM_RENDERER`)."""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    """Forms render with the project's template settings (so `templates/forms/` is found), and
    every field group (`{{ form.field.as_field_group }}`) through `forms/field.html`: label,
    help, control and errors, the same on every page."""

    field_template_name = "forms/field.html"
