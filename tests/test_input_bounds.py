"""Every user input is bounded before it reaches the API: each one sent oversized gets the
app's own message, and the sandbox (served by the live server, counted where it answers)
receives no call carrying it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.signals import request_started

from sandbox.factories import SandboxFactory
from studies.viewer_api import DESCRIPTION_MAX_LENGTH, METADATA_VALUE_MAX_LENGTH
from tests.form_data import create_form_data, edit_form_data
from tests.pages import html, input_value

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "Smith" * 4000  # 20,000 characters
HUGE_UID = "1." + "2" * 300
HTMX = {"HTTP_HX_REQUEST": "true"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str


class SandboxCalls:
    """The Viewer API calls the sandbox received (its request lines, under /sandbox/v1/)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(self, sender: Any, environ: dict[str, str], **kwargs: Any) -> None:
        if environ.get("PATH_INFO", "").startswith("/sandbox/v1/"):
            call = Call(environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"])
            self.calls.append(call)

    def to(self, path: str, method: str = "GET") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path)]

    def carrying(self, text: str) -> list[Call]:
        return [c for c in self.calls if text[:50] in c.path or text[:50] in c.query]


@pytest.fixture
def sandbox_calls(sandbox_url: str) -> Iterator[SandboxCalls]:
    calls = SandboxCalls()
    request_started.connect(calls.record, dispatch_uid="sandbox-calls")
    yield calls
    request_started.disconnect(dispatch_uid="sandbox-calls")


@pytest.fixture
def study(sandbox_url: str, sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory.study(study_description="CT Head")


SEARCH_MESSAGE = "Search with at most 200 characters (this search has 20000)."


def test_type_ahead_search(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    response = coordinator_client.get("/studies/assignees/", {"q": HUGE})
    assert SEARCH_MESSAGE in html(response)
    assert sandbox_calls.calls == []


def test_worklist_assignee_filter_type_ahead(
    coordinator_client: Any, sandbox_calls: SandboxCalls
) -> None:
    response = coordinator_client.get(
        "/studies/assignees/", {"for": "filter", "assignee_query": HUGE}, **HTMX
    )
    assert SEARCH_MESSAGE in html(response)
    assert sandbox_calls.calls == []


def test_worklist_filters(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    response = coordinator_client.get("/", {"q": HUGE, "assigned_to": HUGE, "assignee_query": HUGE})
    page = html(response)
    assert "Ensure this value has at most 200 characters (it has 20000)." in page
    assert SEARCH_MESSAGE in page
    assert sandbox_calls.to("/sandbox/v1/viewer/users") == []
    # The list is still shown, without the filters that were refused.
    assert sandbox_calls.carrying(HUGE) == []
    assert all("studyDescription" not in c.query for c in sandbox_calls.calls)


def test_quick_create_assignee_search(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    home = html(coordinator_client.get("/", **HTMX, HTTP_HX_TARGET="worklist"))
    sandbox_calls.calls.clear()
    response = coordinator_client.post(
        "/",
        {
            "quick-token": input_value(home, "quick-token") or str(uuid.uuid4()),
            "quick-assignee_query": HUGE,
            "action": "search_assignee",
        },
        **HTMX,
    )
    assert SEARCH_MESSAGE in html(response)
    assert sandbox_calls.calls == []


def test_create_form_prefilled_from_the_query_string(
    coordinator_client: Any, sandbox_calls: SandboxCalls
) -> None:
    response = coordinator_client.get("/studies/new/", {"assignee_query": HUGE})
    assert SEARCH_MESSAGE in html(response)
    assert sandbox_calls.to("/sandbox/v1/viewer/users") == []


def test_create_form_fields(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    response = coordinator_client.post(
        "/studies/new/",
        create_form_data(
            [("ward", "v" * (METADATA_VALUE_MAX_LENGTH + 1))],
            study_description="D" * (DESCRIPTION_MAX_LENGTH + 1),
            study_instance_uid=HUGE_UID,
            assignee_query=HUGE,
            action="create",
        ),
    )
    page = html(response)
    assert f"A study description has at most {DESCRIPTION_MAX_LENGTH} characters" in page
    assert "A Study Instance UID has at most 64 characters; this one has 302." in page
    assert f"at most {METADATA_VALUE_MAX_LENGTH}" in page
    assert SEARCH_MESSAGE in page
    assert sandbox_calls.to("/sandbox/v1/viewer/studies", method="POST") == []
    assert sandbox_calls.to("/sandbox/v1/viewer/users") == []


def test_edit_form_fields(coordinator_client: Any, sandbox_calls: SandboxCalls, study: Any) -> None:
    edit = html(coordinator_client.get(f"/studies/{study.study_id}/edit/"))
    response = coordinator_client.post(
        f"/studies/{study.study_id}/edit/",
        edit_form_data(
            input_value(edit, "original") or "",
            study_description="D" * (DESCRIPTION_MAX_LENGTH + 1),
            assignee_query=HUGE,
            action="save",
        ),
    )
    page = html(response)
    assert f"A study description has at most {DESCRIPTION_MAX_LENGTH} characters" in page
    assert SEARCH_MESSAGE in page
    assert sandbox_calls.to("/sandbox/v1/viewer/studies", method="PATCH") == []
    assert sandbox_calls.to("/sandbox/v1/viewer/users") == []


def test_uid_look_up_box(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    response = coordinator_client.get("/studies/lookup/", {"uid": HUGE_UID})
    assert response.status_code == 404
    assert "A Study Instance UID has at most 64 characters" in html(response)
    assert sandbox_calls.calls == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"/studies/by-uid/{HUGE_UID}/", "A Study Instance UID has at most 64 characters"),
        (f"/studies/stu_{'a' * 500}/", "This is not a study address Viewer Admin knows."),
        (f"/studies/stu_{'a' * 500}/edit/", "This is not a study address Viewer Admin knows."),
        (f"/studies/stu_{'a' * 500}/cancel/", "This is not a study address Viewer Admin knows."),
    ],
)
def test_path_parameters(
    coordinator_client: Any, sandbox_calls: SandboxCalls, path: str, message: str
) -> None:
    response = coordinator_client.get(path)
    assert response.status_code == 404
    assert message in html(response)
    assert sandbox_calls.calls == []


def test_row_id_in_the_path(coordinator_client: Any, sandbox_calls: SandboxCalls) -> None:
    response = coordinator_client.post(f"/studies/unsent/{'9' * 40}/retry/")
    assert response.status_code == 404
    assert "Page not found" in html(response)
    assert sandbox_calls.calls == []
