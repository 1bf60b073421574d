"""The Viewer API service module against an in-process fake API (httpx.MockTransport).

Covers the request models and the rules they enforce, the wire format, error mapping, retries
and their time budget, create-outcome recovery, logging hygiene and caching. Nothing here opens
a socket or really sleeps: waits go to a recording fake.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from studies import viewer_api
from studies.viewer_api import (
    NO_CUSTOMER,
    UNASSIGNED,
    AuthError,
    BadResponse,
    Conflict,
    CustomerFilters,
    InvalidRequest,
    NotFound,
    Page,
    RateLimited,
    Severity,
    Study,
    StudyCreate,
    StudyFilters,
    StudyUpdate,
    Unavailable,
    UserFilters,
    ViewerAPIError,
    ViewerStatus,
    pagination,
    transport,
)
from tests.viewer_api_fake import (
    API_KEY,
    BASE_URL,
    CUSTOMER_ID,
    DESCRIPTION,
    METADATA,
    METADATA_VALUE,
    OTHER_USER_ID,
    STUDY_ID,
    UID,
    USER_ID,
    FakeAPI,
    body_of,
    customer_json,
    error,
    ok,
    page_json,
    query_of,
    study_json,
    user_json,
)


@pytest.fixture
def fake(fake_api: FakeAPI) -> FakeAPI:
    return fake_api


@pytest.fixture
def locmem_cache(settings):
    """A local-memory cache even in the Redis run: these tests list the cache's keys."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "keys"}
    }
    cache.clear()
    return cache


def create_data(**overrides: Any) -> StudyCreate:
    values: dict[str, Any] = {
        "severity": Severity.STAT,
        "study_description": DESCRIPTION,
        "study_instance_uid": UID,
        "assigned_to": USER_ID,
        "metadata": dict(METADATA),
    }
    values.update(overrides)
    return StudyCreate(**values)


# --- Request models: the rules the API states --------------------------------------------------

_component = st.one_of(st.just("0"), st.integers(min_value=1, max_value=10**9).map(str))
_components = st.lists(_component, min_size=1, max_size=8)
valid_uids = _components.map(".".join).filter(lambda uid: len(uid) <= 64)


@given(uid=valid_uids)
def test_generated_valid_dicom_uids_pass(uid):
    assert viewer_api.dicom_uid_problem(uid) is None
    assert create_data(study_instance_uid=uid).study_instance_uid == uid


@given(
    parts=_components.filter(lambda parts: len(".".join(parts)) <= 60),
    index=st.integers(min_value=0, max_value=7),
    tail=st.integers(min_value=0, max_value=999),
)
def test_a_component_with_a_leading_zero_fails(parts, index, tail):
    index %= len(parts)
    parts[index] = f"0{tail}"
    uid = ".".join(parts)
    problem = viewer_api.dicom_uid_problem(uid)
    assert problem is not None
    assert f"Component {index + 1} (0{tail}) starts with a zero" in problem
    with pytest.raises(ValidationError, match="starts with a zero"):
        create_data(study_instance_uid=uid)


@given(parts=_components.filter(lambda parts: len(".".join(parts)) <= 62), where=st.integers())
def test_an_empty_component_fails(parts, where):
    position = where % (len(parts) + 1)
    parts.insert(position, "")
    uid = ".".join(parts)
    problem = viewer_api.dicom_uid_problem(uid)
    assert problem is not None
    assert f"component {position + 1} is empty" in problem
    with pytest.raises(ValidationError, match="two dots in a row"):
        create_data(study_instance_uid=uid)


_not_a_digit = st.characters(
    exclude_characters="0123456789.", exclude_categories=("Cs",), min_codepoint=1
)


@given(
    parts=_components.filter(lambda parts: len(".".join(parts)) <= 55),
    index=st.integers(min_value=0, max_value=7),
    junk=st.text(_not_a_digit, min_size=1, max_size=3),
    prefix=st.sampled_from(["", "1", "12"]),
)
def test_a_non_digit_character_fails(parts, index, junk, prefix):
    index %= len(parts)
    parts[index] = prefix + junk
    uid = ".".join(parts)
    assert len(uid) <= 64
    assert viewer_api.dicom_uid_problem(uid) == (
        "A Study Instance UID contains only digits separated by dots."
    )
    with pytest.raises(ValidationError, match="only digits"):
        create_data(study_instance_uid=uid)


@given(base=valid_uids, target=st.integers(min_value=65, max_value=300))
def test_more_than_64_characters_fails(base, target):
    uid = base + "." + "9" * max(1, target - len(base) - 1)
    assert len(uid) > 64
    problem = viewer_api.dicom_uid_problem(uid)
    assert problem == f"A Study Instance UID has at most 64 characters; this one has {len(uid)}."
    with pytest.raises(ValidationError, match="at most 64 characters"):
        create_data(study_instance_uid=uid)


def test_unicode_digits_and_an_empty_uid_fail():
    assert viewer_api.dicom_uid_problem("1.2.٣") is not None
    assert viewer_api.dicom_uid_problem("") == "Enter the Study Instance UID."
    assert viewer_api.dicom_uid_problem("0") is None
    assert viewer_api.dicom_uid_problem("0.0.10") is None


def test_metadata_limits():
    fifty = {f"key{i}": "v" for i in range(50)}
    assert create_data(metadata=fifty).metadata == fifty
    with pytest.raises(ValidationError, match="At most 50 metadata pairs"):
        create_data(metadata={**fifty, "one-more": "v"})

    assert create_data(metadata={"k" * 100: "v"})
    with pytest.raises(ValidationError, match="longer than 100 characters"):
        create_data(metadata={"k" * 101: "v"})

    assert create_data(metadata={"k": "v" * 1000})
    with pytest.raises(ValidationError, match="longer than 1000 characters"):
        create_data(metadata={"k": "v" * 1001})

    with pytest.raises(ValidationError, match="keys cannot be empty"):
        create_data(metadata={"  ": "v"})
    with pytest.raises(ValidationError, match="longer than 100 characters"):
        StudyUpdate(metadata={"k" * 101: "v"})
    assert viewer_api.metadata_problems({}) == []


@pytest.mark.parametrize(
    ("field", "prefix"),
    [("assigned_to", "usr"), ("express_customer_id", "cus")],
)
def test_id_patterns_on_create(field, prefix):
    assert create_data(**{field: f"{prefix}_{'0123456789abcdef' * 2}"})
    assert create_data(**{field: f"{prefix}_{'0123456789ABCDEF' * 2}"})
    for bad in [
        f"{prefix}_{'a' * 31}",
        f"{prefix}_{'a' * 33}",
        f"{prefix}_{'g' * 32}",
        f"{prefix}_{'a' * 32}\n",
        f"xxx_{'a' * 32}",
        "a" * 32,
    ]:
        with pytest.raises(ValidationError, match="should match pattern"):
            create_data(**{field: bad})


def test_id_patterns_on_filters_and_updates():
    assert StudyFilters(assigned_to=USER_ID, express_customer_id=CUSTOMER_ID)
    assert StudyFilters(assigned_to=UNASSIGNED, express_customer_id=NO_CUSTOMER)
    with pytest.raises(ValidationError):
        StudyFilters(assigned_to="null")
    with pytest.raises(ValidationError):
        StudyFilters(express_customer_id="cus_123")
    with pytest.raises(ValidationError):
        StudyUpdate(assigned_to="stu_" + "a" * 32)


@pytest.mark.parametrize("model", [StudyFilters, UserFilters, CustomerFilters])
def test_limit_is_1_to_100(model):
    assert model(limit=1).limit == 1
    assert model(limit=100).limit == 100
    for bad in (0, -1, 101):
        with pytest.raises(ValidationError):
            model(limit=bad)


def test_create_rules_on_description_enums_and_unknown_fields():
    assert create_data(study_description="  CT Head  ").study_description == "CT Head"
    with pytest.raises(ValidationError):
        create_data(study_description="   ")
    with pytest.raises(ValidationError):
        create_data(study_description="x" * 1001)
    assert create_data(study_description="x" * 1000)
    with pytest.raises(ValidationError):
        create_data(severity="urgent")
    with pytest.raises(ValidationError):
        create_data(unknown="x")
    with pytest.raises(ValidationError):
        StudyUpdate(study_viewer_status="archived")


def test_create_wire_leaves_out_unset_and_none_optionals():
    assert create_data(assigned_to=None, metadata=None).wire() == {
        "severity": "stat",
        "studyDescription": DESCRIPTION,
        "studyInstanceUid": UID,
    }
    assert create_data(express_customer_id=CUSTOMER_ID).wire() == {
        "severity": "stat",
        "studyDescription": DESCRIPTION,
        "studyInstanceUid": UID,
        "assignedTo": USER_ID,
        "expressCustomerId": CUSTOMER_ID,
        "metadata": METADATA,
    }


def test_update_wire_sends_only_what_was_set_and_null_only_where_allowed():
    assert StudyUpdate().wire() == {}
    assert StudyUpdate(assigned_to=None).wire() == {"assignedTo": None}
    assert StudyUpdate(metadata=None).wire() == {"metadata": None}
    assert StudyUpdate(severity=None, study_description=None, study_viewer_status=None).wire() == {}
    assert StudyUpdate(
        severity=Severity.HIGH, study_viewer_status=ViewerStatus.COMPLETE, metadata={"A b": "c"}
    ).wire() == {"severity": "high", "studyViewerStatus": "complete", "metadata": {"A b": "c"}}


# --- Wire format -------------------------------------------------------------------------------


def test_get_sends_bearer_key_accept_and_user_agent_under_the_base_prefix(fake, settings):
    fake.queue(ok(study_json()))
    study = viewer_api.study_get(study_id=STUDY_ID)
    assert study.study_id == STUDY_ID
    assert study.assigned_to is not None
    assert study.assigned_to.display_name == "Dana Lee, MD"
    (request,) = fake.requests
    assert str(request.url) == f"{BASE_URL}/v1/viewer/studies/{STUDY_ID}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith(f"ViewerAdmin/{settings.VERSION} ")
    assert "content-type" not in request.headers


def test_post_sends_a_json_body(fake):
    fake.queue(ok({"success": True}))
    assert viewer_api.study_cancel(study_id=STUDY_ID).success is True
    (request,) = fake.requests
    assert request.method == "POST"
    assert request.url.path == "/prefix/v1/viewer/studies/cancel"
    assert request.headers["content-type"] == "application/json"
    assert body_of(request) == {"studyId": STUDY_ID}


def test_path_segments_keep_dots_and_encode_slashes_and_spaces(fake):
    fake.queue(ok(study_json()), ok(study_json()), ok(user_json()), ok(study_json()))
    viewer_api.study_get_by_uid(study_instance_uid="1.2.840.10008.5.1.4.1.1.2")
    viewer_api.study_get_by_uid(study_instance_uid="1.2/3 4")
    viewer_api.user_get(user_id="usr_a/b")
    viewer_api.study_get(study_id="stu_?#+@é")
    paths = [request.url.raw_path.decode() for request in fake.requests]
    assert paths == [
        "/prefix/v1/viewer/studies/by-uid/1.2.840.10008.5.1.4.1.1.2",
        "/prefix/v1/viewer/studies/by-uid/1.2%2F3%204",
        "/prefix/v1/viewer/users/usr_a%2Fb",
        "/prefix/v1/viewer/studies/stu_%3F%23+@%C3%A9",
    ]


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_empty_and_dot_segments_are_refused_without_a_request(fake, value):
    with pytest.raises(NotFound):
        viewer_api.study_get(study_id=value)
    assert fake.requests == []


def test_null_filters_lowercase_booleans_and_empty_values(fake):
    fake.queue(*[ok(page_json("studies", [])) for _ in range(3)])
    viewer_api.study_list(
        filters=StudyFilters(assigned_to=UNASSIGNED, express_customer_id=NO_CUSTOMER)
    )
    viewer_api.study_list(
        filters=StudyFilters(is_cancelled=False, study_description="", severity=None)
    )
    viewer_api.study_list(
        filters=StudyFilters(
            is_cancelled=True,
            assigned_to=USER_ID,
            express_customer_id=CUSTOMER_ID,
            severity=Severity.HIGH,
            study_viewer_status=ViewerStatus.COMPLETE,
            study_description="CT Head",
            limit=20,
        ),
        cursor="eyJvZmZzZXQiOjIwfQ==",
    )
    first, second, third = fake.requests
    assert first.url.query == b"assignedTo=null&expressCustomerId=null"
    assert second.url.query == b"isCancelled=false"
    assert query_of(third) == {
        "assignedTo": USER_ID,
        "expressCustomerId": CUSTOMER_ID,
        "isCancelled": "true",
        "severity": "high",
        "studyViewerStatus": "complete",
        "studyDescription": "CT Head",
        "limit": "20",
        "cursor": "eyJvZmZzZXQiOjIwfQ==",
    }
    assert b"studyDescription=CT+Head" in third.url.query


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ({"cursor": "c", "hasMore": True}, "c"),
        ({"cursor": "c", "hasMore": None}, "c"),
        ({"cursor": "c", "hasMore": False}, None),
        ({"cursor": "", "hasMore": True}, None),
        ({"cursor": None, "hasMore": True}, None),
    ],
)
def test_next_cursor_follows_the_sdk_rules(envelope, expected):
    page_ = pagination.parse_page(Page[Study], "studies", {"studies": [study_json()]})
    page_ = page_.model_copy(update={"cursor": envelope["cursor"], "has_more": envelope["hasMore"]})
    assert page_.next_cursor == expected
    empty = page_.model_copy(update={"items": []})
    assert empty.next_cursor is None


def test_a_cursor_handed_out_twice_stops_the_walk(fake):
    fake.queue(
        ok(page_json("expressCustomers", [customer_json()], cursor="same", has_more=True)),
        ok(page_json("expressCustomers", [customer_json()], cursor="same", has_more=True)),
    )
    with pytest.raises(BadResponse):
        viewer_api.customers_all()
    assert len(fake.requests) == 2


def test_update_list_users_and_customers_round_trip(fake):
    fake.queue(
        ok(study_json(assignedTo=None)),
        ok(page_json("users", [user_json()], cursor=None)),
        ok(user_json(suffix1="MD", middleName="R.")),
        ok(page_json("expressCustomers", [customer_json()])),
        ok({"success": True, "message": None}),
        ok({"url": "https://viewer.test/open?token=x"}),
    )
    study = viewer_api.study_update(study_id=STUDY_ID, changes=StudyUpdate(assigned_to=None))
    assert study.assigned_to is None
    users = viewer_api.user_list(
        filters=UserFilters(email="a@b.example", level="member", invited_source="api", limit=5)
    )
    assert users.items[0].display_name == "Dana Lee"
    assert viewer_api.user_get(user_id=USER_ID).display_name == "Dana R. Lee, MD"
    customers = viewer_api.customer_list(filters=CustomerFilters(limit=10), cursor="c")
    assert customers.items[0].express_customer_name == "Acme"
    assert viewer_api.study_uncancel(study_id=STUDY_ID).success is True
    assert viewer_api.study_viewer_url(study_id=STUDY_ID) == "https://viewer.test/open?token=x"
    update, users_req, _, customers_req, *_ = fake.requests
    assert update.method == "PATCH"
    assert body_of(update) == {"assignedTo": None}
    assert query_of(users_req) == {
        "email": "a@b.example",
        "level": "member",
        "invitedSource": "api",
        "limit": "5",
    }
    assert query_of(customers_req) == {"cursor": "c", "limit": "10"}


# --- Responses ---------------------------------------------------------------------------------


def test_unknown_extra_fields_are_accepted(fake):
    body = study_json(brandNewField={"x": 1})
    body["assignedTo"]["pager"] = "555"
    fake.queue(ok(body), ok({**page_json("users", [user_json(extra=1)]), "total": 1}))
    assert viewer_api.study_get(study_id=STUDY_ID).study_id == STUDY_ID
    assert viewer_api.user_list().items[0].user_id == USER_ID


def test_unknown_enum_values_are_accepted(fake):
    fake.queue(ok(study_json(severity="critical", studyViewerStatus="archived")))
    study = viewer_api.study_get(study_id=STUDY_ID)
    assert study.severity == "critical"
    assert study.study_viewer_status == "archived"
    fake.queue(ok(study_json(severity="high", studyViewerStatus="complete")))
    study = viewer_api.study_get(study_id=STUDY_ID)
    assert study.severity is Severity.HIGH
    assert study.study_viewer_status is ViewerStatus.COMPLETE


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json"),
        httpx.Response(200, text=""),
        httpx.Response(200, content=b"\xff\xfe\x00garbage"),
        httpx.Response(200, text="<html>Bad gateway</html>", headers={"content-type": "text/html"}),
    ],
)
def test_malformed_json_is_a_bad_response(fake, response):
    fake.queue(response)
    with pytest.raises(BadResponse) as caught:
        viewer_api.study_get(study_id=STUDY_ID)
    assert "could not read" in caught.value.message
    assert len(fake.requests) == 1  # not retried


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in study_json().items() if k != "studyInstanceUid"},
        study_json(isCancelled=None),
        study_json(assignedTo={"userId": USER_ID}),
        study_json(metadata={"ward": 7}),
        [study_json()],
        None,
    ],
)
def test_a_missing_required_field_or_wrong_shape_is_a_bad_response(fake, body):
    fake.queue(ok(body))
    with pytest.raises(BadResponse):
        viewer_api.study_get(study_id=STUDY_ID)


@pytest.mark.parametrize(
    "body",
    [{"cursor": None}, {"studies": None}, {"studies": {}}, [], {"studies": [{"studyId": "x"}]}],
)
def test_a_list_without_its_items_is_a_bad_response(fake, body):
    fake.queue(ok(body))
    with pytest.raises(BadResponse):
        viewer_api.study_list()


def test_action_results_that_do_not_fit_leave_the_outcome_unknown(fake):
    # A 2xx answer that does not fit: the call went through, so the study is read back.
    fake.queue(ok({"message": "done"}), ok(study_json(isCancelled=True)))
    assert viewer_api.study_cancel(study_id=STUDY_ID).success
    # A link that cannot be read is asked for once more (a link changes nothing), then the
    # outcome stays unknown.
    fake.queue(ok({"link": "x"}), ok({"link": "y"}))
    with pytest.raises(viewer_api.OutcomeUnknown):
        viewer_api.study_viewer_url(study_id=STUDY_ID)
    assert fake.count("POST", "/reroute-url") == 2


# --- Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 422])
def test_validation_error_details_become_field_errors(fake, status):
    details = [
        {"field": "studyInstanceUid", "message": "Not a valid DICOM UID."},
        {"field": "metadata.ward", "message": "Too long."},
        {"field": "metadata", "message": "Too many pairs."},
        {"field": "assignedTo", "message": "No such user."},
        {"message": "A detail without a field is ignored."},
    ]
    fake.queue(error(status, "validation_error", "Some values are invalid.", details))
    with pytest.raises(InvalidRequest) as caught:
        viewer_api.study_create(data=create_data())
    exc = caught.value
    assert exc.status_code == status
    assert exc.message == "Some values are invalid."
    assert exc.code == "validation_error"
    assert exc.field_errors == {
        "study_instance_uid": ["Not a valid DICOM UID."],
        "metadata": ["Too long.", "Too many pairs."],
        "assigned_to": ["No such user."],
    }
    assert fake.methods() == ["POST"]


def test_an_error_body_of_another_shape_falls_back_to_its_text(fake):
    fake.queue(
        httpx.Response(400, text="limit must be a whole number"),
        httpx.Response(
            400, text="<html><body>Bad</body></html>", headers={"content-type": "text/html"}
        ),
        httpx.Response(418, json={"detail": "teapot"}),
    )
    with pytest.raises(InvalidRequest) as caught:
        viewer_api.study_list()
    assert caught.value.message == "limit must be a whole number"
    assert caught.value.field_errors == {}
    with pytest.raises(InvalidRequest) as caught:
        viewer_api.study_list()
    assert caught.value.message == InvalidRequest.default_message
    with pytest.raises(ViewerAPIError) as caught:
        viewer_api.study_list()
    assert caught.value.status_code == 418
    assert caught.value.body == {"detail": "teapot"}


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_are_auth_errors(fake, status):
    fake.queue(error(status, "unauthorized"))
    with pytest.raises(AuthError) as caught:
        viewer_api.study_list()
    assert caught.value.status_code == status
    assert "administrator" in caught.value.message
    assert API_KEY not in caught.value.message
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: viewer_api.study_get(study_id=STUDY_ID), "study"),
        (lambda: viewer_api.study_cancel(study_id=STUDY_ID), "study"),
        (lambda: viewer_api.user_get(user_id=USER_ID), "user"),
    ],
)
def test_404_is_not_found_with_a_message_naming_the_thing(fake, call, word):
    fake.queue(error(404, "not_found"))
    with pytest.raises(NotFound) as caught:
        call()
    assert caught.value.status_code == 404
    assert f"no such {word}" in caught.value.message
    assert len(fake.requests) == 1


def test_409_on_update_is_a_conflict_with_the_api_message(fake):
    fake.queue(error(409, "conflict", "The study is not cancelled.", **{"x-should-retry": "false"}))
    with pytest.raises(Conflict) as caught:
        viewer_api.study_uncancel(study_id=STUDY_ID)
    assert caught.value.message == "The study is not cancelled."
    assert caught.value.existing is None


@pytest.mark.parametrize(("base_url", "api_key"), [("", API_KEY), (BASE_URL, "")])
def test_missing_settings_are_an_auth_error(settings, base_url, api_key):
    settings.VIEWER_API_BASE_URL = base_url
    settings.VIEWER_API_KEY = api_key
    viewer_api.set_client(None)
    with pytest.raises(AuthError, match="VIEWER_API_BASE_URL or VIEWER_API_KEY is missing"):
        viewer_api.study_list()
    with pytest.raises(AuthError):
        viewer_api.user_search(query="lee")
    assert viewer_api.ping() == (False, "AuthError")
    with pytest.raises(AuthError):
        viewer_api.ViewerAPI(base_url=base_url, api_key=api_key)


def test_the_process_client_is_built_once_from_settings(settings):
    settings.VIEWER_API_BASE_URL = BASE_URL + "/"
    settings.VIEWER_API_KEY = API_KEY
    viewer_api.set_client(None)
    try:
        client = viewer_api.get_client()
        assert viewer_api.get_client() is client
        assert client.base_url == BASE_URL
        settings.VIEWER_API_TIMEOUT_SECONDS = 3
        assert viewer_api.get_client() is not client
    finally:
        viewer_api.set_client(None)


def test_ping(fake):
    fake.queue(ok(page_json("studies", [])), error(401))
    assert viewer_api.ping() == (True, "reachable")
    assert query_of(fake.requests[0]) == {"limit": "1"}
    assert viewer_api.ping() == (False, "AuthError")


# --- Retries -----------------------------------------------------------------------------------


def test_a_get_that_times_out_is_retried_then_unavailable(fake):
    fake.queue(*[httpx.ReadTimeout("timed out") for _ in range(3)])
    with pytest.raises(Unavailable) as caught:
        viewer_api.study_get(study_id=STUDY_ID)
    assert "not responding" in caught.value.message
    assert fake.methods() == ["GET"] * 3
    assert len(fake.sleeps) == 2
    assert all(0 < wait <= transport._BACKOFF_CAP_SECONDS for wait in fake.sleeps)


def test_connection_refused_is_unavailable_after_retries(fake):
    fake.queue(*[httpx.ConnectError("[Errno 111] Connection refused") for _ in range(3)])
    with pytest.raises(Unavailable):
        viewer_api.study_list()
    assert len(fake.requests) == 3


def test_500_then_success_on_a_get_is_retried(fake):
    fake.queue(error(500, "internal"), ok(study_json()))
    assert viewer_api.study_get(study_id=STUDY_ID).study_id == STUDY_ID
    assert fake.methods() == ["GET", "GET"]
    assert len(fake.sleeps) == 1


def test_backoff_grows_and_is_capped():
    waits = [transport._backoff(attempt, None) for attempt in range(1, 12)]
    assert all(0 < wait <= transport._BACKOFF_CAP_SECONDS for wait in waits)
    assert transport._backoff(20, None) >= 0.75 * transport._BACKOFF_CAP_SECONDS
    assert transport._backoff(1, 2.5) == 2.5


def test_429_with_retry_after_waits_that_long_then_succeeds(fake):
    fake.queue(error(429, "rate_limited", **{"Retry-After": "2"}), ok(study_json()))
    assert viewer_api.study_get(study_id=STUDY_ID).study_id == STUDY_ID
    assert fake.sleeps == [2.0]


def test_429_that_persists_raises_rate_limited_with_retry_after(fake):
    fake.queue(*[error(429, "rate_limited", **{"Retry-After": "1"}) for _ in range(3)])
    with pytest.raises(RateLimited) as caught:
        viewer_api.study_list()
    assert caught.value.retry_after == 1.0
    assert caught.value.status_code == 429
    assert "Try again in 1 second." in caught.value.message
    assert fake.sleeps == [1.0, 1.0]
    assert len(fake.requests) == 3


def test_a_retry_after_beyond_the_budget_gives_up_at_once(fake):
    fake.queue(error(429, "rate_limited", **{"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        viewer_api.study_list()
    assert caught.value.retry_after == 30.0
    assert fake.sleeps == []
    assert len(fake.requests) == 1


def test_retry_after_ms_and_http_dates_are_understood(fake):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    fake.queue(
        error(429, **{"retry-after-ms": "1500", "Retry-After": "9"}),
        error(503, **{"Retry-After": when}),
        ok(study_json()),
    )
    viewer_api.study_get(study_id=STUDY_ID)
    assert fake.sleeps[0] == 1.5
    assert 1.0 < fake.sleeps[1] <= 3.0


def test_retries_stay_within_the_time_budget(fake, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(transport.time, "monotonic", lambda: clock[0])

    def sleep(seconds):
        fake.sleeps.append(seconds)
        clock[0] += seconds

    viewer_api.get_client()._sleep = sleep
    fake.queue(*[error(503, **{"Retry-After": "4"}) for _ in range(3)])
    with pytest.raises(Unavailable):
        viewer_api.study_list()
    assert fake.sleeps == [4.0]  # a second 4 s wait would pass the 6 s budget
    assert len(fake.requests) == 2


def test_other_4xx_are_not_retried(fake):
    fake.queue(error(400, "validation_error"))
    with pytest.raises(InvalidRequest):
        viewer_api.study_list()
    assert len(fake.requests) == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        lambda: error(500, "internal"),
        lambda: error(503),
        lambda: error(429, **{"Retry-After": "1"}),
        lambda: httpx.ReadTimeout("timed out"),
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
)
@pytest.mark.parametrize(
    ("call", "method", "unchanged"),
    [
        (lambda: viewer_api.study_cancel(study_id=STUDY_ID), "POST", {}),
        (lambda: viewer_api.study_uncancel(study_id=STUDY_ID), "POST", {"isCancelled": True}),
        (
            lambda: viewer_api.study_update(
                study_id=STUDY_ID, changes=StudyUpdate(severity=Severity.HIGH)
            ),
            "PATCH",
            {},
        ),
    ],
)
def test_non_get_calls_are_never_retried(fake, failure, call, method, unchanged):
    # A lost answer is read back (GETs of the study, which shows nothing changed), never resent.
    fake.queue(failure(), *[ok(study_json(**unchanged)) for _ in range(10)])
    with pytest.raises((Unavailable, RateLimited, viewer_api.OutcomeUnknown)):
        call()
    assert fake.count(method) == 1
    assert set(fake.methods()) <= {method, "GET"}


# --- Create: never twice, unknown outcomes recovered -------------------------------------------


def _uid_lookups(fake: FakeAPI) -> int:
    return fake.count("GET", f"/by-uid/{UID}")


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.ReadTimeout("timed out"),
        lambda: httpx.WriteTimeout("timed out"),
        lambda: httpx.RemoteProtocolError("Server disconnected without sending a response."),
        lambda: httpx.ReadError("connection reset"),
        lambda: error(500, "internal"),
        lambda: error(502),
        lambda: error(503),
        lambda: httpx.Response(504, text="Gateway Timeout"),
        lambda: httpx.Response(201, text="not json"),
        lambda: ok({"unexpected": True}, status=201),
    ],
)
def test_create_with_unknown_outcome_returns_the_study_found_with_the_same_values(fake, failure):
    fake.queue(failure(), ok(study_json()))
    study = viewer_api.study_create(data=create_data())
    assert study.study_id == STUDY_ID
    assert fake.count("POST") == 1
    assert _uid_lookups(fake) == 1
    assert body_of(fake.requests[0]) == {
        "severity": "stat",
        "studyDescription": DESCRIPTION,
        "studyInstanceUid": UID,
        "assignedTo": USER_ID,
        "metadata": METADATA,
    }


def test_create_recovery_with_a_customer_and_no_optional_values(fake):
    fake.queue(
        httpx.ReadTimeout("timed out"),
        ok(
            study_json(
                assignedTo=None,
                metadata={},
                expressCustomer={"expressCustomerId": CUSTOMER_ID, "expressCustomerName": "A"},
            )
        ),
    )
    data = create_data(assigned_to=None, metadata=None, express_customer_id=CUSTOMER_ID)
    assert viewer_api.study_create(data=data).express_customer is not None
    assert fake.count("POST") == 1


@pytest.mark.parametrize(
    "found",
    [
        study_json(severity="normal"),
        study_json(studyDescription="Another description"),
        study_json(assignedTo=None),
        study_json(assignedTo={"userId": OTHER_USER_ID, "email": "x@clinic.example"}),
        study_json(metadata={"ward": "ICU"}),
        study_json(metadata=None),
        study_json(expressCustomer={"expressCustomerId": CUSTOMER_ID, "expressCustomerName": "A"}),
        study_json(isCancelled=True, cancelledAt="2025-01-30T12:51:12.936Z"),
    ],
)
def test_create_with_unknown_outcome_and_a_different_study_is_a_duplicate(fake, found):
    fake.queue(httpx.ReadTimeout("timed out"), ok(found))
    with pytest.raises(Conflict) as caught:
        viewer_api.study_create(data=create_data())
    assert caught.value.existing is not None
    assert fake.count("POST") == 1
    assert _uid_lookups(fake) == 1


def test_create_with_unknown_outcome_and_no_study_found_was_not_applied(fake):
    fake.queue(error(500), error(404, "not_found"))
    with pytest.raises(viewer_api.NotApplied) as caught:
        viewer_api.study_create(data=create_data())
    assert caught.value.status_code == 500
    assert fake.count("POST") == 1
    assert _uid_lookups(fake) == 1


@pytest.mark.parametrize(
    "lookup",
    [lambda: error(503), lambda: ok({"unexpected": True}), lambda: error(401)],
)
def test_create_with_unknown_outcome_and_failing_lookups_stays_unknown(fake, settings, lookup):
    fake.queue(error(500), *[lookup() for _ in range(10)])
    with pytest.raises(viewer_api.OutcomeUnknown) as caught:
        viewer_api.study_create(data=create_data())
    assert caught.value.read_back == "failed"
    assert caught.value.status_code == 500
    assert fake.count("POST") == 1
    assert 1 < _uid_lookups(fake) <= 6
    assert sum(fake.sleeps) <= settings.VIEWER_API_READ_BACK_SECONDS


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.ReadTimeout("timed out"),
        lambda: httpx.RemoteProtocolError("peer closed connection without sending complete body"),
        lambda: error(502),
        lambda: httpx.Response(504, text="Gateway Timeout"),
    ],
)
def test_a_create_that_may_still_be_running_is_looked_up_again(fake, failure):
    # The API has not finished when the client gives up: the study appears a moment later.
    fake.queue(failure(), error(404), error(404), ok(study_json()))
    assert viewer_api.study_create(data=create_data()).study_id == STUDY_ID
    assert fake.count("POST") == 1
    assert _uid_lookups(fake) == 3
    assert len(fake.sleeps) == 2
    assert 0 < fake.sleeps[0] < fake.sleeps[1]


def test_a_create_still_unknown_after_the_last_lookup_keeps_the_error(fake, settings):
    fake.queue(httpx.ReadTimeout("timed out"), *[error(404) for _ in range(10)])
    with pytest.raises(viewer_api.OutcomeUnknown) as caught:
        viewer_api.study_create(data=create_data())
    assert caught.value.read_back == "unchanged"
    assert fake.count("POST") == 1
    assert 1 < _uid_lookups(fake) <= 6
    assert sum(fake.sleeps) <= settings.VIEWER_API_READ_BACK_SECONDS


@pytest.mark.parametrize("status", [500, 503, 408])
def test_an_api_error_answer_to_a_create_is_looked_up_once(fake, status):
    fake.queue(error(status), error(404))
    with pytest.raises(viewer_api.NotApplied):
        viewer_api.study_create(data=create_data())
    assert fake.methods() == ["POST", "GET"]
    assert fake.sleeps == []


def test_create_that_surely_did_not_reach_the_api_is_not_looked_up(fake):
    fake.queue(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(Unavailable):
        viewer_api.study_create(data=create_data())
    assert fake.methods() == ["POST"]


@pytest.mark.parametrize(
    "failure",
    [
        lambda: error(429, **{"Retry-After": "1"}),
        lambda: error(400, "validation_error"),
        lambda: error(401),
    ],
)
def test_create_with_a_known_failure_is_neither_retried_nor_looked_up(fake, failure):
    fake.queue(failure())
    with pytest.raises(ViewerAPIError):
        viewer_api.study_create(data=create_data())
    assert fake.methods() == ["POST"]
    assert fake.sleeps == []


def test_duplicate_uid_raises_conflict_carrying_the_existing_study(fake):
    existing = study_json(studyId="stu_" + "e" * 32, studyDescription="Earlier study")
    fake.queue(
        error(409, "conflict", "Duplicate studyInstanceUid.", **{"x-should-retry": "false"}),
        ok(existing),
    )
    with pytest.raises(Conflict) as caught:
        viewer_api.study_create(data=create_data())
    assert caught.value.existing is not None
    assert caught.value.existing.study_id == "stu_" + "e" * 32
    assert "already exists" in caught.value.message
    assert caught.value.status_code == 409
    assert fake.count("POST") == 1


def test_a_conflict_without_a_study_by_that_uid_keeps_the_api_message(fake):
    fake.queue(error(409, "conflict", "The Express customer is deactivated."), error(404))
    with pytest.raises(Conflict) as caught:
        viewer_api.study_create(data=create_data(express_customer_id=CUSTOMER_ID))
    assert caught.value.existing is None
    assert caught.value.message == "The Express customer is deactivated."
    assert fake.count("POST") == 1


def test_create_success_returns_the_parsed_study(fake):
    fake.queue(ok(study_json(), status=201))
    assert viewer_api.study_create(data=create_data()).study_instance_uid == UID
    assert fake.methods() == ["POST"]


# --- Logging -----------------------------------------------------------------------------------

LINE = re.compile(
    r"^viewer_api (GET|POST|PATCH) (/v1/\S+) status=(\w+) duration_ms=\d+ attempt=(\d)$"
)


def _lines(caplog) -> list[tuple[str, str, str, str]]:
    lines = []
    for record in caplog.records:
        match = LINE.match(record.getMessage())
        if record.name == "studies.viewer_api" and match:
            lines.append(match.groups())
    return lines


def test_one_log_line_per_call_with_method_template_status_duration_attempt(fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.queue(ok(study_json()))
    viewer_api.study_get_by_uid(study_instance_uid=UID)
    assert _lines(caplog) == [
        ("GET", "/v1/viewer/studies/by-uid/{studyInstanceUid}", "200", "1"),
    ]
    caplog.clear()
    fake.queue(error(500), httpx.ReadTimeout("timed out"), ok(study_json()))
    viewer_api.study_get(study_id=STUDY_ID)
    assert _lines(caplog) == [
        ("GET", "/v1/viewer/studies/{studyId}", "500", "1"),
        ("GET", "/v1/viewer/studies/{studyId}", "ReadTimeout", "2"),
        ("GET", "/v1/viewer/studies/{studyId}", "200", "3"),
    ]


def test_logs_never_carry_the_key_metadata_descriptions_uids_or_names(fake, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = [
        API_KEY,
        METADATA_VALUE,
        "ward",
        DESCRIPTION,
        "Brain",
        UID,
        "Okafor",
        "ada@clinic.example",
        "Dana",
        STUDY_ID,
    ]
    fake.queue(
        # A create whose outcome is unknown, recovered by a UID lookup.
        httpx.ReadTimeout("timed out"),
        ok(study_json()),
        # A duplicate create.
        error(409, "conflict", f"Duplicate {UID} ({DESCRIPTION})"),
        ok(study_json()),
        # A list filtered by description, and a response with a broken metadata value.
        ok(page_json("studies", [study_json(metadata={"ward": 7})])),
        # Validation errors that echo the values.
        error(400, "validation_error", METADATA_VALUE, [{"field": "metadata", "message": UID}]),
        # A name search and an email search.
        ok(page_json("users", [user_json(first="Ada", last="Okafor")])),
        ok(page_json("users", [])),
        ok(page_json("users", [user_json(first="Ada", last="Okafor")])),
    )
    viewer_api.study_create(data=create_data())
    with pytest.raises(Conflict):
        viewer_api.study_create(data=create_data())
    with pytest.raises(BadResponse):
        viewer_api.study_list(filters=StudyFilters(study_description=DESCRIPTION))
    with pytest.raises(InvalidRequest):
        viewer_api.study_update(study_id=STUDY_ID, changes=StudyUpdate(metadata=METADATA))
    viewer_api.user_search(query="Okafor")
    viewer_api.user_search(query="ada@clinic.example")

    assert len(_lines(caplog)) == len(fake.requests) == 9
    assert any("unexpected response shape" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = " ".join([record.getMessage(), repr(record.args), record.exc_text or ""])
        for secret in secrets:
            assert secret not in text, (record.name, text)
        assert not record.getMessage().startswith("HTTP Request:")


# --- Caching -----------------------------------------------------------------------------------


def test_user_search_hits_the_api_once_within_the_ttl(fake):
    fake.queue(
        ok(page_json("users", [user_json(first="Ada", last="Okafor")])),
        ok(page_json("users", [user_json(first="Okafor", last="Zed", user_id=OTHER_USER_ID)])),
    )
    first = viewer_api.user_search(query="  okafor ")
    second = viewer_api.user_search(query="OKAFOR")
    assert [u.last_name for u in first] == ["Okafor", "Zed"]
    assert [u.user_id for u in second] == [u.user_id for u in first]
    assert len(fake.requests) == 2  # one search = a last-name and a first-name filter
    assert [query_of(r) for r in fake.requests] == [
        {"lastName": "okafor", "limit": "10"},
        {"firstName": "okafor", "limit": "10"},
    ]


def test_user_search_by_email_and_full_name(fake):
    fake.queue(ok(page_json("users", [user_json()])), ok(page_json("users", [user_json()])))
    viewer_api.user_search(query="dana.lee@clinic.example", limit=5)
    viewer_api.user_search(query="Dana  Lee")
    assert query_of(fake.requests[0]) == {"email": "dana.lee@clinic.example", "limit": "5"}
    assert query_of(fake.requests[1]) == {"firstName": "Dana", "lastName": "Lee", "limit": "10"}
    assert viewer_api.user_search(query="   ") == []
    assert len(fake.requests) == 2


def test_customers_all_walks_every_page_once_within_the_ttl(fake):
    inactive = customer_json("cus_" + "f" * 32, active=False, name="Old")
    fake.queue(
        ok(page_json("expressCustomers", [customer_json()], cursor="c1", has_more=True)),
        ok(page_json("expressCustomers", [inactive])),
    )
    assert [c.express_customer_name for c in viewer_api.customers_all()] == ["Acme", "Old"]
    assert [c.express_customer_name for c in viewer_api.customers_all()] == ["Acme", "Old"]
    assert [c.express_customer_name for c in viewer_api.customers_active()] == ["Acme"]
    assert len(fake.requests) == 2
    assert query_of(fake.requests[0]) == {"limit": "100"}
    assert query_of(fake.requests[1]) == {"cursor": "c1", "limit": "100"}


def test_user_get_cached(fake):
    fake.queue(ok(user_json()))
    assert viewer_api.user_get_cached(user_id=USER_ID).user_id == USER_ID
    assert viewer_api.user_get_cached(user_id=USER_ID).user_id == USER_ID
    assert len(fake.requests) == 1


def test_cache_keys_are_shared_by_instances_and_carry_no_secret(fake, locmem_cache):
    fake.queue(
        ok(page_json("users", [user_json(first="Ada", last="Okafor")])), ok(page_json("users", []))
    )
    viewer_api.user_search(query="Okafor")
    keys = list(locmem_cache._cache.keys())
    assert keys
    for key in keys:
        assert API_KEY not in key
        assert "okafor" not in key.lower()

    # Another app instance (another client object, same base URL and key) reads the same entry.
    other = FakeAPI()
    viewer_api.set_client(other.client())
    assert [u.last_name for u in viewer_api.user_search(query="Okafor")] == ["Okafor"]
    assert other.requests == []

    # Another key never sees this key's entries.
    viewer_api.set_client(other.client(api_key="another-key"))
    other.queue(ok(page_json("users", [])), ok(page_json("users", [])))
    assert viewer_api.user_search(query="Okafor") == []
    assert len(other.requests) == 2


def test_a_corrupt_cache_entry_is_reloaded(fake, locmem_cache):
    fake.queue(ok(page_json("expressCustomers", [customer_json()])))
    viewer_api.customers_all()
    (key,) = [k.split(":", 2)[2] for k in locmem_cache._cache]
    locmem_cache.set(key, [{"nonsense": True}])
    fake.queue(ok(page_json("expressCustomers", [customer_json()])))
    assert len(viewer_api.customers_all()) == 1
    assert len(fake.requests) == 2
