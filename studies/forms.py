"""Forms of the coordinator app.

The rules themselves (DICOM UID, ID formats, metadata limits, description length) live in the
service module `studies.viewer_api`; these forms only apply them and put each message at the
field it belongs to. The pieces are meant to be combined:

- `AssigneePickerForm`: the assignee type-ahead's two fields (search text and chosen user);
  `assignee_options()` builds what the `studies/_assignee_picker.html` partial shows.
- `StudyBaseForm`: token, severity, description, UID and assignee (the quick-create form).
- `StudyCreateForm`: the full form, with the Express customer.
- `StudyEditForm`: severity, description, viewer status and assignee of an existing study;
  it remembers the values it showed, so that only what the coordinator changed is sent.
- `ViewerStatusForm`: the one-click "Mark complete" / "Reopen".
- `MetadataFormSet`: the key/value rows, at most 50, shared by create and edit.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.forms.formsets import (
    INITIAL_FORM_COUNT,
    MAX_NUM_FORM_COUNT,
    MIN_NUM_FORM_COUNT,
    TOTAL_FORM_COUNT,
    ManagementForm,
)
from django.http import QueryDict
from django.urls import reverse
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from studies import viewer_api
from studies.viewer_api import (
    DESCRIPTION_MAX_LENGTH,
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_VALUE_MAX_LENGTH,
    UNASSIGNED,
    ExpressCustomer,
    InvalidRequest,
    Severity,
    Study,
    StudyCreate,
    StudyUpdate,
    User,
    UserRef,
    ViewerAPIError,
    ViewerStatus,
    dicom_uid_problem,
    metadata_problems,
)

FormT = TypeVar("FormT", bound=forms.Form)

SEVERITY_CHOICES = [(severity.value, severity.label) for severity in Severity]
VIEWER_STATUS_CHOICES = [(status.value, status.label) for status in ViewerStatus]
ASSIGNEE_SEARCH_LIMIT = 10
EXPIRED = "This form had expired. Check the values and submit it again."
# The widget attributes of a box whose text is a code or a search, not prose.
VERBATIM = {"autocomplete": "off", "spellcheck": "false"}
ASSIGNEE_QUERY_MAX_LENGTH = 200
# The API matches names by parts and an email only whole (§7.3): the help says so.
ASSIGNEE_PLACEHOLDER = "Name, or whole email"
ASSIGNEE_HELP = (
    "Search by first or last name (or both), or by the whole email address: part of an email "
    "finds nothing. Then choose."
)


def _problem_validator(problem: Callable[[str], str | None]) -> Callable[[str], None]:
    """A Django validator from one of the service module's "what is wrong" functions."""

    def validate(value: str) -> None:
        message = problem(value)
        if message:
            raise ValidationError(message, code="invalid")

    return validate


validate_dicom_uid = _problem_validator(dicom_uid_problem)


def _id_check(id_type: Any) -> Callable[[str], bool]:
    """Whether a value is an ID of the service module's type `id_type` (StudyId, ...)."""
    adapter: TypeAdapter[str] = TypeAdapter(id_type)

    def check(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except PydanticValidationError:
            return False
        return True

    return check


is_study_id = _id_check(viewer_api.StudyId)
is_user_id = _id_check(viewer_api.UserId)
is_customer_id = _id_check(viewer_api.CustomerId)


# --- Field factories: one definition per field, shared by create, quick-create and edit ------


def severity_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Severity",
        choices=SEVERITY_CHOICES,
        initial=Severity.NORMAL.value,
        error_messages={"invalid_choice": "Choose Normal, High or STAT."},
    )


def description_field() -> forms.CharField:
    return forms.CharField(
        label="Study description",
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={
            "required": "Enter a study description.",
            "max_length": (
                "A study description has at most %(limit_value)d characters "
                "(this one has %(show_value)d)."
            ),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def viewer_status_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Viewer status",
        choices=VIEWER_STATUS_CHOICES,
        error_messages={"invalid_choice": "Choose Incomplete or Complete."},
    )


def study_instance_uid_field() -> forms.CharField:
    # No max_length: the DICOM rule says "too long" in its own words.
    return forms.CharField(
        label="Study Instance UID",
        validators=[validate_dicom_uid],
        error_messages={"required": dicom_uid_problem("") or ""},
        help_text="Digits separated by dots, at most 64 characters.",
        widget=forms.TextInput(attrs={"class": "mono", "inputmode": "decimal", **VERBATIM}),
    )


class _Form(forms.Form):
    """Labels exactly as written (no trailing colon). `copy_kwargs` are the keyword arguments
    (besides data, initial and prefix) that `unbound_copy` passes on to a copy."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.copy_kwargs: dict[str, Any] = {}


# --- Assignee picker -------------------------------------------------------------------------


class AssigneePickerForm(_Form):
    """The assignee type-ahead: a search box and the chosen user's ID (empty: unassigned).

    Used alone (with the embedding form's prefix) by the search endpoint, and as a base of the
    study forms. Render it with `{% include "studies/_assignee_picker.html" %}` given `form`
    and `picker` (from `assignee_options`).
    """

    assignee_query = forms.CharField(
        label="Assignee",
        required=False,
        help_text=ASSIGNEE_HELP,
        max_length=ASSIGNEE_QUERY_MAX_LENGTH,
        error_messages={
            "max_length": (
                "Search with at most %(limit_value)d characters (this search has %(show_value)d)."
            )
        },
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": ASSIGNEE_PLACEHOLDER}
        ),
    )
    assigned_to = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_assigned_to(self) -> str | None:
        value: str = self.cleaned_data.get("assigned_to", "")
        if not value:
            return None
        if not is_user_id(value):
            raise ValidationError("Choose the assignee from the search results.", code="invalid")
        return value


@dataclass(frozen=True)
class AssigneeChoice:
    """One radio button of the picker."""

    user_id: str
    name: str
    email: str
    role: str = ""

    @classmethod
    def from_user(cls, user: User) -> AssigneeChoice:
        return cls(user.user_id, user.display_name or user.email, user.email, user.clinic_role)

    @classmethod
    def from_ref(cls, ref: UserRef) -> AssigneeChoice:
        return cls(ref.user_id, ref.display_name, ref.email)


@dataclass(frozen=True)
class AssigneeBlank:
    """A radio button of the picker that is not a user: "Nobody", or the worklist filter's
    "Anyone" and "Unassigned"."""

    value: str
    name: str
    detail: str = ""
    checked: bool = False


# The study forms' one choice besides a user; the worklist filter's two.
NOBODY = (AssigneeBlank("", "Nobody", "unassigned"),)
ANYONE_OR_UNASSIGNED = (AssigneeBlank("", "Anyone"), AssigneeBlank(UNASSIGNED, "Unassigned"))


@dataclass(frozen=True)
class AssigneeOptions:
    """What the picker shows: its blank choices, the chosen user, then the matches of the
    search."""

    query: str
    selected: AssigneeChoice | None
    matches: list[AssigneeChoice] = field(default_factory=list)
    searched: bool = False
    error: str = ""
    blanks: tuple[AssigneeBlank, ...] = NOBODY
    found: int = 0  # how many users the search found (the chosen one included)
    limit: int = ASSIGNEE_SEARCH_LIMIT


def assignee_options(
    form: AssigneePickerForm,
    *,
    current: UserRef | None = None,
    blanks: tuple[AssigneeBlank, ...] = NOBODY,
) -> AssigneeOptions:
    """Search the API's users for the form's query (at most ten, cached briefly) and describe
    the chosen user. `current` is the assignee already known (e.g. a study's), which saves a
    look-up; `blanks` are the choices that are not a user (when no user is chosen, the one
    with the form's value, else the empty one, is checked). Failures become a message in the
    picker, never an exception."""
    query = " ".join(str(form["assignee_query"].value() or "").split())
    selected_id = str(form["assigned_to"].value() or "").strip()
    blank_value = selected_id if selected_id in {blank.value for blank in blanks} else ""
    if selected_id and not is_user_id(selected_id):
        selected_id = ""
    error = ""
    matches: list[AssigneeChoice] = []
    try:
        # The field's own limits, before anything is sent (the form may never be validated).
        form.fields["assignee_query"].clean(query)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if query and not error:
        try:
            users = viewer_api.user_search(query=query, limit=ASSIGNEE_SEARCH_LIMIT)
        except ViewerAPIError as exc:
            error = f"Users could not be searched: {exc.message}"
        else:
            matches = [AssigneeChoice.from_user(user) for user in users]
    selected = None
    if selected_id:
        selected = next((choice for choice in matches if choice.user_id == selected_id), None)
        if selected is None and current is not None and current.user_id == selected_id:
            selected = AssigneeChoice.from_ref(current)
        if selected is None:
            try:
                selected = AssigneeChoice.from_user(viewer_api.user_get_cached(user_id=selected_id))
            except ViewerAPIError:
                selected = AssigneeChoice(selected_id, selected_id, "")
    others = [choice for choice in matches if selected is None or choice.user_id != selected_id]
    return AssigneeOptions(
        query=query,
        selected=selected,
        matches=others,
        searched=bool(query),
        error=error,
        found=len(matches),
        # A chosen user leaves every blank unchecked.
        blanks=tuple(
            replace(blank, checked=selected is None and blank.value == blank_value)
            for blank in blanks
        ),
    )


# --- Study forms -----------------------------------------------------------------------------


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def exact_matches(query: str, users: Iterable[User]) -> list[User]:
    """The users whose whole name ("first last", or with middle name and suffixes) or whole
    email is `query` (case and spacing aside)."""
    wanted = _folded(query)
    return [
        user
        for user in users
        if wanted
        in {
            _folded(f"{user.first_name} {user.last_name}"),
            _folded(user.display_name),
            _folded(user.email),
        }
    ]


class StudyFieldsForm(AssigneePickerForm):
    """Base of the forms whose fields are a study's (create and edit): refuses an expired form
    with `expired_message`, and puts what the request model (`api_request()`) or the API
    refuses back at the fields it concerns.

    An assignee that was searched for but not chosen is never dropped: when the search box
    has text and the chosen assignee is still the one the form was shown with, the one user
    whose whole name or email is that text is chosen (`resolved_assignee` says who);
    otherwise the form comes back with a message at the assignee."""

    expired_message = EXPIRED

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resolved_assignee: AssigneeChoice | None = None

    def shown_assignee(self) -> str | None:
        """The assignee the form was first shown with (None: nobody)."""
        return None

    def assignee_query_text(self) -> str:
        return " ".join(str(self["assignee_query"].value() or "").split())

    def assignee_search_pending(self) -> bool:
        """Whether the search box has text while no other assignee was chosen (from the raw
        data: usable before validation, e.g. for Enter without JavaScript)."""
        chosen = str(self["assigned_to"].value() or "").strip() or None
        return bool(self.assignee_query_text()) and chosen == self.shown_assignee()

    def _resolve_assignee(self) -> None:
        query = self.assignee_query_text()
        if "assigned_to" in self.errors or "assignee_query" in self.errors:
            return
        if not query or self.cleaned_data.get("assigned_to") != self.shown_assignee():
            return
        keep = (
            "to leave the study unassigned"
            if self.shown_assignee() is None
            else "to keep the current assignee"
        )
        try:
            users = viewer_api.user_search(query=query, limit=ASSIGNEE_SEARCH_LIMIT)
        except ViewerAPIError as exc:
            self.add_error(
                "assigned_to",
                f"“{query}” could not be looked up: {exc.message} Choose the assignee again, "
                f"or clear the search {keep}.",
            )
            return
        if self.shown_assignee() in {user.user_id for user in users}:
            return  # the search finds the assignee already chosen: nothing is dropped
        exact = exact_matches(query, users)
        if len(exact) == 1:
            self.cleaned_data["assigned_to"] = exact[0].user_id
            self.resolved_assignee = AssigneeChoice.from_user(exact[0])
            return
        if exact:
            problem = f"{len(exact)} users are named “{query}”: choose one of them below"
        elif users:
            count = f"{len(users)} users match" if len(users) > 1 else "One user matches"
            problem = f"{count} “{query}”, none of them by the whole name: choose below"
        else:
            problem = f"No user matches “{query}”: search again"
        self.add_error("assigned_to", f"{problem}, or clear the search {keep}.")

    def expired(self) -> bool:
        """Whether the form's hidden state (token, snapshot) was missing or forged."""
        return False

    def api_request(self) -> StudyCreate | StudyUpdate:
        """The request model for the cleaned values (call after `is_valid()`)."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.expired():
            raise ValidationError(self.expired_message, code="expired")
        if not self.errors:
            self._resolve_assignee()
        if not self.errors:
            # The request model is the final word on every rule: anything it refuses lands
            # at the field it concerns.
            try:
                self.api_request()
            except PydanticValidationError as exc:
                self.add_model_errors(exc)
        return cleaned

    def add_model_errors(self, error: PydanticValidationError) -> None:
        """The request model's messages, at our fields (snake_case names) or at the top."""
        for detail in error.errors():
            name = _snake(str(detail["loc"][0])) if detail["loc"] else ""
            message = str(detail["msg"]).removeprefix("Value error, ")
            self.add_error(name if name in self.fields else None, message)

    def add_api_errors(
        self, error: ViewerAPIError, *, metadata: BaseMetadataFormSet | None = None
    ) -> None:
        """Put the API's per-field messages back at our fields; the rest at the top."""
        field_errors = error.field_errors if isinstance(error, InvalidRequest) else {}
        for name, messages in field_errors.items():
            for message in messages:
                if name == "metadata" and metadata is not None:
                    metadata.add_error(message)
                elif name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, f"{name.replace('_', ' ').capitalize()}: {message}")
        if not field_errors:
            self.add_error(None, error.message)


class StudyBaseForm(StudyFieldsForm):
    """Severity, description, UID and assignee, plus the one-time submission token.

    The token is generated when the form is first shown and carried through every re-render;
    `studies.submissions.submission_create` uses it to recognise a repeated submission.
    """

    token = forms.UUIDField(widget=forms.HiddenInput)
    severity = severity_field()
    study_description = description_field()
    study_instance_uid = study_instance_uid_field()

    field_order = [
        "token",
        "severity",
        "study_description",
        "study_instance_uid",
        "assignee_query",
        "assigned_to",
    ]
    # Fields sent to the API, by their StudyCreate names (which these form fields share).
    api_fields: tuple[str, ...] = (
        "severity",
        "study_description",
        "study_instance_uid",
        "assigned_to",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_replaced = False
        if not self.is_bound:
            if not _is_uuid(self.initial.get("token")):
                self.initial["token"] = uuid.uuid4()
            return
        name = self.add_prefix("token")
        if not _is_uuid(self.data.get(name)):
            # A missing or forged token: issue a fresh one so the next submit can succeed.
            data = cast(QueryDict, self.data).copy()  # a QueryDict (a dict in tests): both copy
            data[name] = str(uuid.uuid4())
            self.data = data
            self.token_replaced = True

    def expired(self) -> bool:
        return self.token_replaced

    def api_request(self) -> StudyCreate:
        return self.study_create_data()

    def study_create_data(self, *, metadata: Mapping[str, str] | None = None) -> StudyCreate:
        """The API request for the cleaned values (call after `is_valid()`)."""
        values = {name: self.cleaned_data.get(name) for name in self.api_fields}
        return StudyCreate(**values, metadata=dict(metadata) if metadata else None)


class StudyCreateForm(StudyBaseForm):
    """The full create-study form; the metadata rows are a separate `MetadataFormSet`."""

    express_customer_id = forms.ChoiceField(
        label="Express customer",
        required=False,
        error_messages={"invalid_choice": "Choose one of the active customers."},
    )

    field_order = [*StudyBaseForm.field_order, "express_customer_id"]
    api_fields = (*StudyBaseForm.api_fields, "express_customer_id")

    def __init__(
        self,
        *args: Any,
        customers: Iterable[ExpressCustomer] = (),
        customers_error: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.copy_kwargs = {"customers": list(customers), "customers_error": customers_error}
        choices = [("", "No customer")] + [
            (customer.express_customer_id, customer.express_customer_name) for customer in customers
        ]
        # Read the raw value without creating the bound field before its choices are set.
        name = "express_customer_id"
        raw = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        chosen = str(raw or "")
        if customers_error and chosen and is_customer_id(chosen):
            # The list could not be loaded: keep what was chosen rather than lose it.
            choices.append((chosen, chosen))
        customer_field = cast(forms.ChoiceField, self.fields["express_customer_id"])
        customer_field.choices = choices
        if customers_error:
            customer_field.help_text = f"The customer list could not be loaded: {customers_error}"

    def clean_express_customer_id(self) -> str | None:
        return self.cleaned_data.get("express_customer_id") or None


# --- Editing a study -------------------------------------------------------------------------

# The fields of a study the edit form changes (StudyUpdate's names), besides the metadata.
EDITABLE_FIELDS = ("severity", "study_description", "study_viewer_status", "assigned_to")
_SNAPSHOT_SALT = "studies.forms.StudyEditForm"


def metadata_fingerprint(metadata: Mapping[str, str] | None) -> str:
    """A digest of a metadata map (order does not count), so a form can tell whether its rows
    changed without carrying the values twice."""
    canonical = json.dumps(sorted((metadata or {}).items()), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def study_snapshot(study: Study) -> str:
    """The editable values of `study` as the edit form shows them, signed, for its hidden
    `original` field."""
    values: dict[str, str | None] = {
        "severity": str(study.severity),
        "study_description": study.study_description.strip(),
        "study_viewer_status": str(study.study_viewer_status),
        "assigned_to": study.assigned_to.user_id if study.assigned_to else None,
        "metadata": metadata_fingerprint(study.metadata),
    }
    return signing.dumps(values, salt=_SNAPSHOT_SALT, compress=True)


def _load_snapshot(raw: object) -> dict[str, str | None] | None:
    try:
        values = signing.loads(str(raw or ""), salt=_SNAPSHOT_SALT)
    except signing.BadSignature:
        return None
    keys = {*EDITABLE_FIELDS, "metadata"}
    if not isinstance(values, dict) or set(values) != keys:
        return None
    return values


class StudyEditForm(StudyFieldsForm):
    """Severity, description, viewer status and assignee of an existing study; the metadata
    rows are a separate `MetadataFormSet`.

    The hidden `original` field carries the values the form was first shown with (signed).
    `study_update()` compares what was submitted with those, so only the fields the
    coordinator changed are sent, and a change someone else made meanwhile to another field
    is not overwritten. A value the API sent that we do not know (a new severity, say) stays
    selectable, so leaving it alone is possible.
    """

    original = forms.CharField(required=False, widget=forms.HiddenInput)
    severity = severity_field()
    study_description = description_field()
    study_viewer_status = viewer_status_field()

    field_order = [
        "original",
        "severity",
        "study_description",
        "study_viewer_status",
        "assignee_query",
        "assigned_to",
    ]

    def __init__(self, *args: Any, study: Study | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.copy_kwargs = {"study": study}
        raw = self.data.get(self.add_prefix("original")) if self.is_bound else None
        self.snapshot = _load_snapshot(raw if self.is_bound else self.initial.get("original"))
        self.snapshot_replaced = False
        if self.is_bound and self.snapshot is None and study is not None:
            # Missing or forged: start again from the study as it is now.
            data = cast(QueryDict, self.data).copy()  # a QueryDict (a dict in tests): both copy
            data[self.add_prefix("original")] = study_snapshot(study)
            self.data = data
            self.snapshot = _load_snapshot(self.data[self.add_prefix("original")])
            self.snapshot_replaced = True
        for name in ("severity", "study_viewer_status"):
            current = (self.snapshot or {}).get(name)
            field = cast(forms.ChoiceField, self.fields[name])
            choices = cast(list[tuple[str, str]], field.choices)  # set from a list, kept a list
            if current and current not in {value for value, _ in choices}:
                field.choices = [*choices, (current, current)]

    @classmethod
    def for_study(cls, study: Study, **kwargs: Any) -> StudyEditForm:
        """The form showing `study` as it is."""
        initial = {
            "original": study_snapshot(study),
            "severity": str(study.severity),
            "study_description": study.study_description,
            "study_viewer_status": str(study.study_viewer_status),
            "assigned_to": study.assigned_to.user_id if study.assigned_to else "",
        }
        return cls(initial=initial, **kwargs)

    expired_message = "This form had expired. Check the values and save again."

    def shown_assignee(self) -> str | None:
        return (self.snapshot or {}).get("assigned_to")

    def expired(self) -> bool:
        return self.snapshot is None or self.snapshot_replaced

    def api_request(self) -> StudyUpdate:
        return self.study_update()

    def study_update(self, *, metadata: Mapping[str, str] | None = None) -> StudyUpdate:
        """The changes to send (call after `is_valid()`): the fields whose submitted value
        differs from the one shown, and `metadata` (the rows; None leaves them out) when it
        differs from the map shown. No rows at all clear the map."""
        snapshot = self.snapshot or {}
        values: dict[str, Any] = {
            name: self.cleaned_data.get(name)
            for name in EDITABLE_FIELDS
            if self.cleaned_data.get(name) != snapshot.get(name)
        }
        if metadata is not None and metadata_fingerprint(metadata) != snapshot.get("metadata"):
            values["metadata"] = dict(metadata) or None
        return StudyUpdate(**values)


class ViewerStatusForm(forms.Form):
    """The one-click "Mark complete" / "Reopen" on the detail page."""

    study_viewer_status = viewer_status_field()


# The values the full form accepts in its query string: its fields (the metadata is a formset).
STUDY_FORM_QUERY = tuple(StudyCreateForm.field_order)


def study_form_initial(query: Mapping[str, str]) -> dict[str, Any]:
    """Initial values from a query string (e.g. "More options" on the quick-create form)."""
    initial: dict[str, Any] = {name: query[name] for name in STUDY_FORM_QUERY if query.get(name)}
    if not _is_uuid(initial.get("token")):
        initial.pop("token", None)
    return initial


def study_form_url(values: Mapping[str, str]) -> str:
    """The full form's address, pre-filled with the non-empty `values` (read back by
    `study_form_initial`)."""
    query = urlencode({name: value for name, value in values.items() if value})
    return reverse("study_create") + (f"?{query}" if query else "")


# The action of the hidden first submit button: what Enter in a text field sends (the
# browser's implicit submission). With an assignee search pending it searches, never sends.
IMPLICIT_SUBMIT = "enter"


def is_search(action: str, form: StudyFieldsForm) -> bool:
    """Whether a study form's POST `action` asks for the assignee search rather than a send."""
    return action == "search_assignee" or (
        action == IMPLICIT_SUBMIT and form.assignee_search_pending()
    )


def unbound_copy(form: FormT, *, fresh_token: bool = False) -> FormT:
    """The same form, unbound, showing what was typed: for re-rendering after "Search" or
    "Add row", which are not submissions and must not show validation errors. With
    `fresh_token` the copy gets a new submission token."""
    initial = {name: form[name].value() for name in form.fields}
    if fresh_token:
        initial.pop("token", None)
    return type(form)(initial=initial, prefix=form.prefix, **getattr(form, "copy_kwargs", {}))


# --- Metadata rows ---------------------------------------------------------------------------


def _metadata_field(label: str, max_length: int) -> forms.CharField:
    noun = label.lower()
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        error_messages={
            "max_length": (
                f"A {noun} has at most %(limit_value)d characters (this one has %(show_value)d)."
            )
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class MetadataForm(_Form):
    key = _metadata_field("Key", METADATA_KEY_MAX_LENGTH)
    value = _metadata_field("Value", METADATA_VALUE_MAX_LENGTH)


class BaseMetadataFormSet(forms.BaseFormSet):  # type: ignore[type-arg]  # generic only in the stubs
    """Key/value rows: blank rows are ignored, keys are unique and required with a value, at
    most METADATA_MAX_PAIRS rows. `absolute_max` keeps a forged row count from allocating
    more than that many forms."""

    default_prefix = "metadata"
    label = "Metadata"
    default_error_messages = {
        "too_many_forms": (
            "At most %(num)d metadata pairs are allowed. Remove rows until there are "
            "%(num)d or fewer."
        ),
        "missing_management_form": (
            "The metadata rows arrived incomplete. Check them and submit again."
        ),
    }

    @classmethod
    def get_default_prefix(cls) -> str:
        return cls.default_prefix

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("form_kwargs", {}).setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove"

    def clean(self) -> None:
        if any(self.errors):
            return
        first_row: dict[str, int] = {}
        for row, form in enumerate(self.forms, start=1):
            if self._skipped(form):
                continue
            key = form.cleaned_data.get("key", "")
            if not key:
                form.add_error("key", "Enter a key for this value.")
            elif key in first_row:
                form.add_error("key", f"This key is already used in row {first_row[key]}.")
            else:
                first_row[key] = row
        if any(self.errors):
            return
        problems = metadata_problems(self.metadata())
        if problems:
            raise ValidationError(problems)

    def _skipped(self, form: forms.Form) -> bool:
        """A row that was removed, or left blank."""
        if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]  # Django-private, not in the stubs
            return True
        data = getattr(form, "cleaned_data", {})
        return not data.get("key") and not data.get("value")

    def metadata(self) -> dict[str, str]:
        """The pairs, in row order (call after `is_valid()`)."""
        return {
            form.cleaned_data["key"]: form.cleaned_data.get("value", "")
            for form in self.forms
            if not self._skipped(form) and form.cleaned_data.get("key")
        }

    def add_error(self, message: str) -> None:
        """An error about the metadata as a whole (e.g. from the API)."""
        self.non_form_errors().append(message)

    @property
    def display_management_form(self) -> ManagementForm:
        """The management form to render: for a bound formset it counts the rows actually
        shown (a forged count of 5,000 is re-rendered as the 50 rows that were built)."""
        if not self.is_bound:
            return self.management_form
        total = len(self.forms)
        return ManagementForm(
            auto_id=self.auto_id,
            prefix=self.prefix,
            initial={
                TOTAL_FORM_COUNT: total,
                INITIAL_FORM_COUNT: min(self.initial_form_count(), total),
                MIN_NUM_FORM_COUNT: self.min_num,
                MAX_NUM_FORM_COUNT: self.max_num,
            },
            renderer=self.renderer,  # type: ignore[attr-defined]  # set by BaseFormSet, not in the stubs
        )

    @property
    def max_rows(self) -> int:
        return self.max_num

    @property
    def row_count(self) -> int:
        return len(self.forms)

    @property
    def full(self) -> bool:
        return self.row_count >= self.max_num


# The factory's class subclasses BaseMetadataFormSet; the stubs only know it is a BaseFormSet.
MetadataFormSet = cast(
    type[BaseMetadataFormSet],
    forms.formset_factory(
        MetadataForm,
        formset=BaseMetadataFormSet,
        extra=1,
        max_num=METADATA_MAX_PAIRS,
        validate_max=True,
        absolute_max=METADATA_MAX_PAIRS,
        can_delete=True,
    ),
)


def metadata_formset_initial(metadata: Mapping[str, str] | None) -> list[dict[str, str]]:
    """Initial rows for a formset showing an existing map (e.g. a study's, for editing)."""
    return [{"key": key, "value": value} for key, value in (metadata or {}).items()]


def metadata_formset_unbound(
    formset: BaseMetadataFormSet, *, add_row: bool = False
) -> BaseMetadataFormSet:
    """The rows as typed, unbound (so no errors show), without the removed ones, and with one
    more blank row when `add_row` (up to the limit): the no-JavaScript "Add row" and the
    re-render after an assignee search."""
    rows = [
        {name: str(form[name].value() or "") for name in ("key", "value")}
        for form in formset.forms
        if not (formset.can_delete and form["DELETE"].value())
    ][: formset.max_num]
    rebuilt = type(formset)(initial=rows, prefix=formset.prefix)
    if rows and not add_row:
        rebuilt.extra = 0
    return rebuilt


# --- Field names as they read ----------------------------------------------------------------


def _label(form: type[forms.Form], name: str) -> str:
    return str(form.base_fields[name].label)


# The request models' field names (the audit trail records them) with the forms' labels, in the
# forms' order.
FIELD_LABELS = {
    "severity": _label(StudyBaseForm, "severity"),
    "study_description": _label(StudyBaseForm, "study_description"),
    "study_instance_uid": _label(StudyBaseForm, "study_instance_uid"),
    "study_viewer_status": _label(StudyEditForm, "study_viewer_status"),
    "assigned_to": _label(AssigneePickerForm, "assignee_query"),
    "express_customer_id": _label(StudyCreateForm, "express_customer_id"),
    "metadata": BaseMetadataFormSet.label,
}


def field_labels(names: Iterable[str]) -> str:
    """Field names as a coordinator reads them, in the forms' order, e.g. "Severity,
    Metadata"; a name no form has reads as itself, spaced."""
    order = list(FIELD_LABELS)
    ordered = sorted(names, key=lambda name: order.index(name) if name in order else len(order))
    return ", ".join(
        FIELD_LABELS.get(name, name.replace("_", " ").capitalize()) for name in ordered
    )


# --- Helpers ---------------------------------------------------------------------------------


def _is_uuid(value: object) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return bool(value)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
