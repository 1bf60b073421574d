"""Every rule of the create-study form and the metadata rows, checked through the forms."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studies import viewer_api
from studies.forms import (
    AssigneePickerForm,
    MetadataFormSet,
    StudyBaseForm,
    StudyCreateForm,
    assignee_options,
    metadata_formset_unbound,
    study_form_initial,
    unbound_copy,
)
from studies.viewer_api import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_MAX_PAIRS,
    METADATA_VALUE_MAX_LENGTH,
    ExpressCustomer,
    InvalidRequest,
    User,
    UserRef,
    dicom_uid_problem,
)
from tests.form_data import create_fields, metadata_data

CUSTOMER_ID = "cus_" + "c" * 32
USER_ID = "usr_" + "a" * 32
CUSTOMERS = [
    ExpressCustomer(
        express_customer_id=CUSTOMER_ID,
        express_customer_name="Harbor Clinic",
        is_active=True,
        user_count=2,
    )
]


UID = "1.2.840.113619.2.55.3"


def study_data(**overrides: str) -> dict[str, str]:
    return create_fields(**{"study_instance_uid": UID, **overrides})


def create_form(data: dict[str, str], **kwargs: Any) -> StudyCreateForm:
    return StudyCreateForm(data, customers=CUSTOMERS, **kwargs)


# --- Labels, choices and defaults --------------------------------------------------------


def test_labels_are_exactly_as_specified() -> None:
    form = StudyCreateForm(customers=CUSTOMERS)
    labels = {name: str(field.label) for name, field in form.fields.items() if field.label}
    assert labels == {
        "severity": "Severity",
        "study_description": "Study description",
        "study_instance_uid": "Study Instance UID",
        "assignee_query": "Assignee",
        "express_customer_id": "Express customer",
    }
    assert 'for="id_severity">Severity</label>' in str(form["severity"].label_tag())
    row = MetadataFormSet().forms[0]
    assert str(row.fields["key"].label) == "Key"
    assert str(row.fields["value"].label) == "Value"
    assert str(row["key"].label_tag()).endswith(">Key</label>")


def test_severity_offers_normal_high_stat_and_defaults_to_normal() -> None:
    form = StudyCreateForm(customers=CUSTOMERS)
    assert form.fields["severity"].choices == [
        ("normal", "Normal"),
        ("high", "High"),
        ("stat", "STAT"),
    ]
    assert form["severity"].value() == "normal"
    forged = create_form(study_data(severity="urgent"))
    assert forged.errors["severity"] == ["Choose Normal, High or STAT."]


def test_customer_select_lists_active_customers_and_no_customer() -> None:
    form = StudyCreateForm(customers=CUSTOMERS)
    assert form.fields["express_customer_id"].choices == [
        ("", "No customer"),
        (CUSTOMER_ID, "Harbor Clinic"),
    ]
    chosen = create_form(study_data(express_customer_id=CUSTOMER_ID))
    assert chosen.is_valid(), chosen.errors
    assert chosen.cleaned_data["express_customer_id"] == CUSTOMER_ID
    unknown = create_form(study_data(express_customer_id="cus_" + "d" * 32))
    assert unknown.errors["express_customer_id"] == ["Choose one of the active customers."]


def test_a_chosen_customer_is_kept_when_the_list_cannot_be_loaded() -> None:
    form = StudyCreateForm(
        study_data(express_customer_id=CUSTOMER_ID), customers=[], customers_error="Down."
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["express_customer_id"] == CUSTOMER_ID
    assert "could not be loaded" in str(form["express_customer_id"].help_text)


# --- Description and UID -----------------------------------------------------------------


def test_description_is_required_and_limited() -> None:
    assert create_form(study_data(study_description="   ")).errors["study_description"] == [
        "Enter a study description."
    ]
    too_long = create_form(study_data(study_description="x" * 1001))
    assert too_long.errors["study_description"] == [
        "A study description has at most 1000 characters (this one has 1001)."
    ]


@pytest.mark.parametrize(
    ("uid", "expected"),
    [
        ("", "Enter the Study Instance UID."),
        ("1." + "2" * 63, "at most 64 characters; this one has 65"),
        ("1..2", "component 2 is empty"),
        (".1.2", "component 1 is empty"),
        ("1.2.", "component 3 is empty"),
        ("1.02.3", "Component 2 (02) starts with a zero"),
        ("1.2a.3", "contains only digits separated by dots"),
        ("1.2-3", "contains only digits separated by dots"),
    ],
)
def test_uid_problems_are_explained_at_the_field(uid: str, expected: str) -> None:
    form = create_form(study_data(study_instance_uid=uid))
    assert not form.is_valid()
    [message] = form.errors["study_instance_uid"]
    assert expected in message
    assert list(form.errors) == ["study_instance_uid"]


@pytest.mark.parametrize("uid", ["0", "1.2.3", "1.0.2", "2.25." + "9" * 59])
def test_valid_uids_are_accepted(uid: str) -> None:
    form = create_form(study_data(study_instance_uid=uid))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["study_instance_uid"] == uid


components = st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,9}", fullmatch=True))
valid_uids = (
    st.lists(components, min_size=1, max_size=12).map(".".join).filter(lambda uid: len(uid) <= 64)
)


@given(uid=valid_uids)
def test_property_every_valid_dicom_uid_passes_the_form(uid: str) -> None:
    form = create_form(study_data(study_instance_uid=uid))
    assert form.is_valid(), form.errors
    assert form.study_create_data().study_instance_uid == uid


@given(uid=st.text(alphabet="0123456789.a -", max_size=70))
def test_property_the_form_says_exactly_what_the_dicom_rule_says(uid: str) -> None:
    form = create_form(study_data(study_instance_uid=uid))
    problem = dicom_uid_problem(uid.strip())
    if problem is None:
        assert form.is_valid(), form.errors
    else:
        assert form.errors["study_instance_uid"] == [problem]


# --- Assignee ----------------------------------------------------------------------------


def test_no_assignee_means_unassigned() -> None:
    form = create_form(study_data(assigned_to=""))
    assert form.is_valid(), form.errors
    assert form.study_create_data().assigned_to is None
    assert "assignedTo" not in form.study_create_data().wire()


def test_a_chosen_assignee_is_sent() -> None:
    form = create_form(study_data(assigned_to=USER_ID))
    assert form.is_valid(), form.errors
    assert form.study_create_data().wire()["assignedTo"] == USER_ID


@pytest.mark.parametrize("value", ["john", "usr_123", "cus_" + "a" * 32])
def test_a_forged_assignee_is_refused_at_the_field(value: str) -> None:
    form = create_form(study_data(assigned_to=value))
    assert form.errors["assigned_to"] == ["Choose the assignee from the search results."]


def make_user(user_id: str, first: str, last: str, **extra: Any) -> User:
    return User(
        user_id=user_id,
        email=f"{first.lower()}@clinic.example",
        first_name=first,
        last_name=last,
        level="member",
        clinic_role=extra.pop("clinic_role", "Radiologist"),
        can_manage_studies=True,
        has_dashboard_access=False,
        invited_source="dashboard",
        **extra,
    )


def test_assignee_options_search_and_keep_the_chosen_user_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    john = make_user(USER_ID, "John", "Smith", middle_name="R.", suffix1="MD")
    jane = make_user("usr_" + "b" * 32, "Jane", "Smithers", clinic_role="Surgeon")
    calls: list[tuple[str, int]] = []

    def search(*, query: str, limit: int) -> list[User]:
        calls.append((query, limit))
        return [jane, john]

    monkeypatch.setattr(viewer_api, "user_search", search)
    form = AssigneePickerForm({"assignee_query": "  smith ", "assigned_to": USER_ID})
    options = assignee_options(form)
    assert calls == [("smith", 10)]
    assert options.selected is not None
    assert options.selected.name == "John R. Smith, MD"
    assert options.selected.role == "Radiologist"
    assert [choice.name for choice in options.matches] == ["Jane Smithers"]
    assert options.searched


def test_assignee_options_use_the_known_assignee_without_a_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(**kwargs: Any) -> None:
        raise AssertionError("no API call expected")

    monkeypatch.setattr(viewer_api, "user_get_cached", fail)
    monkeypatch.setattr(viewer_api, "user_search", fail)
    ref = UserRef(user_id=USER_ID, email="dana@clinic.example", first_name="Dana", last_name="Lee")
    options = assignee_options(AssigneePickerForm(initial={"assigned_to": USER_ID}), current=ref)
    assert options.selected is not None
    assert options.selected.name == "Dana Lee"
    assert not options.searched


def test_assignee_search_failure_is_a_message_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def down(**kwargs: Any) -> list[User]:
        raise viewer_api.Unavailable()

    monkeypatch.setattr(viewer_api, "user_search", down)
    options = assignee_options(AssigneePickerForm({"assignee_query": "lee"}))
    assert options.error.startswith("Users could not be searched")
    assert options.matches == []


# --- Token -------------------------------------------------------------------------------


def test_a_new_form_carries_a_fresh_token_and_a_rerender_keeps_it() -> None:
    first, second = StudyCreateForm(customers=CUSTOMERS), StudyCreateForm(customers=CUSTOMERS)
    assert first["token"].value() != second["token"].value()
    data = study_data()
    copy = unbound_copy(create_form(data))
    assert str(copy["token"].value()) == data["token"]
    fresh = unbound_copy(create_form(data), fresh_token=True)
    assert fresh.fields["express_customer_id"].choices == copy.fields["express_customer_id"].choices
    assert str(fresh["token"].value()) != data["token"]


@pytest.mark.parametrize("token", ["", "not-a-uuid"])
def test_a_missing_or_forged_token_asks_to_submit_again_with_a_new_one(token: str) -> None:
    form = create_form(study_data(token=token))
    assert not form.is_valid()
    assert "expired" in form.non_field_errors()[0]
    uuid.UUID(str(form["token"].value()))  # the re-rendered form has a usable token


def test_initial_values_from_a_query_string() -> None:
    token = str(uuid.uuid4())
    initial = study_form_initial(
        {"severity": "stat", "study_instance_uid": "1.2", "token": token, "other": "x"}
    )
    assert initial == {"severity": "stat", "study_instance_uid": "1.2", "token": token}
    assert "token" not in study_form_initial({"token": "nope"})
    assert StudyCreateForm(initial=initial, customers=[])["token"].value() == token


# --- API errors back at the fields -------------------------------------------------------


def test_api_field_errors_land_at_their_fields() -> None:
    form = create_form({**study_data(), **metadata_data([("ward", "ED")])})
    metadata = MetadataFormSet({**metadata_data([("ward", "ED")])})
    assert form.is_valid()
    assert metadata.is_valid()
    error = InvalidRequest(
        "Invalid request.",
        field_errors={
            "study_instance_uid": ["UID refused."],
            "assigned_to": ["User is revoked."],
            "metadata": ["Metadata refused."],
            "organization": ["Unknown."],
        },
    )
    form.add_api_errors(error, metadata=metadata)
    assert form.errors["study_instance_uid"] == ["UID refused."]
    assert form.errors["assigned_to"] == ["User is revoked."]
    assert form.non_field_errors() == ["Organization: Unknown."]
    assert metadata.non_form_errors() == ["Metadata refused."]
    assert form["study_instance_uid"].value() == study_data()["study_instance_uid"]


def test_an_api_error_without_fields_goes_to_the_top() -> None:
    form = create_form(study_data())
    assert form.is_valid()
    form.add_api_errors(viewer_api.Conflict("The customer is deactivated."))
    assert form.non_field_errors() == ["The customer is deactivated."]


def test_the_quick_create_base_form_has_no_customer_and_builds_a_request() -> None:
    form = StudyBaseForm(study_data(severity="stat"))
    assert "express_customer_id" not in form.fields
    assert form.is_valid(), form.errors
    assert form.study_create_data(metadata={"a": "b"}).wire() == {
        "severity": "stat",
        "studyDescription": "CT Head without Contrast",
        "studyInstanceUid": "1.2.840.113619.2.55.3",
        "metadata": {"a": "b"},
    }


# --- Metadata rows -----------------------------------------------------------------------


def test_a_new_formset_shows_one_blank_row() -> None:
    formset = MetadataFormSet()
    assert formset.row_count == 1
    assert not formset.full
    assert formset.prefix == "metadata"


def test_blank_rows_are_ignored_and_order_is_kept() -> None:
    formset = MetadataFormSet(metadata_data([("ward", "ED"), ("", ""), (" bed ", " 4 ")]))
    assert formset.is_valid(), formset.errors
    assert formset.metadata() == {"ward": "ED", "bed": "4"}
    assert list(formset.metadata()) == ["ward", "bed"]


def test_a_key_with_an_empty_value_is_kept() -> None:
    formset = MetadataFormSet(metadata_data([("flag", "")]))
    assert formset.is_valid()
    assert formset.metadata() == {"flag": ""}


def test_a_value_needs_a_key() -> None:
    formset = MetadataFormSet(metadata_data([("ward", "ED"), ("  ", "orphan")]))
    assert not formset.is_valid()
    assert formset.forms[1].errors["key"] == ["Enter a key for this value."]
    assert formset.forms[1]["value"].value() == "orphan"


def test_keys_are_unique() -> None:
    formset = MetadataFormSet(metadata_data([("ward", "ED"), ("bed", "4"), ("ward", "ICU")]))
    assert not formset.is_valid()
    assert formset.forms[2].errors["key"] == ["This key is already used in row 1."]
    assert not formset.forms[0].errors


def test_key_and_value_lengths_are_limited() -> None:
    formset = MetadataFormSet(
        metadata_data(
            [
                ("k" * (METADATA_KEY_MAX_LENGTH + 1), "v"),
                ("ok", "v" * (METADATA_VALUE_MAX_LENGTH + 1)),
                ("k" * METADATA_KEY_MAX_LENGTH, "v" * METADATA_VALUE_MAX_LENGTH),
            ]
        )
    )
    assert not formset.is_valid()
    assert formset.forms[0].errors["key"] == [
        "A key has at most 100 characters (this one has 101)."
    ]
    assert formset.forms[1].errors["value"] == [
        "A value has at most 1000 characters (this one has 1001)."
    ]
    assert not formset.forms[2].errors


def test_removed_rows_are_ignored() -> None:
    formset = MetadataFormSet(metadata_data([("ward", "ED", True), ("ward", "ICU")]))
    assert formset.is_valid(), formset.errors
    assert formset.metadata() == {"ward": "ICU"}


def test_fifty_rows_are_accepted() -> None:
    rows = [(f"key{i}", f"value{i}") for i in range(METADATA_MAX_PAIRS)]
    formset = MetadataFormSet(metadata_data(rows))
    assert formset.is_valid(), formset.non_form_errors()
    assert len(formset.metadata()) == 50
    assert formset.full


@pytest.mark.parametrize("total", [51, 5000, 10**12])
def test_a_forged_row_count_is_a_form_error_without_building_the_rows(total: int) -> None:
    rows = [(f"key{i}", "v") for i in range(min(total, 60))]
    formset = MetadataFormSet(metadata_data(rows, total=total))
    assert not formset.is_valid()
    assert formset.non_form_errors() == [
        "At most 50 metadata pairs are allowed. Remove rows until there are 50 or fewer."
    ]
    assert len(formset.forms) == METADATA_MAX_PAIRS  # never more forms than the limit
    shown = formset.display_management_form
    assert shown["TOTAL_FORMS"].value() == METADATA_MAX_PAIRS


def test_a_missing_management_form_is_a_form_error() -> None:
    formset = MetadataFormSet({"metadata-0-key": "ward"})
    assert not formset.is_valid()
    assert "arrived incomplete" in formset.non_form_errors()[0]


def test_add_row_keeps_the_rows_drops_removed_ones_and_adds_one() -> None:
    bound = MetadataFormSet(metadata_data([("ward", "ED"), ("gone", "x", True), ("bed", "")]))
    more = metadata_formset_unbound(bound, add_row=True)
    assert not more.is_bound
    assert [form["key"].value() for form in more.forms] == ["ward", "bed", None]
    assert more.row_count == 3
    same = metadata_formset_unbound(bound)
    assert same.row_count == 2


def test_add_row_stops_at_the_limit() -> None:
    rows = [(f"key{i}", "v") for i in range(METADATA_MAX_PAIRS)]
    more = metadata_formset_unbound(MetadataFormSet(metadata_data(rows)), add_row=True)
    assert more.row_count == METADATA_MAX_PAIRS
    assert more.full


short_keys = st.text(alphabet="ab \t", max_size=3)
long_keys = st.text(alphabet="k", min_size=99, max_size=101)
short_values = st.text(alphabet="xy ", max_size=3)
long_values = st.text(alphabet="v", min_size=999, max_size=1001)
rows_strategy = st.lists(
    st.tuples(
        st.one_of(short_keys, short_keys, long_keys),
        st.one_of(short_values, short_values, long_values),
    ),
    max_size=52,
)


@settings(max_examples=150, deadline=None)
@given(pairs=rows_strategy, deleted=st.sets(st.integers(min_value=0, max_value=51)))
def test_property_metadata_rows_follow_the_rules(
    pairs: list[tuple[str, str]], deleted: set[int]
) -> None:
    rows = [(key, value, index in deleted) for index, (key, value) in enumerate(pairs)]
    formset = MetadataFormSet(metadata_data(rows))

    expected: dict[str, str] = {}
    # More rows than the limit is refused outright, removed ones included: the server never
    # builds more than METADATA_MAX_PAIRS forms.
    valid = len(rows) <= METADATA_MAX_PAIRS
    for key, value, removed in rows:
        key, value = key.strip(), value.strip()
        if removed or (not key and not value):
            continue
        if (
            not key
            or key in expected
            or len(key) > METADATA_KEY_MAX_LENGTH
            or len(value) > METADATA_VALUE_MAX_LENGTH
        ):
            valid = False
        expected.setdefault(key, value)

    assert formset.is_valid() == valid
    if valid:
        assert formset.metadata() == expected
        assert viewer_api.metadata_problems(formset.metadata()) == []
