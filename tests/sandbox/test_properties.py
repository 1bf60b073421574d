"""Property test: whatever body or query string arrives, the sandbox answers a 2xx or a 4xx with
the error body of §12.1, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sandbox.factories import SandboxFactory
from tests.sandbox.support import PREFIX

pytestmark = pytest.mark.django_db

FIELDS = [
    "severity",
    "studyDescription",
    "studyInstanceUid",
    "assignedTo",
    "expressCustomerId",
    "metadata",
    "studyViewerStatus",
    "studyId",
]
QUERY_KEYS = [
    "assignedTo",
    "expressCustomerId",
    "isCancelled",
    "severity",
    "studyViewerStatus",
    "studyDescription",
    "limit",
    "cursor",
]
KNOWN_USER = "usr_" + "a" * 32
REVOKED_USER = "usr_" + "b" * 32
KNOWN_CUSTOMER = "cus_" + "c" * 32
INACTIVE_CUSTOMER = "cus_" + "d" * 32
KNOWN_STUDY = "stu_" + "e" * 32
EXAMPLES = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
plausible = {
    "severity": st.sampled_from(["normal", "high", "stat", "STAT", ""]) | json_values,
    "studyDescription": st.text(max_size=40) | json_values,
    "studyInstanceUid": st.from_regex(r"[0-9.]{0,20}", fullmatch=True) | json_values,
    "assignedTo": st.sampled_from([KNOWN_USER, REVOKED_USER])
    | st.from_regex(r"usr_[0-9a-f]{30,33}", fullmatch=True)
    | json_values,
    "expressCustomerId": st.sampled_from([KNOWN_CUSTOMER, INACTIVE_CUSTOMER])
    | st.from_regex(r"cus_[0-9a-f]{32}", fullmatch=True)
    | json_values,
    "metadata": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
    "studyViewerStatus": st.sampled_from(["complete", "incomplete", "done"]) | json_values,
    "studyId": st.just(KNOWN_STUDY)
    | st.from_regex(r"stu_[0-9a-f]{32}", fullmatch=True)
    | json_values,
}
object_bodies = st.fixed_dictionaries(
    {}, optional={field: plausible[field] for field in FIELDS}
).map(lambda body: json.dumps(body).encode())
valid_uids = st.lists(st.integers(0, 10**9), min_size=2, max_size=8).map(
    lambda parts: ".".join(map(str, parts))
)
near_valid_bodies = st.fixed_dictionaries(
    {
        "severity": st.sampled_from(["normal", "high", "stat"]),
        "studyDescription": st.text(min_size=1, max_size=30).filter(str.strip),
        "studyInstanceUid": valid_uids,
    },
    optional={field: plausible[field] for field in FIELDS[3:]},
).map(lambda body: json.dumps(body).encode())
locator_bodies = st.fixed_dictionaries(
    {},
    optional={
        "studyId": plausible["studyId"],
        "studyInstanceUid": st.sampled_from(["1.2.3", "1.2.4"]) | plausible["studyInstanceUid"],
    },
).map(lambda body: json.dumps(body).encode())
raw_bodies = (
    near_valid_bodies
    | object_bodies
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=60)
)
content_types = st.sampled_from(
    ["application/json"] * 4
    + ["application/json; charset=utf-8", "text/plain", "", "application/xml"]
)
query_values = st.text(max_size=20) | st.sampled_from(
    ["null", "true", "false", "", "20", "20.0", "eyJvZmZzZXQiOjJ9", "normal", "complete"]
)
queries = st.dictionaries(
    st.sampled_from(QUERY_KEYS) | st.text(max_size=6), query_values, max_size=5
)


def assert_clean(response: Any) -> None:
    event(f"HTTP {response.status_code}")  # shown by --hypothesis-show-statistics
    assert response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code >= 400:
        error = body["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        for detail in error.get("details", []):
            assert isinstance(detail["field"], str)
            assert isinstance(detail["message"], str)


@pytest.fixture
def auth(settings: Any, sandbox_factory: SandboxFactory) -> dict[str, str]:
    """The bearer header, and rows that the generated IDs sometimes name (created once per test,
    shared by its examples)."""
    sandbox_factory.user(user_id=KNOWN_USER)
    sandbox_factory.user(user_id=REVOKED_USER, is_revoked=True)
    sandbox_factory.customer(customer_id=KNOWN_CUSTOMER)
    sandbox_factory.customer(customer_id=INACTIVE_CUSTOMER, is_active=False)
    sandbox_factory.study(study_id=KNOWN_STUDY, study_instance_uid="1.2.3")
    return {"Authorization": f"Bearer {settings.VIEWER_API_KEY}"}


@EXAMPLES
@given(body=raw_bodies, content_type=content_types)
def test_create_never_fails_with_500(
    client: Client, auth: dict[str, str], body: bytes, content_type: str
) -> None:
    response = client.generic(
        "POST", f"{PREFIX}/v1/viewer/studies", data=body, content_type=content_type, headers=auth
    )
    assert_clean(response)


@EXAMPLES
@given(body=raw_bodies, content_type=content_types)
def test_update_never_fails_with_500(
    client: Client, auth: dict[str, str], body: bytes, content_type: str
) -> None:
    response = client.generic(
        "PATCH",
        f"{PREFIX}/v1/viewer/studies/{KNOWN_STUDY}",
        data=body,
        content_type=content_type,
        headers=auth,
    )
    assert_clean(response)


@EXAMPLES
@given(query=queries, path=st.sampled_from(["studies", "users"]))
def test_lists_never_fail_with_500(
    client: Client, auth: dict[str, str], query: dict[str, str], path: str
) -> None:
    response = client.get(f"{PREFIX}/v1/viewer/{path}", query_params=query, headers=auth)
    assert_clean(response)


@EXAMPLES
@given(
    body=locator_bodies | raw_bodies, action=st.sampled_from(["cancel", "uncancel", "reroute-url"])
)
def test_actions_never_fail_with_500(
    client: Client, auth: dict[str, str], body: bytes, action: str
) -> None:
    response = client.generic(
        "POST",
        f"{PREFIX}/v1/viewer/studies/{action}",
        data=body,
        content_type="application/json",
        headers=auth,
    )
    assert_clean(response)
