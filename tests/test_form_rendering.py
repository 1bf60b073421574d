"""The project's form renderer renders exactly the markup of Django's own widget templates.

`viewer_admin.forms.FormRenderer` renders the plain input widgets with one template and keeps
templates/django/forms/ versions of Django's select, label and error-list templates with the
included pieces written in (fewer template renders per field). Every form of the app, unbound
and bound with errors, renders the same with it as with Django's templates."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import django.forms
import pytest
from django import forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates, TemplatesSetting, get_default_renderer
from django.http import QueryDict
from django.template.backends.django import DjangoTemplates as DjangoTemplatesBackend

from imports.forms import ImportUploadForm
from studies.filters import WorklistFilterForm
from studies.forms import (
    MetadataFormSet,
    StudyBaseForm,
    StudyCreateForm,
    StudyEditForm,
    ViewerStatusForm,
)
from studies.pacs_forms import DicomFileForm, PacsSearchForm
from studies.viewer_api import ExpressCustomer
from viewer_admin.forms import FormRenderer

TOKEN = "0b5c5a52-6a3f-4c1e-9f55-7f4b1f0a2d11"  # the forms' one-time token, the same for both
CUSTOMERS = [
    ExpressCustomer(
        express_customer_id=f"cus_{n}",
        express_customer_name=f"Clinic <{n}> & Co",
        is_active=True,
        user_count=1,
    )
    for n in range(3)
]


class DjangoOwnTemplates(DjangoTemplates):
    """Django's own form templates first, then the project's (for forms/field.html)."""

    field_template_name = "forms/field.html"

    @cached_property
    def engine(self) -> Any:
        return DjangoTemplatesBackend(
            {
                "APP_DIRS": False,
                "DIRS": [
                    Path(django.forms.__file__).parent / "templates",
                    Path(settings.BASE_DIR) / "templates",
                ],
                "NAME": "django-own-form-templates",
                "OPTIONS": {},
            }
        )


def query(**values: str) -> QueryDict:
    data = QueryDict(mutable=True)
    data.update(values)
    return data


# Each case builds a form (or formset) given a renderer.
CASES: dict[str, Callable[[Any], Any]] = {
    "quick-create, unbound": lambda r: StudyBaseForm(
        initial={"token": TOKEN}, prefix="quick", renderer=r
    ),
    "quick-create, with errors": lambda r: StudyBaseForm(
        query(
            **{
                "quick-token": TOKEN,
                "quick-study_description": "x" * 300,
                "quick-study_instance_uid": "1..2",
            }
        ),
        prefix="quick",
        renderer=r,
    ),
    "create, customers": lambda r: StudyCreateForm(
        initial={
            "token": TOKEN,
            "express_customer_id": "cus_1",
            "study_description": 'CT "Head" <b>',
        },
        customers=CUSTOMERS,
        renderer=r,
    ),
    "create, with errors": lambda r: StudyCreateForm(
        query(token=TOKEN, severity="bogus", express_customer_id="cus_9", assigned_to="nope"),
        customers=CUSTOMERS,
        renderer=r,
    ),
    "edit, with errors": lambda r: StudyEditForm(
        query(severity="stat", study_description=""), renderer=r
    ),
    "viewer status": lambda r: ViewerStatusForm(renderer=r),
    "PACS search": lambda r: PacsSearchForm(query(date_from="not a date"), renderer=r),
    "DICOM file": lambda r: DicomFileForm(query(), renderer=r),
    "import upload": lambda r: ImportUploadForm(
        query(pasted="a\tb"), {"file": SimpleUploadedFile("x.csv", b"a,b\n")}, renderer=r
    ),
}


def _filters(renderer: Any) -> WorklistFilterForm:
    form = WorklistFilterForm(
        query(severity="stat", q="CT <x>", customer="cus_2"), customers=CUSTOMERS
    )
    form.renderer = renderer
    return form


def _metadata(renderer: Any, bound: bool) -> Any:
    if not bound:
        formset = MetadataFormSet(initial=[{"key": "ward", "value": "ED & <ICU>"}])
        formset.renderer = renderer
        return formset
    data = query(
        **{
            "metadata-TOTAL_FORMS": "2",
            "metadata-INITIAL_FORMS": "0",
            "metadata-0-key": "ward",
            "metadata-0-value": "ED",
            "metadata-1-key": "ward",
            "metadata-1-value": "x" * 5000,
            "metadata-1-DELETE": "on",
        }
    )
    formset = MetadataFormSet(data)
    formset.renderer = renderer
    return formset


def markup(form: Any) -> list[str]:
    """Everything a template may render of a form: each field group, widget, label and error
    list, and the form as a whole."""
    form.is_bound and form.is_valid()
    parts = [str(form)]
    for field in form:
        parts += [field.as_field_group(), str(field), field.label_tag(), str(field.errors)]
    return parts


def formset_markup(formset: Any) -> list[str]:
    formset.is_bound and formset.is_valid()
    parts = [str(formset.management_form), str(formset.non_form_errors())]
    for form in [*formset.forms, formset.empty_form]:
        parts += markup(form)
    return parts


def test_the_project_renderer_is_the_default() -> None:
    assert isinstance(get_default_renderer(), FormRenderer)


@pytest.mark.parametrize("case", list(CASES))
def test_every_form_renders_as_with_djangos_own_templates(case: str) -> None:
    ours = markup(CASES[case](FormRenderer()))
    reference = markup(CASES[case](DjangoOwnTemplates()))
    assert ours == reference
    assert any("<input" in part or "<select" in part for part in ours)


def test_the_worklist_filters_render_as_with_djangos_own_templates() -> None:
    ours = markup(_filters(FormRenderer()))
    assert ours == markup(_filters(DjangoOwnTemplates()))
    assert any(
        '<option value="cus_2" selected>Clinic &lt;2&gt; &amp; Co</option>' in p for p in ours
    )


@pytest.mark.parametrize("bound", [False, True])
def test_the_metadata_rows_render_as_with_djangos_own_templates(bound: bool) -> None:
    ours = formset_markup(_metadata(FormRenderer(), bound))
    assert ours == formset_markup(_metadata(DjangoOwnTemplates(), bound))
    assert any('type="checkbox"' in part for part in ours)


def test_a_select_with_groups_and_a_radio_list_render_as_with_djangos_own_templates() -> None:
    class Odd(forms.Form):
        grouped = forms.ChoiceField(
            choices=[("Near", [("a", "A"), ("b", "B <")]), ("c", "C")], initial="b"
        )
        radios = forms.ChoiceField(choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect)
        many = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two")], initial=["2"])
        when = forms.DateTimeField(widget=forms.DateTimeInput)
        secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="s")
        agree = forms.BooleanField(initial=True)

    assert markup(Odd(renderer=FormRenderer())) == markup(Odd(renderer=DjangoOwnTemplates()))
    bound = query(grouped="a", radios="y", secret="t", agree="on")
    assert markup(Odd(bound, renderer=FormRenderer())) == markup(
        Odd(bound, renderer=DjangoOwnTemplates())
    )


def test_the_common_widgets_labels_and_errors_render_without_their_templates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered: list[str] = []
    through_templates = TemplatesSetting.render

    def record(self: Any, template_name: str, context: Any, request: Any = None) -> str:
        rendered.append(template_name)
        return through_templates(self, template_name, context, request)

    monkeypatch.setattr(TemplatesSetting, "render", record)
    for case in ("create, with errors", "quick-create, with errors"):
        markup(CASES[case](FormRenderer()))
    assert "forms/field.html" in rendered  # the field template still renders as a template
    assert not [name for name in rendered if name.startswith("django/forms/widgets/")]
    assert "django/forms/label.html" not in rendered
    assert "django/forms/errors/list/default.html" not in rendered
