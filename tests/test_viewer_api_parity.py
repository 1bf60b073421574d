"""Our client puts the same requests on the wire as the official `avara` SDK 0.3.0.

For each call, both clients talk to the shared in-process fake (tests/viewer_api_fake.py); the test
compares what each sent: method, path (raw, percent-encoding included), query string (decoded
and raw, as key/value pairs, order aside), JSON body and the headers that matter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from avara import Avara

from studies import viewer_api
from studies.viewer_api import (
    NO_CUSTOMER,
    UNASSIGNED,
    CustomerFilters,
    Severity,
    StudyCreate,
    StudyFilters,
    StudyUpdate,
    UserFilters,
    ViewerStatus,
)
from tests.viewer_api_fake import FakeAPI, customer_json, study_json, user_json

BASE_URL = "http://api.test/sandbox"
API_KEY = "parity-key"
STUDY_ID = "stu_" + "1234567890abcdef" * 2
USER_ID = "usr_" + "1234567890abcdef" * 2
CUSTOMER_ID = "cus_" + "1234567890abcdef" * 2
UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
CURSOR = "eyJvZmZzZXQiOjIwfQ=="

STUDY = study_json(studyId=STUDY_ID, studyDescription="CT Head")
USER = user_json(USER_ID)
CUSTOMER = customer_json(CUSTOMER_ID)


def answer(request: httpx.Request) -> httpx.Response:
    """A plausible answer for any call, so both clients finish normally."""
    path = request.url.path.removeprefix("/sandbox")
    if path.endswith(("/cancel", "/uncancel")):
        return httpx.Response(200, json={"success": True})
    if path.endswith("/reroute-url"):
        return httpx.Response(200, json={"url": "http://api.test/open?token=t"})
    if request.method == "GET" and path == "/v1/viewer/studies":
        return httpx.Response(200, json={"studies": [STUDY], "cursor": None, "hasMore": False})
    if request.method == "GET" and path == "/v1/viewer/users":
        return httpx.Response(200, json={"users": [USER], "cursor": None, "hasMore": False})
    if request.method == "GET" and path == "/v1/express":
        return httpx.Response(
            200, json={"expressCustomers": [CUSTOMER], "cursor": None, "hasMore": False}
        )
    if path.startswith("/v1/viewer/users/"):
        return httpx.Response(200, json=USER)
    return httpx.Response(201 if request.method == "POST" else 200, json=STUDY)


@pytest.fixture
def ours():
    fake = FakeAPI(BASE_URL, answer=answer)
    viewer_api.set_client(fake.client(api_key=API_KEY))
    yield fake
    viewer_api.set_client(None)


@pytest.fixture
def sdk():
    fake = FakeAPI(BASE_URL, answer=answer)
    http_client = httpx.Client(transport=httpx.MockTransport(fake.handle))
    client = Avara(api_key=API_KEY, base_url=BASE_URL, max_retries=0, http_client=http_client)
    yield client, fake
    client.close()


def wire(request: httpx.Request) -> dict[str, Any]:
    """What matters about a request on the wire."""
    raw_query = request.url.query.decode()
    return {
        "method": request.method,
        "raw_path": request.url.raw_path.split(b"?")[0].decode(),
        "query": sorted(parse_qsl(raw_query, keep_blank_values=True)),
        "raw_query": sorted(part for part in raw_query.split("&") if part),
        "json": json.loads(request.content) if request.content else None,
        "authorization": request.headers.get("authorization"),
        "accept": request.headers.get("accept"),
        "content_type": request.headers.get("content-type"),
    }


def assert_same_request(ours_call: Callable[[], Any], sdk_call: Callable[[Avara], Any], ours, sdk):
    client, sdk_capture = sdk
    ours_call()
    sdk_call(client)
    assert len(ours.requests) == len(sdk_capture.requests) == 1
    ours_wire, sdk_wire = wire(ours.requests[0]), wire(sdk_capture.requests[0])
    assert ours_wire == sdk_wire
    return ours_wire


FULL_CREATE = {
    "severity": "stat",
    "study_description": "Brain MRI with Contrast",
    "study_instance_uid": UID,
    "assigned_to": USER_ID,
    "express_customer_id": CUSTOMER_ID,
    "metadata": {"ward": "ED", "Referring Physician": "Dr. Ng", "camelCaseKey": "kept as is"},
}


def test_study_create_with_every_field(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.study_create(data=StudyCreate(**FULL_CREATE)),
        lambda client: client.viewer.studies.create(**FULL_CREATE),
        ours,
        sdk,
    )
    assert sent["method"] == "POST"
    assert sent["raw_path"] == "/sandbox/v1/viewer/studies"
    assert sent["content_type"] == "application/json"
    assert sent["json"] == {
        "severity": "stat",
        "studyDescription": "Brain MRI with Contrast",
        "studyInstanceUid": UID,
        "assignedTo": USER_ID,
        "expressCustomerId": CUSTOMER_ID,
        "metadata": FULL_CREATE["metadata"],
    }


def test_study_create_with_required_fields_only(ours, sdk):
    required = {"severity": "normal", "study_description": "Chest CT", "study_instance_uid": UID}
    sent = assert_same_request(
        lambda: viewer_api.study_create(
            data=StudyCreate(**required, assigned_to=None, metadata=None)
        ),
        lambda client: client.viewer.studies.create(**required),
        ours,
        sdk,
    )
    assert sent["json"] == {
        "severity": "normal",
        "studyDescription": "Chest CT",
        "studyInstanceUid": UID,
    }


def test_study_retrieve(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.study_get(study_id=STUDY_ID),
        lambda client: client.viewer.studies.retrieve(STUDY_ID),
        ours,
        sdk,
    )
    assert sent["raw_path"] == f"/sandbox/v1/viewer/studies/{STUDY_ID}"
    assert sent["json"] is None
    assert sent["content_type"] is None


@pytest.mark.parametrize(
    "uid", [UID, "1.2.840.10008.5.1.4.1.1.2", "1.2/3 4+5%6", "1.2;x=y&z@a:b!$'()*,~é?#"]
)
def test_study_retrieve_by_uid(ours, sdk, uid):
    assert_same_request(
        lambda: viewer_api.study_get_by_uid(study_instance_uid=uid),
        lambda client: client.viewer.studies.retrieve_by_uid(uid),
        ours,
        sdk,
    )


@pytest.mark.parametrize(
    ("ours_changes", "sdk_changes", "expected"),
    [
        (
            StudyUpdate(assigned_to=None, metadata={"ward": "ICU"}),
            {"assigned_to": None, "metadata": {"ward": "ICU"}},
            {"assignedTo": None, "metadata": {"ward": "ICU"}},
        ),
        (
            StudyUpdate(assigned_to=USER_ID),
            {"assigned_to": USER_ID},
            {"assignedTo": USER_ID},
        ),
        (StudyUpdate(metadata=None), {"metadata": None}, {"metadata": None}),
        (
            StudyUpdate(
                severity=Severity.HIGH,
                study_description="CT Head, revised",
                study_viewer_status=ViewerStatus.COMPLETE,
            ),
            {
                "severity": "high",
                "study_description": "CT Head, revised",
                "study_viewer_status": "complete",
            },
            {
                "severity": "high",
                "studyDescription": "CT Head, revised",
                "studyViewerStatus": "complete",
            },
        ),
        (StudyUpdate(), {}, {}),
    ],
    ids=["unassign-and-metadata", "assign", "clear-metadata", "scalars", "empty"],
)
def test_study_update(ours, sdk, ours_changes, sdk_changes, expected):
    sent = assert_same_request(
        lambda: viewer_api.study_update(study_id=STUDY_ID, changes=ours_changes),
        lambda client: client.viewer.studies.update(STUDY_ID, **sdk_changes),
        ours,
        sdk,
    )
    assert sent["method"] == "PATCH"
    assert sent["json"] == expected


def test_study_list_with_every_filter(ours, sdk):
    filters = StudyFilters(
        assigned_to=USER_ID,
        express_customer_id=CUSTOMER_ID,
        is_cancelled=False,
        severity=Severity.STAT,
        study_viewer_status=ViewerStatus.INCOMPLETE,
        study_description="CT Head",
        limit=20,
    )
    sent = assert_same_request(
        lambda: viewer_api.study_list(filters=filters, cursor=CURSOR),
        lambda client: client.viewer.studies.list(
            assigned_to=USER_ID,
            express_customer_id=CUSTOMER_ID,
            is_cancelled=False,
            severity="stat",
            study_viewer_status="incomplete",
            study_description="CT Head",
            limit=20,
            cursor=CURSOR,
        ),
        ours,
        sdk,
    )
    assert "studyDescription=CT+Head" in sent["raw_query"]
    assert "isCancelled=false" in sent["raw_query"]
    assert "limit=20" in sent["raw_query"]
    assert dict(sent["query"]) == {
        "assignedTo": USER_ID,
        "expressCustomerId": CUSTOMER_ID,
        "isCancelled": "false",
        "severity": "stat",
        "studyViewerStatus": "incomplete",
        "studyDescription": "CT Head",
        "limit": "20",
        "cursor": CURSOR,
    }


def test_study_list_with_the_null_filters(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.study_list(
            filters=StudyFilters(
                assigned_to=UNASSIGNED, express_customer_id=NO_CUSTOMER, is_cancelled=True
            )
        ),
        lambda client: client.viewer.studies.list(
            is_cancelled=True,
            extra_query={"assignedTo": "null", "expressCustomerId": "null"},
        ),
        ours,
        sdk,
    )
    assert sorted(sent["raw_query"]) == [
        "assignedTo=null",
        "expressCustomerId=null",
        "isCancelled=true",
    ]


@pytest.mark.parametrize("text", ["CT+Head & Neck/50%", "Ünïcode café", "a=b?c#d"])
def test_study_list_encodes_free_text_like_the_sdk(ours, sdk, text):
    assert_same_request(
        lambda: viewer_api.study_list(filters=StudyFilters(study_description=text)),
        lambda client: client.viewer.studies.list(study_description=text),
        ours,
        sdk,
    )


def test_study_list_without_filters(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.study_list(),
        lambda client: client.viewer.studies.list(),
        ours,
        sdk,
    )
    assert sent["raw_query"] == []


@pytest.mark.parametrize(
    ("ours_call", "sdk_method", "path"),
    [
        (viewer_api.study_cancel, "cancel", "cancel"),
        (viewer_api.study_uncancel, "uncancel", "uncancel"),
        (viewer_api.study_viewer_url, "reroute_url", "reroute-url"),
    ],
)
def test_study_actions(ours, sdk, ours_call, sdk_method, path):
    sent = assert_same_request(
        lambda: ours_call(study_id=STUDY_ID),
        lambda client: getattr(client.viewer.studies, sdk_method)(study_id=STUDY_ID),
        ours,
        sdk,
    )
    assert sent["method"] == "POST"
    assert sent["raw_path"] == f"/sandbox/v1/viewer/studies/{path}"
    assert sent["json"] == {"studyId": STUDY_ID}


def test_users_list_with_every_filter(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.user_list(
            filters=UserFilters(
                email="dana.lee+rad@clinic.example",
                first_name="Dana Marie",
                last_name="O'Lee",
                invited_source="dashboard",
                level="owner",
                limit=50,
            ),
            cursor=CURSOR,
        ),
        lambda client: client.viewer.users.list(
            email="dana.lee+rad@clinic.example",
            first_name="Dana Marie",
            last_name="O'Lee",
            invited_source="dashboard",
            level="owner",
            limit=50,
            cursor=CURSOR,
        ),
        ours,
        sdk,
    )
    assert "email=dana.lee%2Brad%40clinic.example" in sent["raw_query"]
    assert "firstName=Dana+Marie" in sent["raw_query"]


def test_users_list_without_filters(ours, sdk):
    assert_same_request(
        lambda: viewer_api.user_list(),
        lambda client: client.viewer.users.list(),
        ours,
        sdk,
    )


def test_user_search_sends_what_the_sdk_sends_for_the_same_filters(ours, sdk):
    client, sdk_capture = sdk
    viewer_api.user_search(query="Dana Lee", limit=7)
    client.viewer.users.list(first_name="Dana", last_name="Lee", limit=7)
    assert [wire(r) for r in ours.requests] == [wire(r) for r in sdk_capture.requests]


def test_users_retrieve(ours, sdk):
    sent = assert_same_request(
        lambda: viewer_api.user_get(user_id=USER_ID),
        lambda client: client.viewer.users.retrieve(USER_ID),
        ours,
        sdk,
    )
    assert sent["raw_path"] == f"/sandbox/v1/viewer/users/{USER_ID}"


@pytest.mark.parametrize(
    ("ours_kwargs", "sdk_kwargs"),
    [
        ({}, {}),
        ({"filters": CustomerFilters(limit=100)}, {"limit": 100}),
        ({"cursor": CURSOR, "filters": CustomerFilters(limit=5)}, {"cursor": CURSOR, "limit": 5}),
    ],
)
def test_express_list(ours, sdk, ours_kwargs, sdk_kwargs):
    sent = assert_same_request(
        lambda: viewer_api.customer_list(**ours_kwargs),
        lambda client: client.express.list(**sdk_kwargs),
        ours,
        sdk,
    )
    assert sent["raw_path"] == "/sandbox/v1/express"
