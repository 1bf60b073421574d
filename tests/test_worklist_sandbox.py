"""The worklist and its quick-create against the sandbox served by the live server: the filters
select what the contract says, the sandbox's own cursor pages, and quick-create goes through
the one create code path (tokens, duplicates, outages)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxStudy, now_ms
from studies.models import Submission
from tests.conftest import SandboxFaults
from tests.form_data import quick_create_data

pytestmark = pytest.mark.django_db(transaction=True)


def descriptions(html: str) -> list[str]:
    return re.findall(r'class="worklist-desc"><a href="[^"]+">([^<]+)</a>', html)


@pytest.fixture
def seeded(sandbox_url: str, sandbox_factory: SandboxFactory) -> dict[str, Any]:
    lee = sandbox_factory.user(first_name="Ann", last_name="Lee")
    lakeside = sandbox_factory.customer(name="Lakeside Imaging", members=[lee])
    start = now_ms()

    def study(minutes: int, description: str, **fields: Any) -> None:
        sandbox_factory.study(
            study_description=description, created_at=start - timedelta(minutes=minutes), **fields
        )

    study(1, "STAT unassigned", severity="stat")
    study(2, "High for Lee", severity="high", assigned_to=lee)
    study(3, "Lakeside normal", express_customer=lakeside)
    study(4, "Cancelled stat", severity="stat", is_cancelled=True)
    study(5, "Complete for Lee", assigned_to=lee, study_viewer_status="complete")
    return {"lee": lee, "lakeside": lakeside}


FILTERS = [
    ("", ["STAT unassigned", "High for Lee", "Lakeside normal", "Complete for Lee"]),
    ("?severity=stat", ["STAT unassigned"]),
    ("?status=complete", ["Complete for Lee"]),
    ("?cancelled=cancelled", ["Cancelled stat"]),
    (
        "?cancelled=all",
        [
            "STAT unassigned",
            "High for Lee",
            "Lakeside normal",
            "Cancelled stat",
            "Complete for Lee",
        ],
    ),
    ("?assigned_to=unassigned", ["STAT unassigned", "Lakeside normal"]),
    ("?customer=none", ["STAT unassigned", "High for Lee", "Complete for Lee"]),
    ("?q=LEE", ["High for Lee", "Complete for Lee"]),
    ("?severity=stat&cancelled=all&assigned_to=unassigned", ["STAT unassigned", "Cancelled stat"]),
]


def test_filters_select_what_the_contract_says(
    coordinator_client: Any, seeded: dict[str, Any]
) -> None:
    """End to end, on one seeded sandbox (test_worklist.py checks each filter's query)."""
    for query, expected in FILTERS:
        response = coordinator_client.get(reverse("home") + query)
        assert response.status_code == 200
        assert descriptions(response.content.decode()) == expected, query


def test_filter_by_user_and_by_customer(coordinator_client: Any, seeded: dict[str, Any]) -> None:
    lee = seeded["lee"]
    html = coordinator_client.get(f"/?assigned_to={lee.user_id}").content.decode()
    assert descriptions(html) == ["High for Lee", "Complete for Lee"]
    assert "Ann Lee" in html
    customer = seeded["lakeside"].customer_id
    html = coordinator_client.get(f"/?customer={customer}").content.decode()
    assert descriptions(html) == ["Lakeside normal"]
    assert f'<option value="{customer}" selected>Lakeside Imaging</option>' in html


# --- Quick-create ------------------------------------------------------------------------------


HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "quick-create"}


def test_quick_create_over_htmx_answers_the_cleared_form_and_the_new_row(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    lee = sandbox_factory.user(first_name="Ann", last_name="Lee", suffix1="MD")
    data = quick_create_data(assigned_to=lee.user_id)
    response = coordinator_client.post(reverse("home"), data, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    study = SandboxStudy.objects.get(study_instance_uid=data["quick-study_instance_uid"])
    assert study.severity == "high"
    assert study.assigned_to_id == lee.user_id
    assert html.lstrip().startswith('<section id="quick-create"')
    assert "data-created" in html
    assert f'Study created: <a href="/studies/{study.study_id}/">CT Chest quick</a>' in html
    assert '<tbody hx-swap-oob="afterbegin:#worklist-rows">' in html
    assert f'<tr class="worklist-row is-new" data-study-id="{study.study_id}"' in html
    assert "Ann Lee, MD" in html
    assert data["quick-token"] not in html  # a fresh form, with a fresh token
    assert data["quick-study_instance_uid"] in html  # only in the row
    assert 'value="CT Chest quick"' not in html
    submission = Submission.objects.get(token=data["quick-token"])
    assert submission.status == Submission.Status.CREATED
    assert submission.study_id == study.study_id


def test_the_same_form_sent_twice_creates_one_study(
    coordinator_client: Any, sandbox_url: str
) -> None:
    data = quick_create_data()
    coordinator_client.post(reverse("home"), data, **HTMX)
    again = coordinator_client.post(reverse("home"), data, **HTMX)
    assert again.status_code == 200
    html = again.content.decode()
    assert "This form had already been sent" in html
    assert 'hx-swap-oob="afterbegin' not in html  # no new row; only the Unsent count
    assert SandboxStudy.objects.count() == 1
    study = SandboxStudy.objects.get()
    assert f'href="/studies/{study.study_id}/"' in html

    plain = coordinator_client.post(reverse("home"), data)
    assert plain.status_code == 302
    assert plain["Location"] == f"/studies/{study.study_id}/"
    assert SandboxStudy.objects.count() == 1


def test_invalid_input_comes_back_in_place_with_the_input_kept(
    coordinator_client: Any, sandbox_url: str
) -> None:
    data = quick_create_data(study_instance_uid="1.02.3", study_description="Knee MRI")
    response = coordinator_client.post(reverse("home"), data, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="quick-create"')
    assert "Component 2 (02) starts with a zero" in html
    assert 'value="1.02.3"' in html
    assert 'value="Knee MRI"' in html
    assert '<option value="high" selected>High</option>' in html
    assert data["quick-token"] in html  # same form, same token
    assert 'hx-swap-oob="afterbegin' not in html  # no new row; only the Unsent count
    assert "worklist-results" not in html
    assert SandboxStudy.objects.count() == 0


def test_a_duplicate_uid_names_the_existing_study(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    existing = sandbox_factory.study(study_description="First")
    data = quick_create_data(study_instance_uid=existing.study_instance_uid)
    html = coordinator_client.post(reverse("home"), data, **HTMX).content.decode()
    assert "A study with this Study Instance UID already exists." in html
    assert f'<a href="/studies/{existing.study_id}/">Open the existing study: First</a>' in html
    assert SandboxStudy.objects.count() == 1


def test_api_unavailable_keeps_the_input_and_saves_the_attempt(
    coordinator_client: Any, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="POST", count=5)
    data = quick_create_data(study_description="Sent during an outage")
    response = coordinator_client.post(reverse("home"), data, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "The study was not created." in html
    assert "saved as unsent" in html
    assert 'value="Sent during an outage"' in html
    assert data["quick-token"] in html
    submission = Submission.objects.get(token=data["quick-token"])
    assert submission.status == Submission.Status.UNSENT

    sandbox_faults.clear()
    retry = coordinator_client.post(reverse("home"), data, **HTMX)
    assert "Study created" in retry.content.decode()
    assert SandboxStudy.objects.filter(study_description="Sent during an outage").count() == 1


def test_without_javascript_success_redirects_to_the_detail_page(
    coordinator_client: Any, sandbox_url: str
) -> None:
    data = quick_create_data()
    response = coordinator_client.post(reverse("home") + "?severity=stat", data)
    study = SandboxStudy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.study_id}/"
    page = coordinator_client.get(response["Location"])
    assert "Study created: CT Chest quick, unassigned." in page.content.decode()


def test_without_javascript_errors_rerender_the_whole_page(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.study(study_description="Listed study", severity="stat")
    data = quick_create_data(study_description="")
    response = coordinator_client.post(reverse("home") + "?severity=stat", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a study description." in html
    assert "Listed study" in html  # the worklist, with its filters
    assert 'action="/?severity=stat"' in html


def test_more_options_carries_what_was_typed_to_the_full_form(
    coordinator_client: Any, sandbox_url: str
) -> None:
    data = quick_create_data(
        severity="stat",
        study_description="PET/CT",
        study_instance_uid="1.2.3",
        action="more",
    )
    expected = "/studies/new/?severity=stat&study_description=PET%2FCT&study_instance_uid=1.2.3"
    response = coordinator_client.post(reverse("home"), data, **HTMX)
    assert response["HX-Redirect"] == expected
    plain = coordinator_client.post(reverse("home"), data)
    assert plain.status_code == 302
    assert plain["Location"] == expected
    full = coordinator_client.get(expected).content.decode()
    assert 'value="PET/CT"' in full
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.count() == 0


def test_assignee_search_without_javascript_shows_the_matches(
    coordinator_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.user(first_name="Priya", last_name="Raman", suffix1="MD")
    data = quick_create_data(
        assignee_query="Raman", action="search_assignee", study_description="X"
    )
    response = coordinator_client.post(reverse("home"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Priya Raman, MD" in html
    assert 'value="X"' in html
    assert "Enter a study" not in html  # a search, not a submission
    assert SandboxStudy.objects.count() == 0


def test_assignee_filter_type_ahead_answers_users_only(
    observer_client: Any, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    user = sandbox_factory.user(first_name="Priya", last_name="Raman")
    response = observer_client.get(
        "/studies/assignees/?for=filter&assignee_query=raman&assigned_to=unassigned",
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert f'name="assigned_to" value="{user.user_id}"' in html
    assert 'name="assigned_to" value="unassigned" checked' in html
    assert "Nobody" not in html
    assert "worklist-row" not in html
    assert "<table" not in html


def test_observers_cannot_quick_create(observer_client: Any, sandbox_url: str) -> None:
    page = observer_client.get(reverse("home")).content.decode()
    assert "Quick create" not in page
    assert "quick-study_description" not in page
    for headers in ({}, HTMX):
        response = observer_client.post(reverse("home"), quick_create_data(), **headers)
        assert response.status_code == 403
    more = observer_client.post(reverse("home"), quick_create_data(action="more"))
    assert more.status_code == 403
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.count() == 0
