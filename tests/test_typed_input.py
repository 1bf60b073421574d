"""What the coordinator typed is what gets created (issue 18), through the views and the
sandbox over HTTP: an assignee searched for but not chosen, Enter with a search pending, the
success message, the unsent page's names, History's values, local mode's DEBUG."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import SandboxStudy
from studies.models import AuditEntry, Submission
from tests.conftest import SandboxFaults
from tests.fresh_settings import settings_output
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def patels(sandbox_factory: SandboxFactory, sandbox_url: str) -> dict[str, Any]:
    return {
        "nikhil": sandbox_factory.user(
            first_name="Nikhil", last_name="Patel", email="nikhil.patel@clinic.example"
        ),
        "priya": sandbox_factory.user(first_name="Priya", last_name="Patel"),
    }


def create_data(client: Client, **values: str) -> dict[str, str]:
    page = html(client.get("/studies/new/"))
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    return {
        "token": token,
        "severity": "normal",
        "study_description": "MRI Knee",
        "study_instance_uid": random_uid(),
        "assignee_query": "",
        "assigned_to": "",
        "express_customer_id": "",
        "metadata-TOTAL_FORMS": "0",
        "metadata-INITIAL_FORMS": "0",
        **values,
    }


@pytest.mark.parametrize("typed", ["Nikhil Patel", "nikhil  PATEL", "NIKHIL.patel@clinic.example"])
def test_the_one_user_with_the_typed_name_or_email_is_chosen_and_named(
    coordinator_client: Client, patels: dict[str, Any], typed: str
) -> None:
    data = create_data(coordinator_client, assignee_query=typed)
    response = coordinator_client.post("/studies/new/", data, follow=True)
    study = SandboxStudy.objects.get()
    assert study.assigned_to_id == patels["nikhil"].user_id
    named = " ".join(typed.split())
    expected = f"Study created: MRI Knee, assigned to Nikhil Patel (the one user named “{named}”)."
    assert expected in html(response)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Patel", "2 users match “Patel”, none of them by the whole name"),
        ("Nobody Here", "No user matches “Nobody Here”: search again"),
        ("nikhil.patel@clinic", "No user matches “nikhil.patel@clinic”"),
    ],
)
def test_several_or_no_matches_bring_the_form_back_with_a_message_at_the_assignee(
    coordinator_client: Client, patels: dict[str, Any], typed: str, message: str
) -> None:
    data = create_data(coordinator_client, assignee_query=typed)
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert message in page
    assert "or clear the search to leave the study unassigned." in page
    assert 'value="MRI Knee"' in page
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.count() == 0


def test_a_chosen_user_wins_over_the_search_text(
    coordinator_client: Client, patels: dict[str, Any]
) -> None:
    data = create_data(
        coordinator_client, assignee_query="Patel", assigned_to=patels["priya"].user_id
    )
    response = coordinator_client.post("/studies/new/", data, follow=True)
    assert SandboxStudy.objects.get().assigned_to_id == patels["priya"].user_id
    assert "Study created: MRI Knee, assigned to Priya Patel." in html(response)


def test_no_search_text_creates_unassigned_and_says_so(
    coordinator_client: Client, patels: dict[str, Any]
) -> None:
    response = coordinator_client.post(
        "/studies/new/", create_data(coordinator_client), follow=True
    )
    assert SandboxStudy.objects.get().assigned_to_id is None
    assert "Study created: MRI Knee, unassigned." in html(response)


def test_enter_with_a_search_pending_searches_and_sends_nothing(
    coordinator_client: Client, patels: dict[str, Any]
) -> None:
    data = create_data(coordinator_client, assignee_query="Nikhil Patel", action="enter")
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert "1 user matches “Nikhil Patel”." in page
    assert "errorlist" not in page  # a search, not a failed submission
    assert Submission.objects.count() == 0

    quick = {
        "quick-token": data["token"],
        "quick-severity": "normal",
        "quick-study_description": "CT quick",
        "quick-study_instance_uid": random_uid(),
        "quick-assignee_query": "Patel",
        "quick-assigned_to": "",
        "action": "enter",
    }
    response = coordinator_client.post("/", quick, HTTP_HX_REQUEST="true")
    assert "2 users match “Patel”." in html(response)
    assert Submission.objects.count() == 0


def test_edit_keeps_the_current_assignee_unless_the_search_names_another(
    coordinator_client: Client, patels: dict[str, Any], sandbox_factory: SandboxFactory
) -> None:
    study = sandbox_factory.study(severity="normal", assigned_to=patels["priya"])
    url = f"/studies/{study.study_id}/edit/"
    page = html(coordinator_client.get(url))
    original = page.split('name="original" value="', 1)[1].split('"', 1)[0]
    data = {
        "original": original,
        "severity": "high",
        "study_description": study.study_description,
        "study_viewer_status": "incomplete",
        "assignee_query": "Nikhil",  # finds someone else, not by the whole name
        "assigned_to": patels["priya"].user_id,
        "metadata-TOTAL_FORMS": "0",
        "metadata-INITIAL_FORMS": "0",
    }
    response = coordinator_client.post(url, data)
    assert "or clear the search to keep the current assignee." in html(response)
    study.refresh_from_db()
    assert study.severity == "normal"

    data["assignee_query"] = "Nikhil Patel"
    assert coordinator_client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert (study.severity, study.assigned_to_id) == ("high", patels["nikhil"].user_id)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE)
    assert entry.changes == [
        {"field": "severity", "old": "Normal", "new": "High"},
        {"field": "assigned_to", "old": "Priya Patel", "new": "Nikhil Patel"},
    ]


def test_the_unsent_page_names_the_assignee_and_customer(
    coordinator_client: Client,
    patels: dict[str, Any],
    sandbox_factory: SandboxFactory,
    sandbox_faults: SandboxFaults,
) -> None:
    customer = sandbox_factory.customer(name="Harbor Clinic")
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="POST")
    data = create_data(
        coordinator_client,
        assigned_to=patels["nikhil"].user_id,
        express_customer_id=customer.customer_id,
    )
    failed = html(coordinator_client.post("/studies/new/", data))
    assert 'href="/studies/unsent/">See the unsent studies</a>' in failed
    assert "What you entered is kept" in failed
    page = html(coordinator_client.get("/studies/unsent/"))
    assert "Nikhil Patel" in page
    assert "Harbor Clinic" in page
    assert patels["nikhil"].user_id not in page
    assert customer.customer_id not in page


def test_local_mode_runs_without_debug_unless_asked() -> None:
    assert settings_output("settings.DEBUG", cleared=["DJANGO_DEBUG"]) == "False"
    assert settings_output("settings.DEBUG", DJANGO_DEBUG="true") == "True"
